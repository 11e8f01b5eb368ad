"""The hash chain without the file: replay recomputes a run's WAL head to prove parity."""

from __future__ import annotations

import hashlib
from types import TracebackType

from scarline.events import Event
from scarline.journal.format import genesis, is_canonical, unappendable
from scarline.journal.record_encoder import RecordEncoder


class HashOnlyWal:
    """The ``append``/``head``/``next_seq`` of a :class:`WalWriter`, writing nothing.

    Feeding it the events a run wrote gives that run's WAL head, byte for byte.
    """

    __slots__ = ("_encode", "_h0", "_prev", "_seq")

    def __init__(self, run_id: str) -> None:
        self._encode = RecordEncoder().encode
        self._h0 = hashlib.blake2b(digest_size=32)
        self._prev = genesis(run_id)
        self._seq = 0

    def append(self, event: Event, ts: int) -> int:
        if not is_canonical(event) or type(ts) is not int:
            raise unappendable(event, ts)
        seq = self._seq
        h = self._h0.copy()
        canonical = self._encode(seq, ts, event)
        if len(canonical) < 1 << 16:
            h.update(self._prev + canonical)
        else:  # a whole population's batch record: no copy
            h.update(self._prev)
            h.update(canonical)
        self._prev = h.digest()
        self._seq = seq + 1
        return seq

    @property
    def head(self) -> str:
        return self._prev.hex()

    @property
    def next_seq(self) -> int:
        return self._seq

    def flush(self) -> None:
        """Nothing to flush; present so replay can use this wherever a writer goes."""

    def close(self) -> None:
        """Nothing to close; see :meth:`flush`."""

    def __enter__(self) -> HashOnlyWal:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

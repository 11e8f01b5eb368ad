"""Resuming a WAL after a crash: re-execute against it, then go on appending to it.

A crashed live session is rebuilt from its WAL alone: its kernel re-executes every recorded
input, and each record it journals must equal the WAL's record at that seq (compared by
chained hash, as replay does, so nothing is written twice). Once the WAL's records are used
up — mid-step, if the crash cut a step short — the kernel's further records are appended to
the same WAL by a :class:`~scarline.journal.writer.WalWriter` that resumed its seq and hash
chain, so the session continues one chain as if it had never stopped.
"""

from __future__ import annotations

from pathlib import Path

from scarline.errors import WalError
from scarline.events import Event
from scarline.journal.compare import ComparingWal
from scarline.journal.writer import WalWriter


class ResumingJournal:
    """Compares against the first ``writer.next_seq`` records of ``wal_dir``, then appends
    to ``writer``. A record that differs from the WAL's raises :class:`WalError` naming it:
    the session cannot be rebuilt from its WAL (different code or config)."""

    def __init__(self, wal_dir: Path, run_id: str, writer: WalWriter) -> None:
        self._writer = writer
        self._recorded = writer.next_seq
        self._compare: ComparingWal | None = None
        if self._recorded:
            self._compare = ComparingWal(wal_dir, run_id)

    @property
    def resumed(self) -> bool:
        """True once every recorded record has been re-executed (appending to the WAL)."""
        return self._compare is None

    @property
    def recorded(self) -> int:
        """Records the WAL held when the session resumed."""
        return self._recorded

    def append(self, event: Event, ts: int) -> int:
        compare = self._compare
        if compare is None:
            return self._writer.append(event, ts)
        seq = compare.append(event, ts)
        if compare.mismatch is not None:
            found = compare.mismatch
            compare.close()
            raise WalError(
                f"cannot resume: re-executing the WAL differs at {found.describe()} (was the "
                "run written by another scarline version or config?)"
            )
        if compare.compared == self._recorded:
            if compare.head != self._writer.head:  # the same records chain to the same head
                raise WalError("cannot resume: the re-executed chain ends at another head")
            compare.close()
            self._compare = None
        return seq

    @property
    def head(self) -> str:
        return self._writer.head if self._compare is None else self._compare.head

    def close(self) -> None:
        if self._compare is not None:
            self._compare.close()

"""A fold over a run's WAL kept current across requests: each request folds in only the
lines appended since the last one (see :mod:`.wal_tail`), so a panel over a WAL of
millions of records costs what the last few seconds added, not the whole log.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar, Generic, Protocol, TypeVar

from scarline.errors import ScarlineError
from scarline.journal import Record
from scarline.service.wal_tail import LineDecoder, TailLine, WalTail


class Fold(Protocol):
    """What a WAL is folded into, line by line."""

    def take(self, line: TailLine) -> None:
        """Fold one line in; raise :class:`~scarline.errors.WalError` to stop before it."""
        ...


class RecordFold:
    """A fold of the records of some kinds (:attr:`KINDS`), decoded as the journal's reader
    decodes them: an undecodable record of those kinds stops the fold there."""

    KINDS: ClassVar[frozenset[str]] = frozenset()

    def __init__(self) -> None:
        self._decode = LineDecoder()

    def take(self, line: TailLine) -> None:
        rec = self._decode.record(line, self.KINDS)
        if rec is not None:
            self.apply(rec)

    def apply(self, rec: Record) -> None:
        raise NotImplementedError


F = TypeVar("F", bound=Fold)
T = TypeVar("T")


class FoldedWal(Generic[F]):
    """The fold ``make()`` builds, over the WAL in ``wal_dir``; thread-safe."""

    def __init__(self, wal_dir: Path, make: Callable[[], F]) -> None:
        self._tail = WalTail(wal_dir)
        self._make = make
        self._fold = make()
        self._lock = threading.Lock()

    def read(
        self, answer: Callable[[F], T], *, tolerant: bool = False
    ) -> tuple[T, tuple[int, int]]:
        """``answer`` of the fold brought up to date, and the version it was taken at (which
        changes whenever a line is folded in or the fold starts afresh). Raises what the
        journal's reader would (a bad line, no WAL), after folding in the lines before it;
        ``tolerant`` answers with what was folded instead."""
        with self._lock:
            try:
                self._tail.advance(self._take, self._restart)
            except ScarlineError:
                if not tolerant:
                    raise
            return answer(self._fold), self._tail.version

    def _take(self, line: TailLine) -> None:
        self._fold.take(line)  # the fold of now: a restart replaces it mid-advance

    def _restart(self) -> None:
        self._fold = self._make()

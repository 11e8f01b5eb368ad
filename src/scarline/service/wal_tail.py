"""Reading a WAL's lines once each: every call hands over only what was appended since.

The writer only ever appends to the last segment and rotates to a new one (a sealed
segment never changes again); opening a WAL may cut a torn last line off. So a reader can
keep, per segment, the byte offset of the end of the last complete line it took, and read
from there: a partial last line (a writer mid-flush) is left for the next call. A segment
whose stat is unchanged is not even opened. Anything else — a segment gone, replaced
(another inode) or shorter than what was taken, one inserted before the last known, the
bytes just before the offset no longer those taken (a record rewritten in place: they end
with its chain hash) — starts the reader afresh, and its owner's fold with it. A segment
changed within the last two seconds is checked that way even when its stat is unchanged:
a record cut and another of the same length written within one tick of the file system's
clock leave the size and the mtime as they were (see :mod:`.stamps`).

Lines are checked as :func:`scarline.journal.read_records` checks them, with its messages.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import msgspec
import structlog

from scarline.errors import WalError
from scarline.events import AnyEvent, Event
from scarline.journal import Record
from scarline.journal.format import RawEnvelope
from scarline.journal.scan import MAX_LINE_BYTES
from scarline.journal.segments import list_segments
from scarline.service.stamps import Stamp, settled

_LINE = MAX_LINE_BYTES + 1
"""The longest line read, with its newline (as the journal's reader)."""
ANCHOR = 80
"""Bytes before a segment's offset checked on each read: the last line's ``h`` and more."""


class TailLine(NamedTuple):
    """One complete line: its segment, 1-based number, start offset and bytes (with ``\\n``)."""

    path: Path
    number: int
    offset: int
    raw: bytes


class _Taken:
    """What was taken of one segment."""

    __slots__ = (
        "anchor",
        "ino",
        "lines",
        "mtime_ns",
        "name",
        "offset",
        "partial",
        "read_at_ns",
        "size",
    )

    def __init__(self, name: str, ino: int) -> None:
        self.name, self.ino = name, ino
        self.offset = self.lines = 0
        self.size = self.mtime_ns = -1  # the stat when last read through (-1: never)
        self.read_at_ns = 0  # when
        self.partial = False  # it ended in a line without its newline then
        self.anchor = b""

    def took(self, line: bytes) -> None:
        self.offset += len(line)
        self.lines += 1
        self.anchor = line[-ANCHOR:] if len(line) >= ANCHOR else (self.anchor + line)[-ANCHOR:]


class _Restart(Exception):
    """The WAL is not the one taken so far: start afresh."""


class WalTail:
    """The lines of ``wal_dir`` not yet taken. Not thread-safe: its owner holds a lock."""

    def __init__(self, wal_dir: Path, now_ns: Callable[[], int] = time.time_ns) -> None:
        self.wal_dir = Path(wal_dir)
        self._now_ns = now_ns
        self.generation = 0
        """Counts restarts: a fold's state is of one generation."""
        self.lines = 0
        """Lines taken in this generation."""
        self._dir_ino: int | None = None
        self._taken: list[_Taken] = []

    @property
    def version(self) -> tuple[int, int]:
        """Changes whenever a line is taken or the reader restarts."""
        return self.generation, self.lines

    def advance(self, take: Callable[[TailLine], None], restart: Callable[[], None]) -> None:
        """Hand each complete line not yet taken to ``take``, in order; a line counts as
        taken once ``take`` returns. An exception from ``take`` stops here, that line
        untaken (the next call meets it again, as a full read would). ``restart`` is called
        first whenever the reader starts afresh. Raises :class:`WalError` as the journal's
        reader would: no WAL directory, a line too long, a segment cut before more follow."""
        try:
            self._advance(take)
        except _Restart:
            self._restart(restart)
            self._advance(take)  # from offset 0 everywhere: cannot restart again

    def _restart(self, restart: Callable[[], None]) -> None:
        self.generation += 1
        self.lines = 0
        self._dir_ino = None
        self._taken = []
        restart()

    def _advance(self, take: Callable[[TailLine], None]) -> None:
        try:
            st = os.stat(self.wal_dir)
        except OSError:
            st = None
        if st is None or not stat.S_ISDIR(st.st_mode):
            if self._dir_ino is not None or self._taken:
                raise _Restart  # it was there: what was taken is gone
            raise WalError(f"no WAL directory at {self.wal_dir}")
        if self._dir_ino is not None and st.st_ino != self._dir_ino:
            raise _Restart
        self._dir_ino = st.st_ino
        segments = list_segments(self.wal_dir)
        known = [t.name for t in self._taken]
        if [p.name for p in segments[: len(known)]] != known:
            raise _Restart
        for i, path in enumerate(segments):
            if i == len(self._taken):
                self._taken.append(_Taken(path.name, -1))
            self._read(path, self._taken[i], take, last=i == len(segments) - 1)

    def _read(
        self, path: Path, taken: _Taken, take: Callable[[TailLine], None], last: bool
    ) -> None:
        try:
            st = os.stat(path)
        except OSError:
            raise _Restart from None
        if taken.ino == -1:
            taken.ino = st.st_ino
        if st.st_ino != taken.ino or st.st_size < taken.offset:
            raise _Restart
        if (
            (st.st_size, st.st_mtime_ns) == (taken.size, taken.mtime_ns)
            and (last or not taken.partial)
            and settled((Stamp(st.st_size, st.st_mtime_ns, st.st_ino),), taken.read_at_ns)
        ):
            return  # nothing appended (nor cut and written again) since it was read through
        taken.partial = False
        read_at = self._now_ns()
        with path.open("rb") as f:
            if taken.offset:
                f.seek(taken.offset - len(taken.anchor))
                if f.read(len(taken.anchor)) != taken.anchor:
                    raise _Restart
            while line := f.readline(_LINE + 1):
                n = taken.lines + 1
                if len(line) > _LINE:
                    raise WalError(
                        f"{path}: line {n} at byte {taken.offset} is longer than the "
                        f"{_LINE - 1}-byte limit of a record"
                    )
                if line[-1:] != b"\n":
                    if not last:
                        raise WalError(f"{path}: line {n} has no newline but more segments follow")
                    structlog.get_logger("scarline.journal").warning(
                        "wal.torn_tail_skipped",
                        segment=path.name,
                        offset=taken.offset,
                        bytes=len(line),
                        line=n,
                    )
                    taken.partial = True
                    break
                take(TailLine(path, n, taken.offset, line))
                taken.took(line)
                self.lines += 1
        taken.size, taken.mtime_ns, taken.read_at_ns = st.st_size, st.st_mtime_ns, read_at


class LineDecoder:
    """A line's envelope and event, with the journal reader's checks and messages."""

    def __init__(self) -> None:
        self._envelope = msgspec.json.Decoder(RawEnvelope).decode
        self._event = msgspec.json.Decoder(AnyEvent).decode

    def envelope(self, line: TailLine) -> RawEnvelope:
        try:
            env: RawEnvelope = self._envelope(line.raw)
        except ValueError as err:  # msgspec.DecodeError, ValidationError, bad UTF-8
            raise WalError(f"{line.path}: line {line.number}: {err}") from None
        return env

    def event(self, line: TailLine, env: RawEnvelope) -> Event:
        try:
            data: Event = self._event(env.data)
        except ValueError as err:
            raise WalError(f"{line.path}: line {line.number} (seq {env.seq}): {err}") from None
        if type(data).__name__ != env.kind:
            found = type(data).__name__
            raise WalError(
                f"{line.path}: line {line.number} (seq {env.seq}): kind {env.kind!r}, data {found}"
            )
        return data

    def record(self, line: TailLine, kinds: frozenset[str]) -> Record | None:
        """The line's record when its kind is one of ``kinds``, else None."""
        env = self.envelope(line)
        if env.kind not in kinds:
            return None
        return Record(env.seq, env.ts, env.kind, self.event(line, env), line.path.name)

"""Where a ``/decisions`` page can start reading, so a page deep in a long WAL does not
re-read everything before it.

A page starts at ``cursor`` (a seq) and lists decisions at steps ``>= since``. Read from the
top, every line before the first one listed is skipped: its seq is below the cursor, or it
holds no decision at ``since`` or later. The index keeps, every :data:`MARK_LINES` lines
or :data:`MARK_BYTES` bytes of each segment, a mark: the line start and the largest seq and
decision step of the lines before it. Reading may begin at the last mark before which every
line would be skipped — all seqs below the cursor, or all steps below ``since`` — and gives
the page a read from the top gives, errors included: a mark is never set past a line the
reader would reject, and a record that fails to decode ends the segment's marks. Marks are
thinned (every other one dropped, the spacing doubled) to stay under :data:`MAX_MARKS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from scarline.errors import WalError
from scarline.events import Decision, QuietRun
from scarline.journal.reader import FIRST_SEQ_BYTES, Position, first_seq, start_segment
from scarline.journal.segments import seq_of
from scarline.service.wal_tail import LineDecoder, TailLine

MARK_LINES = 1024
MARK_BYTES = 1 << 20
MAX_MARKS = 8192
"""Marks kept over all segments at most (a few hundred KiB)."""
DECIDING = frozenset(("Decision", "QuietRun"))


class Mark(NamedTuple):
    """A line start, with the largest seq and decision step of the segment's lines before it
    (-1: none)."""

    offset: int
    line: int
    max_seq: int
    max_step: int


@dataclass
class _Segment:
    first_seq: int | None
    marks: list[Mark] = field(default_factory=list)
    max_seq: int = -1
    max_step: int = -1
    clean: bool = True  # every Decision / QuietRun record in it decoded
    since_mark: int = 0  # lines since the last mark
    bytes_since_mark: int = 0


class DecisionIndex:
    """Marks of the WAL's lines, folded in by a :class:`~.wal_fold.FoldedWal`."""

    def __init__(self) -> None:
        self._decode = LineDecoder()
        self._segments: dict[str, _Segment] = {}
        self._stride = 1  # take every stride-th mark due
        self._due = 0
        self._marks = 0

    def take(self, line: TailLine) -> None:
        name = line.path.name
        seg = self._segments.get(name)
        if seg is None:
            seg = self._segments[name] = _Segment(seq_of(line.raw[:FIRST_SEQ_BYTES]))
        if not seg.clean:
            return
        env = self._decode.envelope(line)  # a bad line: the tail stops before it
        step = -1
        if env.kind in DECIDING:
            try:
                data = self._decode.event(line, env)
            except WalError:
                seg.clean = False  # read from a mark before it, a page meets it as before
                return
            held = data.events if isinstance(data, QuietRun) else [data]
            step = max((e.step for e in held if isinstance(e, Decision)), default=-1)
        seg.max_seq = max(seg.max_seq, env.seq)
        seg.max_step = max(seg.max_step, step)
        seg.since_mark += 1
        seg.bytes_since_mark += len(line.raw)
        if seg.since_mark >= MARK_LINES or seg.bytes_since_mark >= MARK_BYTES:
            seg.since_mark = seg.bytes_since_mark = 0
            self._due += 1
            if self._due % self._stride == 0:
                end = line.offset + len(line.raw)
                seg.marks.append(Mark(end, line.number, seg.max_seq, seg.max_step))
                self._marks += 1
                if self._marks > MAX_MARKS:
                    self._thin()

    def _thin(self) -> None:
        for seg in self._segments.values():
            seg.marks = seg.marks[1::2]
        self._marks = sum(len(s.marks) for s in self._segments.values())
        self._stride *= 2

    def start(self, segments: list[Path], cursor: int | None, since: int | None) -> Position | None:
        """Where a page of ``/decisions`` can begin reading ``segments`` (the WAL's listing
        when the index was brought up to date); None: where the journal's reader would."""
        if cursor is None and since is None:
            return None

        def skipped(max_seq: int, max_step: int) -> bool:
            return (cursor is not None and max_seq < cursor) or (
                since is not None and max_step < since
            )

        if not segments:
            return None
        first = 0 if cursor is None else self._first_segment(segments, cursor)
        best = Position(segments[first].name, 0, 0)  # where the journal's reader begins
        top_seq = top_step = -1  # over the lines passed, from the first segment read
        for i in range(first, len(segments)):
            seg = self._segments.get(segments[i].name)
            if seg is None:
                break
            for mark in seg.marks:
                if not skipped(max(top_seq, mark.max_seq), max(top_step, mark.max_step)):
                    break
                best = Position(segments[i].name, mark.offset, mark.line)
            after = segments[i + 1].name if i + 1 < len(segments) else None
            top_seq, top_step = max(top_seq, seg.max_seq), max(top_step, seg.max_step)
            # the next segment begun means this one was folded in whole
            if after is None or after not in self._segments or not seg.clean:
                break
            if not skipped(top_seq, top_step):
                break
            best = Position(after, 0, 0)
        return best

    def _first_segment(self, segments: list[Path], seq_from: int) -> int:
        """The segment the journal's reader starts ``seq_from`` in (the last whose first
        seq is at most ``seq_from``), from the first seqs seen, else read as it reads them."""

        def first(path: Path) -> int | None:
            seg = self._segments.get(path.name)
            return first_seq(path) if seg is None else seg.first_seq

        return start_segment(segments, seq_from, first)

"""Reading records back: filter on the envelope first, decode the event only for kept records."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import NamedTuple

import msgspec
import structlog

from scarline.errors import WalError
from scarline.events import AnyEvent, Event
from scarline.journal.format import SEQ_OPEN, RawEnvelope
from scarline.journal.scan import MAX_LINE_BYTES
from scarline.journal.segments import list_segments, require_wal_dir, seq_of

_LINE = MAX_LINE_BYTES + 1
"""The longest line read, with its newline: a record of :data:`MAX_LINE_BYTES` and ``\\n``."""


class Record(msgspec.Struct, frozen=True):
    """One WAL record as read: envelope fields, the decoded event and the segment it came from."""

    seq: int
    ts: int
    kind: str
    data: Event
    segment: str


class Position(NamedTuple):
    """A line start in a segment: its byte ``offset`` and the number of lines before it."""

    segment: str
    offset: int
    line: int


def read_records(
    wal_dir: Path,
    *,
    kinds: Collection[str] | None = None,
    seq_from: int | None = None,
    seq_to: int | None = None,
    ts_from: int | None = None,
    ts_to: int | None = None,
    limit: int | None = None,
    start: Position | None = None,
) -> Iterator[Record]:
    """Records of ``wal_dir`` in seq order, filtered (bounds inclusive), at most ``limit`` of them.

    Read-only and unverified (``verify`` checks the chain). An unterminated last line (a torn
    tail, or a writer mid-flush) is skipped with a warning; any other unreadable line raises
    :class:`WalError` naming the file and line.

    ``start`` begins at a line the caller knows (an index of the log, such as the service
    keeps) instead of at the first segment ``seq_from`` can be in; the lines it passes over
    must be ones the filters would skip. Ignored when its segment is not listed.
    """
    path = require_wal_dir(wal_dir)
    segments = list_segments(path)
    names = [p.name for p in segments]
    begin = (0, 0)
    if start is not None and start.segment in names:
        segments = segments[names.index(start.segment) :]
        begin = (start.offset, start.line)
    elif seq_from is not None:
        segments = segments[start_segment(segments, seq_from) :]
    wanted = None if kinds is None else frozenset(kinds)
    return _records(segments, wanted, seq_from, seq_to, ts_from, ts_to, limit, begin)


def _records(
    segments: list[Path],
    kinds: frozenset[str] | None,
    seq_from: int | None,
    seq_to: int | None,
    ts_from: int | None,
    ts_to: int | None,
    limit: int | None,
    begin: tuple[int, int] = (0, 0),
) -> Iterator[Record]:
    envelope = msgspec.json.Decoder(RawEnvelope).decode
    event = msgspec.json.Decoder(AnyEvent).decode
    left = -1 if limit is None else limit
    if left == 0:
        return
    last = segments[-1] if segments else None
    for path in segments:
        name = path.name
        with path.open("rb") as f:
            offset, lines_before = begin
            if offset:
                f.seek(offset)
            begin = (0, 0)  # only the first segment starts inside
            lines = iter(lambda: f.readline(_LINE + 1), b"")
            for n, line in enumerate(lines, lines_before + 1):
                if len(line) > _LINE:  # never held whole (a file grown without lines)
                    raise WalError(
                        f"{path}: line {n} at byte {offset} is longer than the "
                        f"{_LINE - 1}-byte limit of a record"
                    )
                if line[-1:] != b"\n":
                    if path != last:
                        raise WalError(f"{path}: line {n} has no newline but more segments follow")
                    structlog.get_logger("scarline.journal").warning(
                        "wal.torn_tail_skipped",
                        segment=name,
                        offset=offset,
                        bytes=len(line),
                        line=n,
                    )
                    return
                offset += len(line)
                try:
                    env = envelope(line)
                except ValueError as err:  # msgspec.DecodeError, ValidationError, bad UTF-8
                    raise WalError(f"{path}: line {n}: {err}") from None
                seq = env.seq
                if seq_from is not None and seq < seq_from:
                    continue
                if seq_to is not None and seq > seq_to:
                    return
                if kinds is not None and env.kind not in kinds:
                    continue
                ts = env.ts
                if (ts_from is not None and ts < ts_from) or (ts_to is not None and ts > ts_to):
                    continue
                try:
                    data = event(env.data)
                except ValueError as err:  # msgspec.DecodeError, ValidationError, bad UTF-8
                    raise WalError(f"{path}: line {n} (seq {seq}): {err}") from None
                if type(data).__name__ != env.kind:
                    found = type(data).__name__
                    raise WalError(f"{path}: line {n} (seq {seq}): kind {env.kind!r}, data {found}")
                yield Record(seq, ts, env.kind, data, name)
                left -= 1
                if left == 0:
                    return


FIRST_SEQ_BYTES = len(SEQ_OPEN) + 21
"""A line's first bytes that hold its seq (``{"seq":`` and up to 21 digits)."""


def first_seq(path: Path) -> int | None:
    """The seq of segment ``path``'s first record (None: none readable there)."""
    with path.open("rb") as f:
        return seq_of(f.read(FIRST_SEQ_BYTES))


def start_segment(
    segments: list[Path], seq_from: int, first: Callable[[Path], int | None] = first_seq
) -> int:
    """Index of the last segment starting at or before ``seq_from`` (earlier: lower seqs);
    ``first`` gives a segment's first seq (a caller may know it already)."""
    start = 0
    for i, path in enumerate(segments):
        seq = first(path)
        if seq is None:
            continue
        if seq > seq_from:
            break
        start = i
    return start

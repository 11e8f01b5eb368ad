"""Checking a WAL on raw bytes: line framing, the hash chain and seq continuity.

The hot loop only hashes: per chunk of lines it chains the digests, then proves the stored
``h`` tails and the ``{"seq":N,`` prefixes right with one bytes comparison each. Only a chunk
that fails (or straddles a change in seq width) is re-checked line by line, which names the
first bad record and why. Never decodes JSON on the good path.
"""

from __future__ import annotations

import hashlib
from binascii import hexlify
from collections.abc import Iterator
from dataclasses import dataclass
from io import FileIO
from operator import itemgetter
from pathlib import Path

import msgspec

from scarline.journal.format import (
    H_CLOSE,
    H_OPEN,
    SEQ_OPEN,
    TAIL,
    canonical_of,
    genesis,
    segment_name,
)
from scarline.journal.segments import list_segments, segment_index, seq_of

CHUNK = 1 << 16
"""Bytes read per step: small enough to stay in cache, large enough to amortise the bulk checks."""

MAX_LINE_BYTES = 256 * 2**20
"""Longest line a scan holds in memory (256 MiB). A record at N = 4096 agents is ~60 KB, so
no writer comes near it; but a segment without newlines (grown by ``truncate``, a disk's
zeros) would otherwise be joined into one line as large as the file. A longer line is bad
(named by its byte offset) or, unterminated at the end, torn, and is never held whole.
At least :data:`CHUNK`: only lines spanning chunks are measured."""

_SKIP = 1 << 20
"""Bytes read per step while looking for the end of an over-long line (only discarded)."""

_TAILS = itemgetter(slice(-TAIL, None))
_H_SEP = H_CLOSE + H_OPEN


class BadRecord(msgspec.Struct, frozen=True):
    """The first failing record: segment file, the seq it has or should have, 1-based line."""

    segment: str
    seq: int
    line: int
    reason: str


@dataclass(frozen=True)
class Scan:
    """What a full check of a WAL found; the good prefix is everything before ``bad``."""

    segments: list[Path]
    records: int
    """Good records before ``bad`` (all records when nothing is bad); also the next seq."""
    head: bytes
    """``h`` of the last good record (the genesis hash when there is none)."""
    last_lines: int
    """Good lines in the last segment scanned."""
    bad: BadRecord | None = None
    bad_offset: int = 0
    """Byte offset of the bad line within its segment."""
    bad_is_tail: bool = False
    """The bad line is the last line of the last segment: a torn tail, safe to truncate."""
    foreign_run: str | None = None
    """Run id named by the first record when it is not the run being checked."""


@dataclass(frozen=True)
class _Bad:
    line: int
    seq: int
    reason: str
    offset: int
    end: int
    text: bytes


def scan(wal_dir: Path, run_id: str) -> Scan:
    """Check every segment of ``wal_dir`` in order; stop at the first bad record."""
    segments = list_segments(wal_dir)
    prev = genesis(run_id)
    seq = lines = 0
    for k, path in enumerate(segments):
        prev, seq, lines, bad, size = _scan_segment(path, prev, seq)
        if bad is not None:
            foreign = _foreign_run(bad, run_id)
            reason = bad.reason
            if foreign is not None:
                reason += f": the WAL belongs to run {foreign!r}, not {run_id!r}"
            elif bad.line == 1:
                reason += _missing_before(segments, k)
            return Scan(
                segments=segments,
                records=seq,
                head=prev,
                last_lines=lines,
                bad=BadRecord(segment=path.name, seq=bad.seq, line=bad.line, reason=reason),
                bad_offset=bad.offset,
                bad_is_tail=k == len(segments) - 1 and bad.end >= size,
                foreign_run=foreign,
            )
    return Scan(segments=segments, records=seq, head=prev, last_lines=lines)


def _missing_before(segments: list[Path], k: int) -> str:
    """Why segment ``k``'s first record does not chain on, when a segment file is missing
    before it: the writer numbers them one by one, so a gap is a deleted segment ("" else)."""
    index = segment_index(segments[k])
    expected = segment_index(segments[k - 1]) + 1 if k else 0
    if index == expected:
        return ""
    if k == 0:
        return f": segment {segment_name(0)} is missing (the WAL starts at {segments[0].name})"
    return (
        f": segment {segment_name(expected)} is missing ({segments[k - 1].name} is followed "
        f"by {segments[k].name})"
    )


def _scan_segment(path: Path, prev: bytes, seq: int) -> tuple[bytes, int, int, _Bad | None, int]:
    """Check one segment from chain state ``(prev, seq)``; returns the state after its good part."""
    lines_done = 0
    with path.open("rb", buffering=0) as f:
        size = f.seek(0, 2)
        f.seek(0)
        try:
            for offset, lines, complete in _line_chunks(f):
                if not complete:
                    reason = "line has no newline (torn write)"
                    bad = _Bad(lines_done + 1, seq, reason, offset, size, lines[0])
                    return prev, seq, lines_done, bad, size
                after = _chunk_ok(lines, prev, seq)
                if after is None:
                    after, i, reason = _first_bad(lines, prev, seq)
                    if i is not None:
                        bad = _bad_line(lines, i, offset, lines_done + i + 1, seq + i, reason)
                        return after, seq + i, lines_done + i, bad, size
                prev = after
                seq += len(lines)
                lines_done += len(lines)
        except LineTooLongError as long:
            end = long.offset + long.length + 1
            bad = _Bad(lines_done + 1, seq, str(long), long.offset, end, b"")
            return prev, seq, lines_done, bad, size
    return prev, seq, lines_done, None, size


def _bad_line(lines: list[bytes], i: int, offset: int, line: int, seq: int, reason: str) -> _Bad:
    """``lines[i]`` (of a chunk starting at byte ``offset``) as the first bad record."""
    at = offset + sum(map(len, lines[:i])) + i
    return _Bad(line, seq, reason, at, at + len(lines[i]) + 1, lines[i])


class LineTooLongError(ValueError):
    """A newline-terminated line longer than :data:`MAX_LINE_BYTES`: no record is, so it is
    bad (recovery cuts it only as the last line of a run that did not finish, like any last
    line that is not a record); ``offset`` (its first byte in the segment) and ``length``
    name it."""

    def __init__(self, offset: int, length: int) -> None:
        super().__init__(
            f"line of {length} bytes at byte {offset} is longer than the "
            f"{MAX_LINE_BYTES}-byte limit of a record"
        )
        self.offset = offset
        self.length = length


def _line_chunks(f: FileIO) -> Iterator[tuple[int, list[bytes], bool]]:
    """Yield ``(offset of first line, lines without newline, True)``; an unterminated last line
    comes last as ``(offset, [fragment], False)``. Lines longer than a chunk are joined, up
    to :data:`MAX_LINE_BYTES`: beyond it only the line's first chunk is kept as the fragment
    of an unterminated last line, and a terminated one raises :class:`LineTooLongError`."""
    read = f.read
    offset = total = held = 0
    pending: list[bytes] = []
    while buf := read(CHUNK):
        total += len(buf)
        lines = buf.split(b"\n")
        if len(lines) == 1:
            held += len(buf)
            if held > MAX_LINE_BYTES:
                fragment = pending[0] if pending else buf
                pending = []  # let it go before reading on
                _skip_long_line(f, offset, total - offset)
                yield offset, [fragment], False
                return
            pending.append(buf)
            continue
        if pending:
            if held + len(lines[0]) > MAX_LINE_BYTES:
                raise LineTooLongError(offset, held + len(lines[0]))
            pending.append(lines[0])
            lines[0] = b"".join(pending)
        rest = lines.pop()
        pending = [rest] if rest else []
        held = len(rest)
        yield offset, lines, True
        offset = total - len(rest)
    if pending:
        yield offset, [b"".join(pending)], False


def _skip_long_line(f: FileIO, offset: int, seen: int) -> None:
    """Read on, discarding, to the end of the over-long line at ``offset`` (``seen`` bytes of
    it read so far): raise :class:`LineTooLongError` at its newline; return at end of file."""
    buf = bytearray(_SKIP)
    while n := f.readinto(buf):
        at = buf.find(b"\n", 0, n)
        if at >= 0:
            raise LineTooLongError(offset, seen + at)
        seen += n


def _chunk_ok(lines: list[bytes], prev: bytes, seq: int) -> bytes | None:
    """The chain head after ``lines`` if every one of them is good, else ``None`` (re-check)."""
    copy = hashlib.blake2b(digest_size=32).copy
    digests: list[bytes] = []
    keep = digests.append
    for line in lines:  # h = BLAKE2b-256(prev || line[:-TAIL] + "}"), without joining bytes
        h = copy()
        h.update(prev)
        h.update(line[:-TAIL])
        h.update(b"}")
        prev = h.digest()
        keep(prev)
    # Every stored tail is exactly 72 bytes, so equal concatenations mean every tail is equal.
    if b"".join(map(_TAILS, lines)) != H_OPEN + _H_SEP.join(map(hexlify, digests)) + H_CLOSE:
        return None
    width = len(str(seq))
    end = seq + len(lines)
    if len(str(end - 1)) != width:
        return None
    expected = '{"seq":' + ',{"seq":'.join(map(str, range(seq, end))) + ","
    if b"".join(map(itemgetter(slice(0, len(SEQ_OPEN) + width + 1)), lines)) != expected.encode():
        return None
    return prev


def _first_bad(lines: list[bytes], prev: bytes, seq: int) -> tuple[bytes, int | None, str]:
    """Line-by-line check: ``(head after the good lines, index of the first bad line, reason)``."""
    for i, line in enumerate(lines):
        digest, reason = check_line(line, prev, seq + i)
        if reason:
            return prev, i, reason
        prev = digest
    return prev, None, ""


def check_line(line: bytes, prev: bytes, seq: int) -> tuple[bytes, str]:
    """``(h, "")`` if ``line`` (no newline) is record ``seq`` chained on ``prev``, else a reason."""
    if not line.startswith(SEQ_OPEN):
        return b"", 'malformed record: does not start with {"seq":'
    if line.endswith(b"\r"):
        return b"", "malformed record: ends with a carriage return (CRLF line endings: converted)"
    if len(line) <= TAIL + len(SEQ_OPEN) or line[-TAIL : -TAIL + len(H_OPEN)] != H_OPEN:
        return b"", 'malformed record: no "h" field at the end'
    if line[-len(H_CLOSE) :] != H_CLOSE:
        return b"", 'malformed record: no "h" field at the end'
    digest = hashlib.blake2b(prev + canonical_of(line), digest_size=32).digest()
    if hexlify(digest) != line[-TAIL + len(H_OPEN) : -len(H_CLOSE)]:
        return b"", "hash mismatch"
    if not line.startswith(b"%s%d," % (SEQ_OPEN, seq)):
        return b"", f"seq mismatch: line has seq {seq_of(line)}"
    return digest, ""


def _foreign_run(bad: _Bad, run_id: str) -> str | None:
    """The run id in the WAL's first record when its hash fails because it is another run's WAL."""
    if bad.seq != 0 or bad.reason != "hash mismatch":
        return None
    try:
        envelope = msgspec.json.decode(canonical_of(bad.text))
        found = envelope["data"]["run_id"]
    except (ValueError, KeyError, TypeError):  # msgspec's errors and bad UTF-8 are ValueErrors
        return None
    return found if isinstance(found, str) and found != run_id else None

"""``verify``: is a WAL exactly what its writer wrote, ending at the head a manifest bound?"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import msgspec

from scarline.journal.manifest import RunManifest, SegmentEntry
from scarline.journal.scan import BadRecord, scan
from scarline.journal.segments import require_wal_dir


class VerifyReport(msgspec.Struct, frozen=True):
    """``records`` and ``head`` cover the good prefix; ``first_bad`` is ``None`` when ``ok``."""

    ok: bool
    records: int
    head: str
    first_bad: BadRecord | None

    def describe(self) -> str:
        """One line for humans: ``WAL check failed at segment …, seq 17 (line 18): …``."""
        if self.first_bad is None:
            return f"WAL intact: {self.records} records, head {self.head}"
        bad = self.first_bad
        where = f"segment {bad.segment}, seq {bad.seq} (line {bad.line})"
        return f"WAL check failed at {where}: {bad.reason}"


def verify_as_recorded(wal_dir: Path, manifest: RunManifest) -> VerifyReport:
    """:func:`verify` against everything ``manifest`` says of its WAL: head, segments and
    record count (what ``scarline wal verify`` and a replay check)."""
    return verify(
        wal_dir,
        manifest.run_id,
        expected_head=manifest.wal_head,
        expected_segments=manifest.wal_segments,
        expected_records=manifest.wal_records,
    )


def verify(
    wal_dir: Path,
    run_id: str,
    *,
    expected_head: str | None = None,
    expected_segments: Sequence[SegmentEntry] | None = None,
    expected_records: int | None = None,
) -> VerifyReport:
    """Check framing, the hash chain from ``genesis(run_id)`` and seq continuity of every record.

    Read-only. A torn last line counts as bad. With ``expected_head`` (the manifest's
    ``wal_head``) a WAL that is intact but ends elsewhere (records cut off or added) fails too;
    with ``expected_segments`` (the manifest's ``wal_segments``) so do segments renamed,
    merged or split (the chain runs across segments, so it cannot see their boundaries), by
    name, size, record count, seq range and sha256; with ``expected_records`` (the
    manifest's ``wal_records``) a WAL holding another number of records.
    """
    found = scan(require_wal_dir(wal_dir), run_id)
    head = found.head.hex()
    bad = found.bad
    if bad is None and expected_head is not None and head != expected_head:
        reason = f"WAL head {head} does not match manifest {expected_head}"
        if not found.records:
            reason = f"the WAL holds no record, but the manifest's head is {expected_head}"
        bad = BadRecord(
            segment=found.segments[-1].name if found.segments else "(none)",
            seq=found.records - 1,
            line=found.last_lines,
            reason=reason,
        )
    if bad is None and expected_records is not None and expected_records != found.records:
        reason = (
            f"the WAL holds {found.records} records, the manifest's wal_records is "
            f"{expected_records}"
        )
        last = found.segments[-1].name if found.segments else "(none)"
        bad = BadRecord(segment=last, seq=found.records - 1, line=found.last_lines, reason=reason)
    if bad is None and expected_segments is not None:
        bad = _segments_differ(found.segments, found.records, expected_segments)
    return VerifyReport(ok=bad is None, records=found.records, head=head, first_bad=bad)


def _segments_differ(
    segments: Sequence[Path], records: int, expected: Sequence[SegmentEntry]
) -> BadRecord | None:
    """The first way the segment files differ from the manifest's list, else ``None`` (an
    empty segment holds no record and is not listed: a crash right after rotating)."""
    segments = [path for path in segments if path.stat().st_size]
    listed = sum(entry.records for entry in expected)
    if listed != records:
        last = segments[-1].name if segments else ""
        reason = f"the WAL holds {records} records, the manifest lists {listed}"
        return BadRecord(segment=last, seq=records - 1, line=0, reason=reason)
    names = [path.name for path in segments]
    first = 0
    for i, entry in enumerate(expected):
        if i >= len(segments) or names[i] != entry.name:
            found = names[i] if i < len(names) else "no segment"
            reason = f"the manifest lists segment {entry.name} here, the WAL has {found}"
            return BadRecord(segment=entry.name, seq=entry.first_seq, line=0, reason=reason)
        size = segments[i].stat().st_size
        if size != entry.bytes:
            reason = f"{size} bytes, the manifest lists {entry.bytes}"
            return BadRecord(segment=entry.name, seq=entry.first_seq, line=0, reason=reason)
        sha, lines = _sha256_and_lines(segments[i])  # the chain proved the bytes
        held = (lines, first, first + lines - 1)
        if (entry.records, entry.first_seq, entry.last_seq) != held:
            reason = (
                f"holds {lines} records, seq {first} to {first + lines - 1}; the manifest "
                f"lists {entry.records}, seq {entry.first_seq} to {entry.last_seq}"
            )
            return BadRecord(segment=entry.name, seq=first, line=0, reason=reason)
        if sha != entry.sha256:
            reason = f"sha256 {sha}, the manifest lists {entry.sha256}"
            return BadRecord(segment=entry.name, seq=first, line=0, reason=reason)
        first += lines
    if len(segments) > len(expected):
        extra = segments[len(expected)].name
        reason = f"segment {extra} is not in the manifest"
        return BadRecord(segment=extra, seq=records - 1, line=0, reason=reason)
    return None


def _sha256_and_lines(path: Path) -> tuple[str, int]:
    """The segment's sha256 and its number of lines (records: the chain checked each)."""
    sha = hashlib.sha256()
    lines = 0
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            sha.update(block)
            lines += block.count(b"\n")
    return sha.hexdigest(), lines

"""A segment without newlines (a ``truncate``d file, a disk's zeros) is checked in bounded
memory: a line past ``MAX_LINE_BYTES`` is never held whole. The bound is lowered here, and
the long lines are sparse files, so the tests are small and fast."""

from __future__ import annotations

import os
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from structlog.testing import capture_logs
from wal_events import RUN, bar

from scarline.errors import WalError
from scarline.journal import WalWriter, read_records, recover, verify
from scarline.journal import scan as scan_module
from scarline.journal.segments import list_segments

LIMIT = 1 << 20
"""The line bound in these tests (the real one is 256 MiB)."""
LONG = 8 * LIMIT
"""Bytes of zeros appended: a line eight times the bound."""


@pytest.fixture(autouse=True)
def _small_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scan_module, "MAX_LINE_BYTES", LIMIT, raising=False)


def _wal(tmp_path: Path, segment_bytes: int = 64 * 2**20) -> tuple[Path, list[Path]]:
    wal = tmp_path / "wal"
    with WalWriter(wal, RUN, segment_bytes=segment_bytes, fsync="never") as w:
        for i in range(6):
            w.append(bar(i), i)
    return wal, list_segments(wal)


def _grow(segment: Path, by: int, then: bytes = b"") -> int:
    """Append ``by`` zero bytes (a hole: no disk, no memory), then ``then``; the old size."""
    size = segment.stat().st_size
    os.truncate(segment, size + by)
    if then:
        with segment.open("ab") as f:
            f.write(then)
    return size


def _peak(call: Callable[[], object]) -> int:
    """The most bytes Python held at once during ``call``."""
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_an_unterminated_long_tail_is_torn_and_read_in_bounded_memory(tmp_path: Path) -> None:
    wal, segments = _wal(tmp_path)
    size = _grow(segments[-1], LONG)
    peak = _peak(lambda: verify(wal, RUN))
    assert peak < 3 * LIMIT  # the whole line would be 8 * LIMIT, twice over when joined
    report = verify(wal, RUN)
    assert not report.ok and report.records == 6
    assert report.first_bad is not None and report.first_bad.seq == 6
    assert "no newline (torn write)" in report.first_bad.reason
    with capture_logs():
        dropped = recover(wal, RUN)  # as any torn tail: cut, in bounded memory too
    assert dropped is not None and (dropped.offset, dropped.dropped_bytes) == (size, LONG)
    assert verify(wal, RUN).ok


def test_a_terminated_long_last_line_is_bad_named_by_offset(tmp_path: Path) -> None:
    """Verified without being held whole; a run that did not finish has it cut like any
    last line that is not a record (zeros and a newline), one that finished keeps it."""
    wal, segments = _wal(tmp_path)
    size = _grow(segments[-1], LONG, then=b"\n")
    report = verify(wal, RUN)
    bad = report.first_bad
    assert bad is not None and (bad.segment, bad.seq, bad.line) == ("000000.jsonl", 6, 7)
    assert f"line of {LONG} bytes at byte {size} is longer than the {LIMIT}-byte" in bad.reason
    assert _peak(lambda: verify(wal, RUN)) < 3 * LIMIT
    (wal.parent / "manifest.json").write_text("{}")  # finished: reported, nothing cut
    with pytest.raises(WalError, match=rf"seq 6 \(line 7\).*at byte {size}.*finished"):
        recover(wal, RUN)
    assert segments[-1].stat().st_size == size + LONG + 1
    (wal.parent / "manifest.json").unlink()  # a crashed run's: cut as torn
    assert recover(wal, RUN) is not None and segments[-1].stat().st_size == size


def test_a_long_line_in_an_earlier_segment_refuses(tmp_path: Path) -> None:
    wal, segments = _wal(tmp_path, segment_bytes=600)
    assert len(segments) >= 3
    size = _grow(segments[0], LONG)  # no newline, but more segments follow: not a tail
    report = verify(wal, RUN)
    bad = report.first_bad
    assert bad is not None and bad.segment == segments[0].name
    with pytest.raises(WalError, match="not the last line, so nothing was truncated"):
        recover(wal, RUN)
    assert segments[0].stat().st_size == size + LONG


def test_a_line_just_within_the_limit_is_read_whole(tmp_path: Path) -> None:
    """The bound is on the line: one of exactly ``LIMIT`` bytes is joined and checked as usual
    (here it fails its framing, as zeros do; the point is that it is not called too long)."""
    wal, segments = _wal(tmp_path)
    _grow(segments[-1], LIMIT, then=b"\n")
    bad = verify(wal, RUN).first_bad
    assert bad is not None and bad.seq == 6 and bad.reason.startswith("malformed record")


def test_reading_records_refuses_a_long_line_without_holding_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import scarline.journal.reader as reader

    monkeypatch.setattr(reader, "_LINE", LIMIT + 1)  # a record of LIMIT bytes and its newline
    wal, segments = _wal(tmp_path)
    size = _grow(segments[-1], LONG, then=b"\n")
    with pytest.raises(WalError, match=rf"line 7 at byte {size} is longer than the {LIMIT}-byte"):
        list(read_records(wal))

"""``verify`` finds the first bad record exactly: a changed byte, torn tail, seq gap, wrong head."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wal_events import RUN, bar

from scarline.errors import WalError
from scarline.journal import HashOnlyWal, WalWriter, genesis, verify
from scarline.journal.format import Envelope, seal
from scarline.journal.segments import list_segments

N = 40


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A WAL of N bars over several segments (written once; tests tamper with copies)."""
    wal = tmp_path_factory.mktemp("pristine") / "wal"
    with WalWriter(wal, RUN, segment_bytes=2_500, fsync="never") as w:
        for i in range(N):
            w.append(bar(i), i)
    assert len(list_segments(wal)) >= 3
    return wal


def _layout(wal: Path) -> list[tuple[str, int, int, int, int]]:
    """Every line as (segment, seq, 1-based line, start offset, end offset incl. newline)."""
    out = []
    seq = 0
    for path in list_segments(wal):
        offset = 0
        for n, line in enumerate(path.read_bytes().splitlines(keepends=True), 1):
            out.append((path.name, seq, n, offset, offset + len(line)))
            offset += len(line)
            seq += 1
    return out


def _flip(wal: Path, segment: str, offset: int, mask: int) -> None:
    path = wal / segment
    data = bytearray(path.read_bytes())
    data[offset] ^= mask
    path.write_bytes(bytes(data))


def test_pristine_wal_verifies(pristine: Path) -> None:
    report = verify(pristine, RUN)
    assert report.ok and report.first_bad is None and report.records == N


@settings(max_examples=250, deadline=None)
@given(where=st.integers(0, 10**9), mask=st.integers(1, 255))
def test_any_changed_byte_fails_at_its_record(pristine: Path, where: int, mask: int) -> None:
    layout = _layout(pristine)
    segment, seq, line, start, end = layout[where % len(layout)]
    offset = start + (where // len(layout)) % (end - start)
    with tempfile.TemporaryDirectory() as tmp:
        wal = Path(shutil.copytree(pristine, Path(tmp) / "wal"))
        _flip(wal, segment, offset, mask)
        report = verify(wal, RUN)
    assert not report.ok
    assert report.first_bad is not None
    assert (report.first_bad.segment, report.first_bad.seq, report.first_bad.line) == (
        segment,
        seq,
        line,
    )
    assert report.records == seq  # everything before the changed record is still good


@pytest.mark.parametrize("seq", [0, 1, 17, N - 1])
@pytest.mark.parametrize("part", ["seq digit", "data", "h key", "h hex", "closing", "newline"])
def test_each_part_of_a_line_is_covered(
    pristine: Path, tmp_path: Path, seq: int, part: str
) -> None:
    wal = Path(shutil.copytree(pristine, tmp_path / "wal"))
    segment, _, line, start, end = _layout(wal)[seq]
    at = {
        "seq digit": start + 7,
        "data": start + 60,
        "h key": end - 73 + 2,
        "h hex": end - 10,
        "closing": end - 2,
        "newline": end - 1,
    }[part]
    _flip(wal, segment, at, 0x01)
    bad = verify(wal, RUN).first_bad
    assert bad is not None and (bad.segment, bad.seq, bad.line) == (segment, seq, line)


def test_reason_names_hash_mismatch(pristine: Path, tmp_path: Path) -> None:
    wal = Path(shutil.copytree(pristine, tmp_path / "wal"))
    segment, _, _, start, _ = _layout(wal)[17]
    _flip(wal, segment, start + 60, 0x01)
    report = verify(wal, RUN)
    assert report.first_bad is not None
    assert report.first_bad.reason == "hash mismatch"
    assert report.describe().startswith(f"WAL check failed at segment {segment}, seq 17 (line ")


def test_torn_tail_is_bad_and_verify_never_modifies(pristine: Path, tmp_path: Path) -> None:
    wal = Path(shutil.copytree(pristine, tmp_path / "wal"))
    last = list_segments(wal)[-1]
    data = last.read_bytes()
    last.write_bytes(data[:-30])
    report = verify(wal, RUN)
    assert report.first_bad is not None
    assert report.first_bad.seq == N - 1 and "no newline" in report.first_bad.reason
    assert last.read_bytes() == data[:-30]


@pytest.mark.parametrize("gone", [0, 1])
def test_a_deleted_segment_is_named(pristine: Path, tmp_path: Path, gone: int) -> None:
    """The next segment's first record does not chain on: the reason says a segment file is
    missing (segments are numbered one by one), not only ``hash mismatch``."""
    wal = Path(shutil.copytree(pristine, tmp_path / "wal"))
    segments = list_segments(wal)
    segments[gone].unlink()
    report = verify(wal, RUN)
    assert report.first_bad is not None and report.first_bad.line == 1
    assert report.first_bad.segment == segments[gone + 1].name
    if gone == 0:
        expected = f"segment 000000.jsonl is missing (the WAL starts at {segments[1].name})"
    else:
        expected = (
            f"segment {segments[gone].name} is missing ({segments[gone - 1].name} is "
            f"followed by {segments[gone + 1].name})"
        )
    assert report.first_bad.reason == f"hash mismatch: {expected}"


def test_expected_head_catches_dropped_records(pristine: Path, tmp_path: Path) -> None:
    head = verify(pristine, RUN).head
    assert verify(pristine, RUN, expected_head=head).ok
    wal = Path(shutil.copytree(pristine, tmp_path / "wal"))
    list_segments(wal)[-1].unlink()  # a whole segment gone: the chain alone cannot tell
    assert verify(wal, RUN).ok
    report = verify(wal, RUN, expected_head=head)
    assert not report.ok and report.first_bad is not None
    assert f"does not match manifest {head}" in report.first_bad.reason


def test_seq_gap_with_a_valid_chain_is_caught(tmp_path: Path) -> None:
    """A writer that skipped a seq but chained correctly still fails on continuity."""
    wal = tmp_path / "wal"
    wal.mkdir()
    enc_prev = genesis(RUN)
    lines = []
    for i, seq in enumerate([0, 1, 3]):
        canonical = msgspec.json.encode(Envelope(seq, i, "Bar", bar(i)))
        digest = hashlib.blake2b(enc_prev + canonical, digest_size=32).digest()
        lines.append(seal(canonical, digest))
        enc_prev = digest
    (wal / "000000.jsonl").write_bytes(b"".join(lines))
    bad = verify(wal, RUN).first_bad
    assert bad is not None and (bad.seq, bad.line) == (2, 3) and "seq mismatch" in bad.reason


def test_wrong_run_id_is_named(pristine: Path) -> None:
    bad = verify(pristine, "another-run").first_bad
    assert bad is not None and bad.seq == 0
    assert f"belongs to run {RUN!r}" in bad.reason


def test_missing_wal_dir_is_a_wal_error(tmp_path: Path) -> None:
    with pytest.raises(WalError, match=str(tmp_path / "nope")):
        verify(tmp_path / "nope", RUN)


def test_hash_only_head_matches_verify(pristine: Path) -> None:
    shadow = HashOnlyWal(RUN)
    for i in range(N):
        shadow.append(bar(i), i)
    assert verify(pristine, RUN).head == shadow.head


def test_crlf_line_endings_are_named(pristine: Path, tmp_path: Path) -> None:
    """A segment converted to CRLF (a text tool on Windows) fails at its first line with a
    reason that says so, not only 'no "h" field at the end'."""
    wal = Path(shutil.copytree(pristine, tmp_path / "wal"))
    first = list_segments(wal)[0]
    first.write_bytes(first.read_bytes().replace(b"\n", b"\r\n"))
    report = verify(wal, RUN)
    assert report.first_bad is not None
    assert (report.first_bad.seq, report.first_bad.line) == (0, 1)
    assert "carriage return (CRLF line endings" in report.first_bad.reason

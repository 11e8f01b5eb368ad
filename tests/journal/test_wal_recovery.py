"""Opening a WAL after a crash: a torn last line is cut and reported; anything worse refuses."""

from __future__ import annotations

import errno
import io
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import pytest
from structlog.testing import capture_logs
from wal_events import RUN, bar

from scarline.errors import WalError
from scarline.journal import HashOnlyWal, WalWriter, read_records, recover, verify
from scarline.journal import writer as writer_module
from scarline.journal.segments import list_segments


def _write(wal: Path, n: int, segment_bytes: int = 64 * 2**20) -> None:
    with WalWriter(wal, RUN, segment_bytes=segment_bytes, fsync="never") as w:
        for i in range(n):
            w.append(bar(i), i)


def _snapshot(wal: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in list_segments(wal)}


def test_half_written_last_line_is_truncated_warned_and_appending_resumes(tmp_path: Path) -> None:
    wal = tmp_path / "wal"
    _write(wal, 10)
    segment = list_segments(wal)[-1]
    data = segment.read_bytes()
    last_start = data.rstrip(b"\n").rfind(b"\n") + 1
    half = (len(data) - last_start) // 2
    segment.write_bytes(data[: last_start + half])

    with capture_logs() as logs, WalWriter(wal, RUN) as w:
        assert w.recovery is not None
        assert (w.recovery.segment, w.recovery.offset) == (segment.name, last_start)
        assert (w.recovery.dropped_bytes, w.recovery.seq) == (half, 9)
        assert w.next_seq == 9
        assert w.append(bar(100), 100) == 9
        head = w.head

    assert logs == [
        {
            "event": "wal.torn_tail_truncated",
            "log_level": "warning",
            "segment": segment.name,
            "offset": last_start,
            "dropped_bytes": half,
            "seq": 9,
        }
    ]
    report = verify(wal, RUN)
    assert report.ok and report.records == 10 and report.head == head
    shadow = HashOnlyWal(RUN)
    for i in [*range(9), 100]:
        shadow.append(bar(i), i)
    assert shadow.head == head


def test_complete_last_line_with_bad_hash_is_tampering_and_kept(tmp_path: Path) -> None:
    wal = tmp_path / "wal"
    _write(wal, 5)
    segment = list_segments(wal)[-1]
    data = bytearray(segment.read_bytes())
    data[-20] ^= 0x01  # inside the last line's h: a whole line no crash could write
    segment.write_bytes(bytes(data))
    with pytest.raises(WalError, match=r"seq 4 \(line 5\), is complete but fails its check"):
        recover(wal, RUN)
    with pytest.raises(WalError, match="seq 4"):
        WalWriter(wal, RUN)  # resuming refuses too
    assert segment.read_bytes() == bytes(data)


@pytest.mark.parametrize(
    "tail", [b"\x00" * 40, b"\x00" * 40 + b"\n", b'{"seq":5,"ts":5,"kind":"Ba\n']
)
def test_an_unparseable_last_line_is_torn(tmp_path: Path, tail: bytes) -> None:
    """Zeros (what a crash can leave after a size update), with or without a newline, or a
    JSON fragment that gained one: not a record, so a run that did not finish has it cut
    like a torn write."""
    wal = tmp_path / "wal"
    _write(wal, 5)
    segment = list_segments(wal)[-1]
    intact = segment.read_bytes()
    segment.write_bytes(intact + tail)
    with capture_logs():
        dropped = recover(wal, RUN)
    assert dropped is not None and (dropped.seq, dropped.dropped_bytes) == (5, len(tail))
    assert segment.read_bytes() == intact


@pytest.mark.parametrize(
    "edit",
    [
        lambda line: line.replace(b'"close":', b"'close':", 1),  # a quote inside it
        lambda line: b"[" + line[1:],  # its first byte
        lambda line: line[:-2] + b" \n",  # its closing brace
    ],
    ids=["quote", "first-byte", "last-brace"],
)
def test_an_edited_complete_last_record_is_reported_not_cut(
    tmp_path: Path, edit: Callable[[bytes], bytes]
) -> None:
    """What the audit found: a finished run's last line edited in place, newline kept, was
    cut as a "torn record"; it is tampering, named by seq, and kept."""
    wal = _finished(tmp_path)
    segment = list_segments(wal)[-1]
    lines = segment.read_bytes().splitlines(keepends=True)
    lines[-1] = edit(lines[-1])
    assert lines[-1].endswith(b"\n")
    segment.write_bytes(b"".join(lines))
    before = _snapshot(wal)
    with pytest.raises(WalError, match=r"segment 000000.jsonl, seq 4 \(line 5\).*finished"):
        recover(wal, RUN)
    assert _snapshot(wal) == before


@pytest.mark.parametrize("tail", [b'{"seq":5,"ts":5,"kind":"Ba', b"\x00" * 40])
def test_recover_cuts_nothing_in_a_finished_run(tmp_path: Path, tail: bytes) -> None:
    """A run writes manifest.json after its WAL closed: even an unterminated tail there came
    later, so recover reports it, naming the manifest, and changes nothing."""
    wal = _finished(tmp_path)
    assert recover(wal, RUN) is None  # intact: nothing to do
    segment = list_segments(wal)[-1]
    segment.write_bytes(segment.read_bytes() + tail)
    before = _snapshot(wal)
    with pytest.raises(WalError, match=r"seq 5 \(line 6\).*the run is finished.*manifest\.json"):
        recover(wal, RUN)
    assert _snapshot(wal) == before


def test_torn_line_alone_in_a_new_segment_leaves_it_empty_and_reused(tmp_path: Path) -> None:
    wal = tmp_path / "wal"
    _write(wal, 6, segment_bytes=300)
    last = list_segments(wal)[-1]
    assert last.read_bytes().count(b"\n") == 1
    last.write_bytes(last.read_bytes()[:50])
    with capture_logs(), WalWriter(wal, RUN, segment_bytes=300) as w:
        assert w.recovery is not None and w.recovery.offset == 0 and w.recovery.seq == 5
        w.append(bar(5), 5)
    assert last.read_bytes().count(b"\n") == 1
    assert verify(wal, RUN).ok and verify(wal, RUN).records == 6


def test_corruption_before_the_last_line_refuses_and_changes_nothing(tmp_path: Path) -> None:
    wal = tmp_path / "wal"
    _write(wal, 10, segment_bytes=1_200)
    first = list_segments(wal)[0]
    data = bytearray(first.read_bytes())
    data[40] ^= 0x01  # record 0
    first.write_bytes(bytes(data))
    before = _snapshot(wal)
    with pytest.raises(WalError, match=rf"segment {first.name}, seq 0 \(line 1\): hash mismatch"):
        WalWriter(wal, RUN)
    with pytest.raises(WalError, match="nothing was truncated"):
        recover(wal, RUN)
    assert _snapshot(wal) == before


def test_bad_middle_line_of_the_last_segment_refuses(tmp_path: Path) -> None:
    wal = tmp_path / "wal"
    _write(wal, 10)
    segment = list_segments(wal)[-1]
    lines = segment.read_bytes().splitlines(keepends=True)
    lines[5] = lines[5].replace(b'"close":10055', b'"close":10056')
    segment.write_bytes(b"".join(lines))
    with pytest.raises(WalError, match="seq 5"):
        WalWriter(wal, RUN)
    assert segment.read_bytes() == b"".join(lines)


def test_a_single_record_wal_of_another_run_is_not_truncated(tmp_path: Path) -> None:
    wal = tmp_path / "wal"
    _write(wal, 1)
    before = _snapshot(wal)
    with pytest.raises(WalError, match=f"belongs to run {RUN!r}"):
        WalWriter(wal, "some-other-run")
    assert _snapshot(wal) == before


def test_recover_on_an_intact_wal_does_nothing(tmp_path: Path) -> None:
    wal = tmp_path / "wal"
    _write(wal, 3)
    before = _snapshot(wal)
    assert recover(wal, RUN) is None
    assert _snapshot(wal) == before


def test_a_second_writer_or_recover_is_refused_while_a_writer_is_open(tmp_path: Path) -> None:
    wal = tmp_path / "wal"
    with WalWriter(wal, RUN) as w:
        w.append(bar(0), 0)
        with pytest.raises(WalError, match="open by another writer"):
            WalWriter(wal, RUN)
        with pytest.raises(WalError, match="open by another writer"):
            recover(wal, RUN)
    with WalWriter(wal, RUN) as w:  # the lock is released on close
        assert w.next_seq == 1
    assert [r.seq for r in read_records(wal)] == [0]


def test_a_dropped_writer_releases_its_lock(tmp_path: Path) -> None:
    wal = tmp_path / "wal"
    w = WalWriter(wal, RUN)
    w.append(bar(0), 0)
    del w  # no close(): the buffered record is still flushed and the lock released
    with WalWriter(wal, RUN) as again:
        assert again.next_seq == 1


def _finished(tmp_path: Path) -> Path:
    """The WAL of a finished run: five records, and the manifest a run writes last."""
    wal = tmp_path / "run" / "wal"
    _write(wal, 5)
    (wal.parent / "manifest.json").write_text("{}")
    return wal


def test_a_symlinked_segment_is_never_truncated_or_appended_to(tmp_path: Path) -> None:
    """A segment that is a symbolic link may point outside the run directory: recovery
    must not cut the file it points at, nor may a resumed writer append to it."""
    wal = tmp_path / "wal"
    _write(wal, 3)
    victim = tmp_path / "outside.txt"
    victim.write_bytes(b"precious text without a newline")  # reads as a torn line
    (wal / "000001.jsonl").symlink_to(victim)
    with pytest.raises(WalError, match=r"000001\.jsonl is a symbolic link .*refusing to truncate"):
        recover(wal, RUN)
    with pytest.raises(WalError, match="refusing to truncate"):
        WalWriter(wal, RUN)
    assert victim.read_bytes() == b"precious text without a newline"
    victim.write_bytes(b"")  # nothing to cut: the writer would append to it
    with pytest.raises(WalError, match="refusing to append to"):
        WalWriter(wal, RUN)
    assert victim.read_bytes() == b""


class _FullDisk(io.FileIO):
    """A segment file on a disk with ``room`` bytes left: writes past it fail (ENOSPC)
    after writing what fits, as a real full disk does."""

    room = 2_000

    def write(self, data: object) -> int:
        view = memoryview(data)  # type: ignore[arg-type]
        if _FullDisk.room <= 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        n = super().write(view[: _FullDisk.room]) or 0
        _FullDisk.room -= n
        return n


@pytest.mark.parametrize("fsync", ["always", "batch", "never"])
def test_a_disk_full_writer_releases_its_lock_and_leaves_a_recoverable_wal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fsync: str
) -> None:
    """Writes fail with ENOSPC: the error reaches the caller, and ``close`` (which fails
    again, its buffer cannot be written) still releases the directory lock, so the WAL can
    be recovered or sealed in the same process; before, ``recover`` said another writer had
    it open until the process ended."""

    def open_segment(self: object, *, new: bool) -> BinaryIO:
        path = self._wal_dir / writer_module.segment_name(self._index)  # type: ignore[attr-defined]
        return io.BufferedWriter(_FullDisk(path, "xb" if new else "ab"), 4096)  # type: ignore[return-value]

    monkeypatch.setattr(_FullDisk, "room", 2_000)
    monkeypatch.setattr(writer_module._Segments, "_open_segment", open_segment)
    wal = tmp_path / "wal"
    w = WalWriter(wal, RUN, fsync=fsync, fsync_every=3)  # type: ignore[arg-type]
    with pytest.raises(OSError, match="No space left"):
        for i in range(1_000):
            w.append(bar(i), i)
        w.flush()
    with pytest.raises(OSError, match="No space left"):
        w.close()
    monkeypatch.undo()
    recover(wal, RUN)  # the lock is free; a torn last line (if any) is cut
    report = verify(wal, RUN)
    assert report.ok and 0 < report.records < 1_000
    assert [r.seq for r in read_records(wal)] == list(range(report.records))

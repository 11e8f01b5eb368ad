"""``read_records`` filters on the envelope, skips a torn tail read-only, names bad lines."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from structlog.testing import capture_logs
from wal_events import RUN, mixed

from scarline.errors import WalError
from scarline.journal import WalWriter, read_records, segment_infos
from scarline.journal.segments import list_segments

N = 60
ITEMS = mixed(N)  # kinds cycle Bar, Quote, KillSwitch, RegimeChange; ts = 1000 * seq


@pytest.fixture(scope="module")
def wal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("reader") / "wal"
    with WalWriter(path, RUN, segment_bytes=2_000, fsync="never") as w:
        for event, ts in ITEMS:
            w.append(event, ts)
    assert len(list_segments(path)) > 4
    return path


def _expected(keep: object) -> list[tuple[int, object]]:
    return [(seq, ev) for seq, (ev, ts) in enumerate(ITEMS) if keep(seq, ev, ts)]  # type: ignore[operator]


def _got(wal: Path, **filters: object) -> list[tuple[int, object]]:
    return [(r.seq, r.data) for r in read_records(wal, **filters)]  # type: ignore[arg-type]


def test_no_filter_reads_everything_in_order(wal: Path) -> None:
    records = list(read_records(wal))
    assert [(r.seq, r.ts, r.data) for r in records] == [
        (seq, ts, ev) for seq, (ev, ts) in enumerate(ITEMS)
    ]
    assert {r.segment for r in records} == {p.name for p in list_segments(wal)}


def test_kinds(wal: Path) -> None:
    assert _got(wal, kinds=["KillSwitch", "Bar"]) == _expected(
        lambda s, e, t: type(e).__name__ in ("KillSwitch", "Bar")
    )
    assert _got(wal, kinds=[]) == []


def test_seq_range_is_inclusive_and_skips_earlier_segments(wal: Path) -> None:
    assert _got(wal, seq_from=37, seq_to=45) == _expected(lambda s, e, t: 37 <= s <= 45)
    assert _got(wal, seq_from=N - 1) == _expected(lambda s, e, t: s == N - 1)
    assert _got(wal, seq_from=N) == []


def test_ts_range_is_inclusive(wal: Path) -> None:
    assert _got(wal, ts_from=5_000, ts_to=9_000) == _expected(lambda s, e, t: 5_000 <= t <= 9_000)


def test_limit_and_combined_filters(wal: Path) -> None:
    assert _got(wal, limit=3) == _expected(lambda s, e, t: s < 3)
    assert _got(wal, limit=0) == []
    combined = _got(wal, kinds={"RegimeChange"}, seq_from=10, ts_to=50_000, limit=4)
    assert combined == _expected(lambda s, e, t: s % 4 == 3 and s >= 10 and t <= 50_000)[:4]


def test_torn_tail_is_skipped_with_a_warning_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "wal"
    with WalWriter(path, RUN, fsync="never") as w:
        for event, ts in ITEMS[:5]:
            w.append(event, ts)
    segment = list_segments(path)[-1]
    torn = segment.read_bytes()[:-40]
    segment.write_bytes(torn)
    with capture_logs() as logs:
        seqs = [r.seq for r in read_records(path)]
    assert seqs == [0, 1, 2, 3]
    assert [entry["event"] for entry in logs] == ["wal.torn_tail_skipped"]
    assert logs[0]["segment"] == segment.name
    assert segment.read_bytes() == torn


def test_unreadable_middle_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "wal"
    with WalWriter(path, RUN, fsync="never") as w:
        for event, ts in ITEMS[:5]:
            w.append(event, ts)
    segment = list_segments(path)[0]
    lines = segment.read_bytes().splitlines(keepends=True)
    lines[2] = b"not json\n"
    segment.write_bytes(b"".join(lines))
    with pytest.raises(WalError, match=rf"{segment.name}: line 3"):
        list(read_records(path))


def test_missing_wal_dir_raises_on_call(tmp_path: Path) -> None:
    with pytest.raises(WalError, match="no WAL directory"):
        read_records(tmp_path / "absent")


def test_segment_infos_describe_the_files(wal: Path) -> None:
    infos = segment_infos(wal)
    assert [i.name for i in infos] == [p.name for p in list_segments(wal)]
    for info in infos:
        data = (wal / info.name).read_bytes()
        assert info.bytes == len(data)
        assert info.sha256 == hashlib.sha256(data).hexdigest()
        assert info.records == data.count(b"\n")
        seqs = [r.seq for r in read_records(wal) if r.segment == info.name]
        assert (info.first_seq, info.last_seq) == (seqs[0], seqs[-1])
    assert infos[0].first_seq == 0 and infos[-1].last_seq == N - 1

"""Whatever goes in comes back out: events, seqs and ts, across segment rotation and resumes."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wal_events import RUN, bar, stamped

from scarline.events import Array, Decision, Event
from scarline.journal import HashOnlyWal, WalWriter, read_records, segment_infos, verify
from scarline.journal.format import segment_name


def _write(wal: Path, items: list[tuple[Event, int]], segment_bytes: int) -> str:
    with WalWriter(wal, RUN, segment_bytes=segment_bytes, fsync="never") as w:
        seqs = [w.append(event, ts) for event, ts in items]
        assert seqs == list(range(len(items)))
        return w.head


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=st.lists(stamped, max_size=25), segment_bytes=st.integers(200, 4000))
def test_any_events_round_trip_across_rotation(
    items: list[tuple[Event, int]], segment_bytes: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        wal = Path(tmp) / "wal"
        head = _write(wal, items, segment_bytes)

        records = list(read_records(wal))
        assert [(r.data, r.ts) for r in records] == items
        assert [r.seq for r in records] == list(range(len(items)))
        assert [r.kind for r in records] == [type(e).__name__ for e, _ in items]

        report = verify(wal, RUN)
        assert report.ok and report.records == len(items) and report.head == head

        shadow = HashOnlyWal(RUN)
        for event, ts in items:
            shadow.append(event, ts)
        assert shadow.head == head and shadow.next_seq == len(items)

        infos = segment_infos(wal)
        assert [i.name for i in infos] == [segment_name(k) for k in range(len(infos))]
        assert sum(i.records for i in infos) == len(items)
        for info in infos:  # only a record bigger than a whole segment may overflow one
            assert info.bytes <= segment_bytes or info.records == 1
        # every record sits in the segment segment_infos says holds its seq
        for r in records:
            info = next(i for i in infos if i.name == r.segment)
            assert info.first_seq is not None and info.last_seq is not None
            assert info.first_seq <= r.seq <= info.last_seq


def test_rotation_continues_seq_and_chain(tmp_path: Path) -> None:
    wal = tmp_path / "wal"
    items = [(bar(i), i) for i in range(50)]
    head = _write(wal, items, segment_bytes=1_000)
    infos = segment_infos(wal)
    assert len(infos) > 5
    for before, after in itertools.pairwise(infos):
        assert after.first_seq == before.last_seq + 1  # type: ignore[operator]
    assert verify(wal, RUN).head == head


def test_big_batch_records_round_trip_and_chain_like_small_ones(tmp_path: Path) -> None:
    """Records past the writer's no-copy threshold (a whole population's arrays)."""
    rng = np.random.default_rng(0)
    big = [
        Decision(
            run_id=RUN, session_id="s", decision_id=f"d{i}", step=i, policy="p",
            agents=Array.of(np.arange(4096)),
            actions=Array.of(rng.integers(-1, 2, (4096, 4)).astype(np.float32)),
            target_qty=Array.of(rng.integers(-99, 99, (4096, 4))),
        )
        for i in range(3)
    ]  # fmt: skip
    items = [(e, i) for i, e in enumerate([bar(0), big[0], big[1], bar(1), big[2], bar(2)])]
    for segment_bytes in (10**9, 150_000, 1_000):  # no rotation, some, every record
        wal = tmp_path / f"wal{segment_bytes}"
        head = _write(wal, items, segment_bytes)
        assert [(r.data, r.ts) for r in read_records(wal)] == items
        assert verify(wal, RUN).head == head
        shadow = HashOnlyWal(RUN)
        for event, ts in items:
            shadow.append(event, ts)
        assert shadow.head == head


def test_resume_after_close_continues_seq_and_chain(tmp_path: Path) -> None:
    wal = tmp_path / "wal"
    items = [(bar(i), 10 * i) for i in range(12)]
    with WalWriter(wal, RUN, segment_bytes=1_500) as w:
        for event, ts in items[:7]:
            w.append(event, ts)
    with WalWriter(wal, RUN, segment_bytes=1_500) as w:
        assert w.recovery is None
        assert w.next_seq == 7
        assert [w.append(event, ts) for event, ts in items[7:]] == list(range(7, 12))
        head = w.head

    shadow = HashOnlyWal(RUN)
    for event, ts in items:
        shadow.append(event, ts)
    assert head == shadow.head
    assert verify(wal, RUN).ok
    assert [(r.data, r.ts) for r in read_records(wal)] == items


def test_empty_wal_head_is_the_genesis_of_the_run(tmp_path: Path) -> None:
    with WalWriter(tmp_path / "wal", RUN) as w:
        assert w.next_seq == 0
        head = w.head
    assert head == HashOnlyWal(RUN).head
    report = verify(tmp_path / "wal", RUN)
    assert report.ok and report.records == 0 and report.head == head
    assert list(read_records(tmp_path / "wal")) == []

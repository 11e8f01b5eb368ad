"""``fsync="batch"`` hashes and writes big records on a helper thread, small ones inline while
it is idle: same bytes, errors still surface."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wal_events import RUN, bar

from scarline.events import Array, Decision, Event
from scarline.journal import WalWriter, read_records, verify
from scarline.journal.segments import list_segments


def _big(i: int) -> Decision:
    values = np.arange(4096 * 4).reshape(4096, 4) * (i + 1)
    return Decision(
        run_id=RUN, session_id="s", decision_id=f"d{i}", step=i, policy="p",
        agents=Array.of(np.arange(4096)), actions=Array.of(values.astype(np.float32)),
        target_qty=Array.of(values),
    )  # fmt: skip


def _items() -> list[tuple[Event, int]]:
    events: list[Event] = []
    for i in range(6):
        events += [bar(i), _big(i), bar(100 + i), bar(200 + i)]
    return [(e, ts) for ts, e in enumerate(events)]


@pytest.mark.parametrize("segment_bytes", [10**9, 300_000, 2_000])
def test_the_helper_thread_writes_the_same_bytes(tmp_path: Path, segment_bytes: int) -> None:
    wals = {}
    for policy in ("batch", "never"):
        wal = tmp_path / policy
        with WalWriter(wal, RUN, segment_bytes=segment_bytes, fsync=policy, fsync_every=5) as w:
            for event, ts in _items():
                w.append(event, ts)
            head = w.head
        wals[policy] = [p.read_bytes() for p in list_segments(wal)]
        assert verify(wal, RUN).head == head
    assert wals["batch"] == wals["never"]


def test_head_and_flush_wait_for_the_helper_thread(tmp_path: Path) -> None:
    wal = tmp_path / "wal"
    with WalWriter(wal, RUN) as w:
        for event, ts in _items()[:9]:
            w.append(event, ts)
        w.flush()
        assert [r.seq for r in read_records(wal)] == list(range(9))
        assert verify(wal, RUN).head == w.head


def test_a_failed_sync_on_the_helper_thread_is_raised_by_the_next_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(fd: int) -> None:
        raise OSError(5, "EIO")

    wal = tmp_path / "wal"
    w = WalWriter(wal, RUN, fsync_every=2)
    monkeypatch.setattr(os, "fdatasync", failing)
    w.append(bar(0), 0)
    w.append(bar(1), 1)  # the batch's sync fails on the helper thread
    with pytest.raises(OSError, match="EIO"):
        for i in range(2, 10):
            w.append(bar(i), i)
            w.head  # noqa: B018 - waits for the helper thread
    with pytest.raises(OSError, match="EIO"):
        w.close()
    monkeypatch.undo()
    with WalWriter(wal, RUN) as again:  # closed anyway: the lock is free
        assert again.next_seq >= 2


def test_a_dropped_writer_still_writes_what_it_was_given(tmp_path: Path) -> None:
    wal = tmp_path / "wal"
    w = WalWriter(wal, RUN)
    for event, ts in _items():
        w.append(event, ts)
    del w
    assert [r.seq for r in read_records(wal)] == list(range(len(_items())))


def _medium(i: int) -> Decision:
    """A record just under the size that goes to the helper (~56 KB encoded)."""
    return Decision(
        run_id=RUN, session_id="s", decision_id=f"m{i}", step=i, policy="p",
        agents=Array.of(np.arange(2500) + i), actions=Array.of(np.zeros(2500, np.int8)),
        target_qty=Array.of(np.zeros(2500, np.int64)),
    )  # fmt: skip


@settings(max_examples=40, deadline=None)
@given(
    kinds=st.lists(st.sampled_from("sssmb"), min_size=1, max_size=40),
    segment_bytes=st.sampled_from([1_000, 30_000, 10**9]),
    fsync_every=st.integers(1, 7),
)
def test_records_chained_inline_or_on_the_helper_make_the_same_bytes(
    tmp_path_factory: pytest.TempPathFactory, kinds: list[str], segment_bytes: int,
    fsync_every: int,
) -> None:  # fmt: skip
    """Small records go inline while the helper is idle, the rest through it: any mix, any
    rotation and sync cadence, gives the bytes of one thread."""
    make = {"s": bar, "m": _medium, "b": _big}
    items = [(make[k](i), i) for i, k in enumerate(kinds)]
    tmp = tmp_path_factory.mktemp("wal")
    wals = {}
    for policy in ("batch", "never"):
        wal = tmp / policy
        with WalWriter(
            wal, RUN, segment_bytes=segment_bytes, fsync=policy, fsync_every=fsync_every
        ) as w:
            for event, ts in items:
                w.append(event, ts)
        wals[policy] = [p.read_bytes() for p in list_segments(wal)]
    assert wals["batch"] == wals["never"]
    verify(tmp / "batch", RUN)


def test_a_slow_sync_on_the_helper_lets_small_records_through_but_not_a_rotation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Records appended while a batch's sync runs are written meanwhile (the sync flushes
    the same file object); one that would rotate the segment waits for the sync."""
    real = os.fdatasync
    syncing = []

    def slow(fd: int) -> None:
        syncing.append(fd)
        time.sleep(0.02)
        real(fd)

    monkeypatch.setattr(os, "fdatasync", slow)
    wal = tmp_path / "wal"
    items = [(bar(i), i) for i in range(60)]
    with WalWriter(wal, RUN, segment_bytes=2_000, fsync_every=3) as w:
        for event, ts in items:
            w.append(event, ts)
    assert syncing  # the batches were synced, on the helper
    assert len(list_segments(wal)) > 3  # and the segments rotated while they were
    assert [r.seq for r in read_records(wal)] == list(range(60))
    verify(wal, RUN)

"""``fsync="batch"`` hashes and writes on a helper thread: same bytes, errors still surface."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
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

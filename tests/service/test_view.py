"""The session view: latest snapshot, kill and flag requests taken once, bounded queues."""

from __future__ import annotations

import asyncio
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scarline.service.view import RUNTIME_FLAGS, SessionView, Snapshot, UnknownFlag


def test_kill_is_taken_once_and_the_first_request_wins() -> None:
    view = SessionView()
    assert view.take_kill() is None
    view.request_kill("first", "k1")
    view.request_kill("second", "k2")
    assert view.take_kill() == ("first", "k1")
    assert view.take_kill() is None


def test_only_runtime_flags_are_queued() -> None:
    view = SessionView()
    with pytest.raises(UnknownFlag, match="exploration"):
        view.set_flag("exploration", False)
    view.set_flag(RUNTIME_FLAGS[0], True, "k")
    assert [(f.name, f.value, f.key_id) for f in view.take_flags()] == [
        (RUNTIME_FLAGS[0], True, "k")
    ]
    assert view.take_flags() == []


@given(st.lists(st.integers(0, 10_000), min_size=1, max_size=60), st.integers(1, 8))
def test_a_slow_client_keeps_the_newest_snapshots(steps: list[int], size: int) -> None:
    async def drain() -> tuple[list[int], int]:
        view = SessionView(queue_size=size)
        sub = view.subscribe()
        publisher = threading.Thread(
            target=lambda: [view.publish(Snapshot(run_id="r", step=s)) for s in steps]
        )
        publisher.start()
        publisher.join()
        await asyncio.sleep(0)  # let the loop run the hand-overs
        got = []
        while not sub._queue.empty():
            got.append((await sub.get()).step)
        view.unsubscribe(sub)
        return got, sub.dropped

    got, dropped = asyncio.run(drain())
    assert got == steps[-size:]
    assert dropped == len(steps) - len(got)


def test_snapshots_encode_to_plain_json() -> None:
    snap = Snapshot(run_id="r", step=3, drift_score=float("nan"))
    body = snap.to_json()
    assert body["run_id"] == "r" and body["ladder"] == {"level": "NORMAL", "agents": {}}

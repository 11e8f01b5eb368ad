"""The watchdog raises the stale-heartbeat and feed-down alerts between steps: a session stuck
in a call, or waiting on a dead feed, takes no step that could raise them."""

from __future__ import annotations

import time
from pathlib import Path

from scarline.config import RunConfig
from scarline.paper.ops import LiveOps
from scarline.service.view import AgentRow, Snapshot
from scarline.service.watchdog import MAX_PERIOD, MIN_PERIOD, Watchdog, period_for

NS = 10**9


def _ops(tmp_path: Path, clock: list[int], down_since: list[int | None]) -> LiveOps:
    config = RunConfig(alerts={"stale_heartbeat_seconds": 3.0, "feed_down_seconds": 5.0})
    return LiveOps(
        config,
        tmp_path,
        bar_seconds=1.0,
        feed_down_since=lambda: down_since[0],
        now_ns=lambda: clock[0],
    )


def _publish(ops: LiveOps, step: int, age_seconds: float) -> None:
    ops.view.publish(
        Snapshot(
            run_id="dog",
            step=step,
            bar_ts=step * NS,
            wall_ns=time.time_ns() - int(age_seconds * NS),
            bar_seconds=1.0,
            agents=[AgentRow(id=0, policy="buy-and-hold", equity=1.0)],
        )
    )


def test_a_stale_heartbeat_and_a_dead_feed_alert_with_no_step(tmp_path: Path) -> None:
    clock: list[int] = [100 * NS]
    down: list[int | None] = [None]
    ops = _ops(tmp_path, clock, down)
    try:
        ops.check_between_steps()  # before the first step: nothing to judge
        _publish(ops, 4, age_seconds=0.1)
        ops.check_between_steps()
        assert ops.book.list() == []
        _publish(ops, 5, age_seconds=10.0)  # the session has not stepped for 10 s
        down[0] = clock[0] - 6 * NS  # and the feed has been down for 6 s
        ops.check_between_steps()
        ops.check_between_steps()  # a condition fires once while it holds
        rules = sorted(a.rule for a in ops.book.list())
        assert rules == ["feed_down", "stale_heartbeat"]
        assert all(a.step == 5 and a.severity == "critical" for a in ops.book.list())
        assert (tmp_path / "alerts.jsonl").read_text().count('"kind":"alert"') == 2
    finally:
        ops.close()


def test_the_thread_checks_on_its_own_and_survives_a_failing_check() -> None:
    calls: list[int] = []

    def check() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("a check that fails once")

    dog = Watchdog(check, period=0.01)
    dog.start()
    deadline = time.monotonic() + 10
    while len(calls) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    dog.stop()
    assert len(calls) >= 3  # the failure did not stop it
    assert period_for(0.01) == MIN_PERIOD and period_for(3600) == MAX_PERIOD
    assert period_for(2.0) == 0.5

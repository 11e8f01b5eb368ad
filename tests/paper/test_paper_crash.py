"""Crash-only: SIGKILL a paper session at 5 random moments, `--resume` after each. The final
WAL verifies, no served bar is lost or journaled twice, and replay gives parity over the
whole session."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from feed_venue import NS, FakeVenue, Market, ScaledClock, script
from paper_helpers import AGENTS

from scarline.events import Bar, DataFault, SessionEnd
from scarline.journal import read_records, verify
from scarline.journal.manifest import read_manifest
from scarline.replayer import replay_run
from scarline.rundir import RunDir

SPEED = 10.0  # fake seconds per wall second: 1-second bars arrive 10 a second
STEPS = 80
CHILD = Path(__file__).with_name("crash_child.py")


def _start(spec: dict, resume: bool) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    tests = Path(__file__).parent
    env["PYTHONPATH"] = os.pathsep.join([str(tests), str(tests.parent), env.get("PYTHONPATH", "")])
    return subprocess.Popen(
        [sys.executable, str(CHILD), json.dumps({**spec, "resume": resume})],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.mark.slow
def test_five_sigkills_and_resumes_lose_nothing_and_replay(tmp_path: Path) -> None:
    t0 = 1_700_000_000 * NS
    clock = ScaledClock(t0, time.time_ns(), SPEED)
    rng = random.Random(20261205)
    btc, eth = Market("BTC/USDT"), Market("ETH/USDT", lot="0.0001", min_notional="10")
    candles = {
        "BTCUSDT": script(t0 - 10 * NS, 2000, NS, price="30000.00", seed=1),
        "ETHUSDT": script(t0 - 10 * NS, 2000, NS, price="2000.00", seed=2),
    }
    with FakeVenue(clock, NS, markets=[btc, eth], candles=candles) as venue:  # type: ignore[arg-type]
        live = {
            "feed": "ccxt",
            "symbols": ["BTC/USDT", "ETH/USDT"],
            "timeframe": "1s",
            "base_url": venue.url,
            "poll_seconds": 1.0,
            "grace_seconds": 0.5,
            "timeout_seconds": 2.0,
            "stale_seconds": 3600.0,  # a backfill after a restart is traded on, not faulted
        }
        config = {"name": "crash", "seed": 3, "agents": AGENTS, "live": live, "report": False}
        run_dir = tmp_path / "runs" / "crash"
        spec = {
            "t0": clock.t0,
            "r0": clock.r0,
            "speed": SPEED,
            "config": config,
            "out": str(tmp_path / "runs"),
            "run_id": "crash",
            "max_steps": STEPS,
        }
        child = _start(spec, resume=False)
        deadline = time.monotonic() + 60
        while not (run_dir / "heartbeat.json").exists():  # the first bars are journaled
            assert child.poll() is None, child.stderr.read() if child.stderr else b""
            assert time.monotonic() < deadline
            time.sleep(0.05)
        for _ in range(5):
            time.sleep(rng.uniform(0.0, 1.5))
            child.send_signal(signal.SIGKILL)
            child.wait()
            child = _start(spec, resume=True)
        _, err = child.communicate(timeout=120)
        assert child.returncode == 0, err.decode()

    manifest = read_manifest(run_dir)
    assert manifest.steps == STEPS
    assert verify(RunDir(run_dir).wal, "crash", expected_head=manifest.wal_head).ok
    records = list(read_records(RunDir(run_dir).wal))
    assert sum(isinstance(r.data, SessionEnd) for r in records) == 1
    for m, market_id in enumerate(["BTCUSDT", "ETHUSDT"]):
        bars = [r.ts for r in records if isinstance(r.data, Bar) and r.data.instrument == m]
        faults = [
            r.data.bar_ts
            for r in records
            if isinstance(r.data, DataFault) and r.data.instrument == m
        ]
        seen = sorted(bars + faults)
        assert len(seen) == len(set(seen))  # no bar journaled twice
        served = [r.ts for r in candles[market_id] if seen[0] <= r.ts <= seen[-1]]
        assert seen == served  # none lost between the first and the last
    replayed = replay_run(run_dir)
    assert replayed.parity, replayed.describe()

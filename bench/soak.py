"""Soak: a day of one-minute bars through the whole paper path, at accelerated speed.

    python bench/soak.py [--json] [--bars 1440] [--symbols 2]

A fake binance venue on 127.0.0.1 (tests/feed_venue.py) serves a recorded-style day of
one-minute candles on a fake clock that jumps to each next poll (no real waiting); the
session polls it through ccxt's REST client (rate limiter on, at 1 ms) and runs the
default paper population (configs/paper.toml's agents) on the kernel with the WAL, the
risk engine and the paper broker on — `scarline paper`'s code path, minus the network.

Reported: bars/s, p50/p99 step latency (signal → ack), RSS at the start (after the first
hour of bars, once every table is warm) and at the end, and invariant violations:
a bar missing or journaled twice against what the venue served, an agent whose equity is
not cash + positions at the close, a WAL that does not verify, replay without parity.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from feed_venue import NS, FakeClock, FakeVenue, Market, script  # noqa: E402
from output import logs_to_stderr  # noqa: E402

from scarline.argtypes import positive_int  # noqa: E402
from scarline.config import RunConfig  # noqa: E402
from scarline.events import Bar  # noqa: E402
from scarline.journal import read_records, verify  # noqa: E402
from scarline.market.feeds.factory import make_feed  # noqa: E402
from scarline.paper.session import PaperOptions, PaperSession  # noqa: E402
from scarline.replayer import replay  # noqa: E402
from scarline.rundir import RunDir  # noqa: E402

MINUTE = 60 * NS
T0 = 1_704_067_200 * NS  # 2024-01-01T00:00:00Z
WARMUP = 60  # steps before the step times and the starting RSS are taken
SYMBOLS = [("BTC/USDT", "30000.00", "0.00001"), ("ETH/USDT", "2000.00", "0.0001")]


def rss_mib() -> float:
    """Resident set size now (MiB), from /proc (ru_maxrss is a peak, not a level)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def soak(bars: int, n_symbols: int) -> dict[str, object]:
    clock = FakeClock(T0)
    chosen = SYMBOLS[:n_symbols]
    markets = [Market(s, lot=lot) for s, _, lot in chosen]
    candles = {
        m.id: script(T0 - 10 * MINUTE, bars + 20, MINUTE, price=p, seed=i)
        for i, (m, (_, p, _)) in enumerate(zip(markets, chosen, strict=True))
    }
    paper = tomllib.loads((ROOT / "configs" / "paper.toml").read_text())
    steps_ns: list[int] = []
    rss: dict[str, float] = {}
    with (
        tempfile.TemporaryDirectory(prefix="scarline-soak-") as tmp,
        FakeVenue(clock, MINUTE, markets=markets, candles=candles) as venue,
    ):
        live = {
            "feed": "ccxt",
            "exchange": "binance",
            "symbols": [s for s, _, _ in chosen],
            "timeframe": "1m",
            "base_url": venue.url,
            "poll_seconds": 5.0,
            "grace_seconds": 2.0,
        }
        config = RunConfig(
            name="soak",
            seed=1,
            agents=paper["agents"],
            execution=paper.get("execution", {}),
            live=live,
            report=False,
        )

        def feed_factory(cfg, after):  # type: ignore[no-untyped-def]
            feed = make_feed(cfg, clock=clock, after=after)
            feed.client.rateLimit = 1  # type: ignore[attr-defined]
            return feed

        last = [time.perf_counter_ns()]

        def on_step(t: int) -> None:
            venue.requests.clear()  # the fake venue's request log is not the session's memory
            now = time.perf_counter_ns()
            steps_ns.append(now - last[0])
            last[0] = now
            if t == WARMUP - 1:
                rss["start"] = rss_mib()

        options = PaperOptions(
            out_dir=Path(tmp),
            run_id="soak",
            max_steps=bars,
            feed_factory=feed_factory,
            sleep=clock.sleep,
            on_step=on_step,
        )
        session = PaperSession(config, options)
        start = time.perf_counter()
        summary = session.run_session()
        elapsed = time.perf_counter() - start
        rss["end"] = rss_mib()
        timer = session._heartbeat.quantiles() if session._heartbeat else {}
        violations = invariants(summary.run_dir, summary.run_id, summary.wal_head, candles)
    step_ms = np.asarray(steps_ns[WARMUP:], dtype=np.float64) / 1e6
    return {
        "bars": summary.steps,
        "symbols": n_symbols,
        "agents": summary.n_agents,
        "seconds": round(elapsed, 2),
        "bars_per_s": round(summary.steps / elapsed, 1),
        "step_ms_p50": round(float(np.percentile(step_ms, 50)), 2),
        "step_ms_p99": round(float(np.percentile(step_ms, 99)), 2),
        "stage_p99_ms": {k: round(v["p99"] * 1e3, 3) for k, v in timer.items() if k != "ingest"},
        "rss_mib_start": round(rss["start"], 1),
        "rss_mib_end": round(rss["end"], 1),
        "rss_growth": round(rss["end"] / rss["start"] - 1, 4),
        "invariant_violations": violations,
    }


def invariants(run_dir: Path, run_id: str, head: str, candles: dict[str, list]) -> int:
    """Count what went wrong: bars lost or doubled, equity not cash + holdings, a WAL that
    does not verify, replay without parity."""
    bad = 0
    if not verify(RunDir(run_dir).wal, run_id, expected_head=head).ok:
        bad += 1
    records = list(read_records(RunDir(run_dir).wal, kinds=("Bar",)))
    for m, rows in enumerate(candles.values()):
        got = [r.ts for r in records if isinstance(r.data, Bar) and r.data.instrument == m]
        served = [r.ts for r in rows if got and got[0] <= r.ts <= got[-1]]
        bad += int(got != served)
    replayed = replay(run_dir)
    bad += int(not replayed.result.parity)
    accounts = replayed.kernel.accounts
    holdings = (accounts.position * accounts.last_close * accounts.unit_values).sum(axis=1)
    bad += int(np.count_nonzero(accounts.cash + holdings != accounts.equity))
    return bad


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--bars", type=positive_int, default=1440, help="one-minute bars (1440: 24 h)"
    )
    parser.add_argument("--symbols", type=int, default=2, choices=(1, 2))
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    logs_to_stderr()
    if args.bars <= WARMUP:
        parser.error(f"--bars must be more than {WARMUP}: the first {WARMUP} steps are warm-up")
    result = soak(args.bars, args.symbols)
    if args.json:
        print(json.dumps(result))
        return
    print(
        f"soak: {result['bars']} one-minute bars x {result['symbols']} symbols, "
        f"{result['agents']} agents, fake venue -> ccxt -> kernel -> WAL"
    )
    for key, value in result.items():
        print(f"  {key:<22} {value}")


if __name__ == "__main__":
    main()

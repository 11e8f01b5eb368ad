"""Kernel throughput with WAL, risk, broker and accounting on.

    python bench/kernel.py --json [--bars N] [--agents N] [--agent-bars N] [--repeat R]

``bars_per_s_single``: one SMA(10,30) strategy (N = 1) over ``--bars`` synthetic minute
bars, event-driven, every bar and decision journaled, risk limits on.
``agent_steps_per_s_rules``: ``--agents`` SMA-crossover rule agents (distinct window pairs)
over ``--agent-bars`` bars — agent-steps per second of the same kernel.
Only the kernel loop is timed (market generation and the report are not).
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import tempfile
import time
from pathlib import Path

from scarline.argtypes import positive_int
from scarline.assembly import kernel_for
from scarline.config import RunConfig
from scarline.journal import WalWriter
from scarline.market.stream import normalized
from scarline.market.synthetic import SynthSpec, generate
from scarline.operator import ReplayOperator
from scarline.session import SessionIds

RISK = {
    "max_position_lots": 1_000_000,
    "max_gross_notional": 1e10,
    "min_cash": 0.0,
    "ladder": {"warn_drawdown_pct": 20.0, "throttle_drawdown_pct": 40.0, "halt_drawdown_pct": 60.0},
}


def _time_kernel(cfg: RunConfig, steps: int) -> float:
    """Seconds for one kernel run over ``steps`` synthetic minute bars (WAL on disk)."""
    market = normalized(generate(SynthSpec(n_steps=steps, seed=7, freq="1min")))
    with (
        tempfile.TemporaryDirectory(prefix="scarline-bench-kernel-") as tmp,
        WalWriter(Path(tmp) / "wal", "bench", fsync="batch") as wal,
    ):
        ids = SessionIds("bench", "s")
        kernel = kernel_for(cfg, market, ids, wal, ReplayOperator([]), keep_equity=False)
        gc.collect()  # the previous run's garbage is not this run's cost
        start = time.perf_counter()
        kernel.run()
        wal.flush()
        return time.perf_counter() - start


def measure(bars: int, agents: int, agent_bars: int) -> dict[str, float | int]:
    single = RunConfig(
        agents=[{"kind": "sma-crossover", "fast": [10], "slow": [30]}], risk=RISK, report=False
    )
    fast = list(range(2, 2 + int(agents**0.5)))
    slow = list(range(100, 100 + -(-agents // len(fast))))
    many = RunConfig(
        agents=[{"kind": "sma-crossover", "fast": fast, "slow": slow}], risk=RISK, report=False
    )
    n_many = len(fast) * len(slow)
    t_single = _time_kernel(single, bars)
    t_many = _time_kernel(many, agent_bars)
    return {
        "bars_per_s_single": round(bars / t_single),
        "agent_steps_per_s_rules": round(n_many * agent_bars / t_many),
        "bars_single": bars,
        "agents_rules": n_many,
        "bars_rules": agent_bars,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=positive_int, default=200_000)
    parser.add_argument("--agents", type=positive_int, default=4096)
    parser.add_argument("--agent-bars", type=positive_int, default=2_000)
    parser.add_argument(
        "--repeat", type=positive_int, default=3, help="runs; the median is reported"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    runs = [measure(args.bars, args.agents, args.agent_bars) for _ in range(args.repeat)]
    result = dict(runs[0], repeat=len(runs))
    for key in ("bars_per_s_single", "agent_steps_per_s_rules"):
        result[key] = statistics.median(int(r[key]) for r in runs)
    if args.json:
        print(json.dumps(result))
        return
    print(f"kernel bench (WAL + risk + broker + accounting on), median of {len(runs)}")
    print(f"  N = 1 SMA strategy, {args.bars:,} bars   {result['bars_per_s_single']:>12,} bars/s")
    print(
        f"  N = {result['agents_rules']:,} rule agents, {args.agent_bars:,} bars"
        f"   {result['agent_steps_per_s_rules']:>12,} agent-steps/s"
    )


if __name__ == "__main__":
    main()

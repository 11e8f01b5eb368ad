"""Synthetic run results for the report tests: seeded, any N × T, optional logs."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from scarline.report.results import OUTCOMES, RiskLog, RunResults, TradeLog

DAY_NS = 86_400 * 10**9
START_NS = int(np.datetime64("2020-01-06", "ns").astype(np.int64))
RULES = ("max_position", "price_band", "drawdown")

MakeResults = Callable[..., RunResults]


def _results(
    n: int = 3,
    t: int = 50,
    m: int = 2,
    seed: int = 0,
    with_trades: bool = True,
    with_risk: bool = True,
    policies: list[str] | None = None,
    split_step: int | None = None,
) -> RunResults:
    rng = np.random.default_rng(seed)
    timestamps = START_NS + np.arange(t, dtype=np.int64) * DAY_NS
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, (t, m)), axis=0))
    r = rng.normal(0.0003, 0.01, (t, n))
    r[0] = 0.0
    equity = 10_000.0 * np.cumprod(1.0 + r, axis=0)
    if policies is None:
        rules = [f"sma-crossover({2 + i % 8},{20 + i % 15})" for i in range(max(n - 2, 0))]
        policies = ["buy-and-hold", "random-entry(p=0.1)", *rules][:n]
    trades = TradeLog.empty()
    if with_trades:
        k = 6 * n
        step = np.sort(rng.integers(0, t, k))
        inst = rng.integers(0, m, k)
        trades = TradeLog(
            step,
            rng.integers(0, n, k),
            inst,
            rng.choice([1, -1], k),
            rng.integers(1, 10, k),
            close[step, inst],
            np.full(k, 0.5),
        )
    risk = RiskLog.empty()
    if with_risk:
        e = 40
        risk = RiskLog.from_labels(
            rng.integers(0, t, e),
            rng.integers(-1, n, e),
            list(rng.choice(RULES, e)),
            list(rng.choice(OUTCOMES, e)),
        )
    return RunResults(
        run_id=f"test-run-{seed}",
        timestamps=timestamps,
        symbols=["AAA", "BBB", "CCC"][:m],
        close=close,
        agent_ids=np.arange(100, 100 + n, dtype=np.int64),
        policies=policies,
        equity=equity,
        initial_cash=10_000.0,
        fees=np.full(n, 3.0),
        slippage=np.full(n, 1.5),
        turnover=np.linspace(0.0, 2.0, n),
        trades=trades,
        risk_events=risk,
        periods_per_year=252.0,
        split_step=split_step,
        meta={"config_hash": "abc123", "seed": str(seed)},
    )


@pytest.fixture
def make_results() -> MakeResults:
    """``make_results(n=3, t=50, m=2, seed=0, with_trades=True, with_risk=True, ...)``."""
    return _results

"""A finished kernel → the report's :class:`RunResults` (currency units, floats)."""

from __future__ import annotations

import numpy as np

from scarline.execution.types import CASH_SCALE
from scarline.kernel import Kernel
from scarline.market.frequency import periods_per_year
from scarline.performance import turnover_ratio
from scarline.report.results import RiskLog, RunResults, TradeLog


def run_results(kernel: Kernel, meta: dict[str, str], split_step: int | None = None) -> RunResults:
    market, accounts, recorder = kernel.market, kernel.accounts, kernel.recorder
    if recorder.equity is None:
        raise ValueError("this kernel did not record its equity path (keep_equity=False)")
    equity = recorder.equity / CASH_SCALE
    ticks = market.tick_sizes()
    trades = recorder.trades()
    trade_log = TradeLog(
        step=trades["step"],
        agent=trades["agent"],
        instrument=trades["instrument"],
        side=trades["side"],
        qty=trades["qty"],
        price=trades["price"] * ticks[trades["instrument"]],
        fee=trades["fee"] / CASH_SCALE,
    )
    steps, agents, rules, outcomes = recorder.risk_events()
    if kernel.killed_at is not None:
        steps = np.append(steps, kernel.killed_at)
        agents = np.append(agents, -1)
        rules, outcomes = [*rules, "kill_switch"], [*outcomes, "kill"]
    return RunResults(
        run_id=kernel.ids.run_id,
        timestamps=market.timestamps,
        symbols=market.symbols,
        close=market.prices("close"),
        agent_ids=kernel.population.agent_ids,
        policies=kernel.population.labels,
        equity=equity,
        initial_cash=accounts.initial_cash / CASH_SCALE,
        fees=accounts.fees / CASH_SCALE,
        slippage=accounts.slippage / CASH_SCALE,
        turnover=turnover_ratio(accounts.traded / CASH_SCALE, equity),
        trades=trade_log,
        risk_events=RiskLog.from_labels(steps, agents, rules, outcomes),
        periods_per_year=periods_per_year(market.frequency, market.timestamps, market.calendar),
        meta=meta,
        split_step=split_step,
        scars=kernel.life.scars,
        died_at=kernel.life.death_step,
        kinds=kernel.population.kinds,
        trust=kernel.life.trust,
    )


def regime_labels_of(kernel: Kernel) -> tuple[np.ndarray, tuple[str, ...]] | None:
    """The run's committed HMM regime per bar and the regime names (None: the HMM is off)."""
    path = kernel.regimes.path
    if path is None:
        return None
    from scarline.regime.hmm import REGIME_NAMES

    return path.labels, tuple(REGIME_NAMES)

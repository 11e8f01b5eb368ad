"""Per-agent performance figures, as pure array functions over the ``[T, N]`` equity.

Every function works on all N agents at once (columns), so the report of a 4096-agent
population costs a few array passes. NaN in equity means "agent not alive at that step"
and is skipped, never propagated: a figure is a number (0 when undefined, as the Sharpe),
except turnover (:func:`scarline.performance.turnover_ratio`), which is NaN without positive
mean equity: there 0 would say the agent did not trade.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from scarline.report.results import OUTCOMES, RiskLog, RunResults, TradeLog
from scarline.stats import max_drawdown, period_returns, sharpe


def sharpe_ratio(equity: np.ndarray, periods_per_year: float) -> np.ndarray:
    """Annualized Sharpe of each agent's equity path: :func:`scarline.stats.sharpe` (sample
    std, 0 without two valid returns or without variation) of its
    :func:`scarline.stats.period_returns` (NaN, i.e. skipped, where undefined)."""
    return sharpe(period_returns(equity), periods_per_year=periods_per_year)


def final_equity(equity: np.ndarray) -> np.ndarray:
    """``float64[N]`` last finite equity of each agent (NaN if it never had one)."""
    finite = np.isfinite(equity)
    last = equity.shape[0] - 1 - np.argmax(finite[::-1], axis=0)
    out = equity[last, np.arange(equity.shape[1])]
    return np.where(finite.any(axis=0), out, np.nan)


def total_return(final: np.ndarray, initial_cash: float) -> np.ndarray:
    """``final / initial_cash − 1``."""
    return final / initial_cash - 1.0


def fill_counts(trades: TradeLog, n_agents: int) -> np.ndarray:
    """``int64[N]`` number of fills per agent column."""
    return np.bincount(trades.agent, minlength=n_agents).astype(np.int64)


def traded_notional(
    trades: TradeLog, n_agents: int, multipliers: np.ndarray | None = None
) -> np.ndarray:
    """``float64[N]`` gross notional Σ qty × price × multiplier[instrument] (lot size)."""
    value = trades.qty * trades.price
    if multipliers is not None:
        value = value * np.asarray(multipliers, dtype=np.float64)[trades.instrument]
    return np.bincount(trades.agent, weights=value, minlength=n_agents)


def risk_event_counts(log: RiskLog) -> np.ndarray:
    """``int64[R, len(OUTCOMES)]`` events per rule (rows, as ``rule_names``) × outcome."""
    r, o = len(log.rule_names), len(OUTCOMES)
    flat = np.bincount(log.rule * o + log.outcome, minlength=r * o)
    return flat.reshape(r, o).astype(np.int64)


@dataclass(frozen=True, eq=False)
class AgentMetrics:
    """The headline figures of N agents, one array per column, in agent column order."""

    agent_ids: np.ndarray  # int64[N]
    policies: list[str]
    final_equity: np.ndarray  # float64[N], currency
    total_return: np.ndarray  # float64[N], fraction (0.1 = +10 %)
    sharpe: np.ndarray  # float64[N], annualized
    max_drawdown: np.ndarray  # float64[N], positive fraction
    turnover: np.ndarray  # float64[N]
    fees: np.ndarray  # float64[N], currency
    slippage: np.ndarray  # float64[N], currency
    trades: np.ndarray  # int64[N], fills
    scars: np.ndarray  # int64[N]
    died_at: np.ndarray  # int64[N], -1 alive
    is_return: np.ndarray  # float64[N], return up to the split (NaN without one)
    oos_return: np.ndarray  # float64[N], return after the split (NaN without one)
    oos_sharpe: np.ndarray  # float64[N], annualized Sharpe after the split (NaN without one)
    oos_trades: np.ndarray  # int64[N], fills from the split on (-1 without one)
    trust: np.ndarray  # float64[N], trust at the end (0 dead, NaN not recorded)

    def __len__(self) -> int:
        return int(self.agent_ids.shape[0])

    def ranking(self) -> np.ndarray:
        """Agent columns by return, best first; ties by column, NaN last (deterministic)."""
        key = np.where(np.isnan(self.total_return), np.inf, -self.total_return)
        return np.argsort(key, kind="stable")

    def to_records(self) -> list[dict[str, Any]]:
        """One plain dict per agent (JSON-ready; keys as in ``scarline run --json`` agents)."""
        cols = {
            "id": self.agent_ids.tolist(),
            "policy": self.policies,
            "final_equity": self.final_equity.tolist(),
            "return": self.total_return.tolist(),
            "sharpe": self.sharpe.tolist(),
            "max_drawdown": self.max_drawdown.tolist(),
            "turnover": self.turnover.tolist(),
            "fees": self.fees.tolist(),
            "slippage": self.slippage.tolist(),
            "trades": self.trades.tolist(),
            "scars": self.scars.tolist(),
            "is_return": self.is_return.tolist(),
            "oos_return": self.oos_return.tolist(),
            "oos_sharpe": self.oos_sharpe.tolist(),
            "oos_trades": [None if n < 0 else n for n in self.oos_trades.tolist()],
            "trust": self.trust.tolist(),
            "died_at": [None if d < 0 else d for d in self.died_at.tolist()],
        }
        return [dict(zip(cols, row, strict=True)) for row in zip(*cols.values(), strict=True)]


def agent_metrics(results: RunResults) -> AgentMetrics:
    """The per-agent table of a run (fees, slippage and turnover are taken as given)."""
    final = final_equity(results.equity)
    # RunResults fills these in when it is built (zeros, all alive, NaN when not given)
    assert results.scars is not None and results.died_at is not None
    assert results.trust is not None
    return AgentMetrics(
        agent_ids=results.agent_ids,
        policies=list(results.policies),
        final_equity=final,
        total_return=total_return(final, results.initial_cash),
        sharpe=sharpe_ratio(results.equity, results.periods_per_year),
        max_drawdown=max_drawdown(results.equity),
        turnover=results.turnover,
        fees=results.fees,
        slippage=results.slippage,
        trades=fill_counts(results.trades, results.n_agents),
        scars=results.scars,
        died_at=results.died_at,
        trust=results.trust,
        **split_returns(results.equity, results.initial_cash, results.split_step),
        **oos_figures(results),
    )


def split_returns(
    equity: np.ndarray, initial_cash: float, split: int | None
) -> dict[str, np.ndarray]:
    """In-sample return (to the close before ``split``) and out-of-sample return (from that
    close to the end); NaN for both without a split."""
    n = equity.shape[1]
    if split is None or split < 1:
        return {"is_return": np.full(n, np.nan), "oos_return": np.full(n, np.nan)}
    at_split = equity[split - 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "is_return": at_split / initial_cash - 1.0,
            "oos_return": final_equity(equity) / at_split - 1.0,
        }


def oos_figures(results: RunResults) -> dict[str, np.ndarray]:
    """Out-of-sample Sharpe (annualized with the run's periods per year, over the returns
    from the close before the split, as ``oos_return``) and fills from the split on; NaN and
    -1 without a split."""
    n, split = results.n_agents, results.split_step
    if split is None or split < 1:
        return {"oos_sharpe": np.full(n, np.nan), "oos_trades": np.full(n, -1, np.int64)}
    trades = results.trades
    late = trades.step >= split
    return {
        "oos_sharpe": sharpe_ratio(results.equity[split - 1 :], results.periods_per_year),
        "oos_trades": np.bincount(trades.agent[late], minlength=n).astype(np.int64),
    }

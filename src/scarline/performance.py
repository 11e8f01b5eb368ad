"""Per-agent performance statistics, from the equity curve and the round trips: the one
module every table of them (``Result.stats``, ``scarline stats``, the tearsheet) comes from.

Return-based figures follow quantstats' conventions (tested against it where it installs):
per-bar simple returns ``r`` of equity; ``sharpe = mean(r) / std(r, ddof=1) × √P``;
``sortino = mean(r) / √(Σ r[r<0]² / n) × √P``; ``volatility = std(r, ddof=1) × √P``;
``cagr = (1 + total)^(P / n) − 1`` (years = bars / P); ``max_drawdown = min(equity /
running peak) − 1`` (≤ 0); ``calmar = cagr / |max_drawdown|``. P is the periods per year of
the run's calendar. Undefined ratios (no variation, no drawdown) are NaN, never ±inf.

Trade-based figures come from ``trades.parquet`` (quantstats counts winning *bars*; a
trading user means trades): ``win_rate`` = closed trades with pnl > 0 / closed trades,
``profit_factor`` = gross profit / gross loss of closed trades, ``trades`` counts open ones
too, ``exposure`` = share of bars with any position open, ``fees`` their sum.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

COLUMNS = (
    "return",
    "cagr",
    "volatility",
    "sharpe",
    "sortino",
    "calmar",
    "max_drawdown",
    "win_rate",
    "profit_factor",
    "exposure",
    "trades",
    "turnover",
    "fees",
)


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den > 0 and np.isfinite(den) else float("nan")


def return_stats(equity: np.ndarray, periods_per_year: float) -> dict[str, float]:
    """The return-based figures of one equity curve (currency, ``float64[T]``)."""
    equity = np.asarray(equity, dtype=np.float64)
    if equity.size < 2 or not equity[0] > 0:
        return dict.fromkeys(COLUMNS[:7], float("nan"))
    r = equity[1:] / equity[:-1] - 1.0
    r = np.where(np.isfinite(r), r, 0.0)
    n, root = r.size, np.sqrt(periods_per_year)
    total = float(equity[-1] / equity[0] - 1.0)
    std = float(r.std(ddof=1)) if n > 1 else 0.0
    downside = float(np.sqrt((r[r < 0] ** 2).sum() / n))
    wealth = 1.0 + total
    cagr = float(wealth ** (periods_per_year / n) - 1.0) if wealth > 0 else float("nan")
    peak = np.maximum.accumulate(equity)
    max_dd = float((equity / peak).min() - 1.0)
    return {
        "return": total,
        "cagr": cagr,
        "volatility": std * root,
        "sharpe": _ratio(float(r.mean()), std) * root,
        "sortino": _ratio(float(r.mean()), downside) * root,
        "calmar": _ratio(cagr, abs(max_dd)),
        "max_drawdown": max_dd,
    }


def trade_stats(trades: pd.DataFrame, n_steps: int) -> dict[str, float]:
    """The trade-based figures of one agent's rows of ``trades.parquet``."""
    closed = trades[~trades["open"]] if len(trades) else trades
    wins = closed["pnl"][closed["pnl"] > 0].sum() if len(closed) else 0.0
    losses = -closed["pnl"][closed["pnl"] < 0].sum() if len(closed) else 0.0
    held = np.zeros(max(n_steps, 1), dtype=bool)
    for entry, exit_, is_open in trades[["entry_step", "exit_step", "open"]].itertuples(
        index=False
    ):
        held[int(entry) : int(exit_) + (1 if is_open else 0)] = True
    return {
        "win_rate": _ratio(float((closed["pnl"] > 0).sum()), float(len(closed))),
        "profit_factor": _ratio(float(wins), float(losses)),
        "exposure": float(held.mean()) if len(trades) else 0.0,
        "trades": float(len(trades)),
        "fees": float(trades["fees"].sum()) if len(trades) else 0.0,
    }


def performance_table(
    equity: pd.DataFrame,
    trades: pd.DataFrame,
    periods_per_year: float,
    turnover: dict[int, float] | None = None,
) -> pd.DataFrame:
    """``agent × COLUMNS`` for every column of ``equity`` (time × agent id)."""
    rows = {}
    for agent in equity.columns:
        mine = trades[trades["agent"] == agent] if len(trades) else trades
        row = return_stats(equity[agent].to_numpy(), periods_per_year)
        row |= trade_stats(mine, len(equity))
        row["turnover"] = float("nan") if turnover is None else turnover.get(int(agent), np.nan)
        rows[agent] = row
    table = pd.DataFrame.from_dict(rows, orient="index", columns=list(COLUMNS))
    table.index.name = "agent"
    return table.astype({"trades": "int64"})

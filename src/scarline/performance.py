"""Per-agent performance statistics, from the equity curve and the round trips: the one
module every table of them (``Result.stats``, ``scarline stats``, the tearsheet) comes from.

Return-based figures follow quantstats' conventions (tested against it where it installs):
per-bar simple returns ``r`` of equity; ``sharpe = mean(r) / std(r, ddof=1) × √P``;
``sortino = mean(r) / √(Σ r[r<0]² / n) × √P``; ``volatility = std(r, ddof=1) × √P``;
``cagr = (1 + total)^(P / n) − 1`` (years = bars / P); ``max_drawdown = min(equity /
running peak) − 1`` (≤ 0); ``calmar = cagr / |max_drawdown|``. P is the periods per year of
the run's calendar. Undefined ratios (no variation, no drawdown) are NaN, never ±inf; so is
the volatility of a single return (a sample std needs two). A step from equity at or below 0
(a ruined account) has no return and counts as 0. One bar has a return and a drawdown of 0
and no other figure.

Trade-based figures come from ``trades.parquet`` (quantstats counts winning *bars*; a
trading user means trades): ``win_rate`` = closed trades with pnl > 0 / closed trades,
``profit_factor`` = gross profit / gross loss of closed trades, ``trades`` counts open ones
too, ``exposure`` = share of bars with any position open, ``fees`` their sum.

``turnover`` = traded notional / mean equity over the whole run (not per year), NaN where
the mean equity is at or below 0: a ratio to no capital means nothing, and 0 would claim
the agent did not trade (:func:`turnover_ratio`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
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
    """``num / den``; NaN when the denominator is 0, NaN or inf (never ±inf)."""
    return float(num / den) if den > 0 and np.isfinite(den) else float("nan")


def mean_equity(equity: np.ndarray) -> np.ndarray:
    """``float64[N]`` mean of each column's finite equity (NaN steps: not alive then);
    NaN for a column without one."""
    equity = np.asarray(equity, dtype=np.float64)
    valid = np.isfinite(equity)
    count = valid.sum(axis=0)
    total = np.where(valid, equity, 0.0).sum(axis=0)
    return np.divide(total, count, out=np.full(total.shape, np.nan), where=count > 0)


def turnover_ratio(notional: npt.ArrayLike, equity: np.ndarray) -> np.ndarray:
    """``float64[N]`` traded notional / mean equity over the run (1.0: the agent traded its
    average capital once over the whole run, not per year); NaN where the mean equity is at
    or below 0 (or there is none), since 0 would say "did not trade"."""
    mean = mean_equity(equity)
    out = np.full(mean.shape, np.nan)
    np.divide(np.asarray(notional, dtype=np.float64), mean, out=out, where=mean > 0)
    return out


def return_stats(equity: np.ndarray, periods_per_year: float) -> dict[str, float]:
    """The return-based figures of one equity curve (currency, ``float64[T]``)."""
    equity = np.asarray(equity, dtype=np.float64)
    if equity.size < 1 or not equity[0] > 0:
        return dict.fromkeys(COLUMNS[:7], float("nan"))
    if equity.size == 1:  # one bar: nothing gained, nothing lost, no period to annualize
        return dict.fromkeys(COLUMNS[:7], float("nan")) | {"return": 0.0, "max_drawdown": 0.0}
    # a step from a ruined account (equity at or below 0, or NaN/inf in a damaged file) has
    # no return: it counts as 0 (as quantstats fills it), not as the ratio of two negative
    # equities, whose sign is the opposite of the change (-100 -> -50 read as -50 %)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        prev = equity[:-1]
        r = equity[1:] / prev - 1.0
        r = np.where(np.isfinite(r) & (prev > 0), r, 0.0)
        n, root = r.size, np.sqrt(periods_per_year)
        total = float(equity[-1] / equity[0] - 1.0)
        # the sample std of one return is undefined (NaN, as pandas gives), not 0
        std = float(r.std(ddof=1)) if n > 1 else float("nan")
        downside = float(np.sqrt((r[r < 0] ** 2).sum() / n))
        wealth = 1.0 + total
        # ruin (wealth 0) compounds to -100 % a year, as quantstats and empyrical give; a
        # negative wealth has no real growth rate (quantstats' abs() would invent one)
        cagr = float(wealth ** (periods_per_year / n) - 1.0) if wealth >= 0 else float("nan")
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
    return _trade_figures(_trade_columns(trades), n_steps)


_TRADE_COLUMNS = ("open", "pnl", "entry_step", "exit_step", "fees")


def _trade_columns(trades: pd.DataFrame) -> dict[str, np.ndarray]:
    if not len(trades):
        return {c: np.zeros(0, dtype=bool if c == "open" else np.float64) for c in _TRADE_COLUMNS}
    return {c: trades[c].to_numpy() for c in _TRADE_COLUMNS}


def _trade_figures(t: dict[str, np.ndarray], n_steps: int) -> dict[str, float]:
    """Figures of one agent's trades (columns as arrays, in the file's row order).

    Sums skip NaN and run over the same values in the same order as pandas' ``Series.sum``.
    A bar is held when a trade covers it: ``[entry_step, exit_step)``, the exit bar too
    while the trade is open (step indices are >= 0).
    """
    n_trades = t["pnl"].shape[0]
    closed = ~t["open"].astype(bool)
    pnl = t["pnl"][closed]
    n = max(n_steps, 1)
    if n_trades:
        stop = t["exit_step"].astype(np.int64) + t["open"].astype(np.int64)
        lo = np.clip(t["entry_step"].astype(np.int64), 0, n)
        hi = np.clip(stop, 0, n)
        edges = np.zeros(n + 1, dtype=np.int64)
        keep = lo < hi
        np.add.at(edges, lo[keep], 1)
        np.add.at(edges, hi[keep], -1)
        exposure = float((np.cumsum(edges[:n]) > 0).mean())
    return {
        "win_rate": _ratio(float((pnl > 0).sum()), float(pnl.shape[0])),
        "profit_factor": _ratio(float(np.nansum(pnl[pnl > 0])), float(-np.nansum(pnl[pnl < 0]))),
        "exposure": exposure if n_trades else 0.0,
        "trades": float(n_trades),
        "fees": float(np.nansum(t["fees"])) if n_trades else 0.0,
    }


def performance_table(
    equity: pd.DataFrame,
    trades: pd.DataFrame,
    periods_per_year: float,
    turnover: dict[int, float] | None = None,
) -> pd.DataFrame:
    """``agent × COLUMNS`` for every column of ``equity`` (time × agent id). ``turnover``
    (agent id -> ratio, as ``summary.json`` holds it) is NaN where the agent's mean equity
    is at or below 0, whatever it says: runs written before that rule hold 0 there."""
    rows = {}
    by_agent = _by_agent(trades)
    empty = _trade_columns(trades.iloc[:0])
    capital = dict(zip(equity.columns, mean_equity(equity.to_numpy()).tolist(), strict=True))
    for agent in equity.columns:
        row = return_stats(equity[agent].to_numpy(), periods_per_year)
        row |= _trade_figures(by_agent.get(int(agent), empty), len(equity))
        given = np.nan if turnover is None else turnover.get(int(agent), np.nan)
        row["turnover"] = float(given) if capital[agent] > 0 else float("nan")
        rows[agent] = row
    table = pd.DataFrame.from_dict(rows, orient="index", columns=list(COLUMNS))
    table.index.name = "agent"
    return table.astype({"trades": "int64"})


def _by_agent(trades: pd.DataFrame) -> dict[int, dict[str, np.ndarray]]:
    """Each agent's trade columns, rows in file order: one sort, not a scan per agent."""
    if not len(trades):
        return {}
    agent = trades["agent"].to_numpy()
    order = np.argsort(agent, kind="stable")
    ids, starts = np.unique(agent[order], return_index=True)
    columns = {c: trades[c].to_numpy()[order] for c in _TRADE_COLUMNS}
    bounds = [*starts.tolist(), len(order)]
    return {
        int(a): {c: v[bounds[i] : bounds[i + 1]] for c, v in columns.items()}
        for i, a in enumerate(ids.tolist())
    }

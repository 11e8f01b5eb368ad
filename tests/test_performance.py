"""The statistics follow quantstats' conventions: equal to quantstats (where it installs) and
to an independent reference written here, to 1e-9, on the same equity curves."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scarline.performance import (
    COLUMNS,
    mean_equity,
    performance_table,
    return_stats,
    turnover_ratio,
)

PPY = 252.0


def _curve(seed: int, n: int = 500) -> pd.Series:
    rng = np.random.default_rng(seed)
    r = rng.normal(0.0004, 0.012, n)
    index = pd.date_range("2020-01-01", periods=n + 1, freq="B", tz="UTC")
    return pd.Series(1_000_000.0 * np.cumprod(np.concatenate([[1.0], 1 + r])), index=index)


def _reference(equity: np.ndarray) -> dict[str, float]:
    """Written from the textbook definitions, loop by loop, independent of the module."""
    r = [equity[i] / equity[i - 1] - 1 for i in range(1, len(equity))]
    n = len(r)
    mean = sum(r) / n
    std = (sum((x - mean) ** 2 for x in r) / (n - 1)) ** 0.5
    down = (sum(x * x for x in r if x < 0) / n) ** 0.5
    peak, worst = equity[0], 0.0
    for e in equity:
        peak = max(peak, e)
        worst = min(worst, e / peak - 1)
    total = equity[-1] / equity[0] - 1
    return {
        "sharpe": mean / std * PPY**0.5,
        "sortino": mean / down * PPY**0.5,
        "max_drawdown": worst,
        "cagr": (1 + total) ** (PPY / n) - 1,
    }


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(30, 600))
def test_the_stats_equal_an_independent_reference(seed: int, n: int) -> None:
    equity = _curve(seed, n).to_numpy()
    mine, ref = return_stats(equity, PPY), _reference(equity)
    for key, value in ref.items():
        assert mine[key] == pytest.approx(value, rel=1e-9, abs=1e-12), key
    assert mine["calmar"] == pytest.approx(mine["cagr"] / abs(mine["max_drawdown"]), rel=1e-12)


def test_the_stats_equal_quantstats_where_it_installs() -> None:
    qs = pytest.importorskip("quantstats")
    for seed in range(5):
        equity = _curve(seed)
        returns = equity.pct_change().iloc[1:]
        mine = return_stats(equity.to_numpy(), PPY)
        assert mine["sharpe"] == pytest.approx(qs.stats.sharpe(returns, periods=252), rel=1e-9)
        assert mine["sortino"] == pytest.approx(qs.stats.sortino(returns, periods=252), rel=1e-9)
        assert mine["cagr"] == pytest.approx(qs.stats.cagr(returns, periods=252), rel=1e-9)
        assert mine["max_drawdown"] == pytest.approx(qs.stats.max_drawdown(equity), rel=1e-9)


def test_flat_curves_and_trades_give_defined_figures() -> None:
    index = pd.RangeIndex(5)
    equity = pd.DataFrame({0: [100.0] * 5, 1: [100.0, 110.0, 99.0, 120.0, 130.0]}, index=index)
    trades = pd.DataFrame(
        {
            "agent": [1, 1, 1],
            "entry_step": [0, 2, 3],
            "exit_step": [1, 3, 4],
            "pnl": [10.0, -5.0, 7.0],
            "fees": [0.1, 0.1, 0.1],
            "open": [False, False, True],
        }
    )
    table = performance_table(equity, trades, PPY, turnover={0: 0.0, 1: 2.5})
    assert list(table.columns) == list(COLUMNS)
    flat, active = table.loc[0], table.loc[1]
    assert np.isnan(flat["sharpe"]) and flat["max_drawdown"] == 0.0 and flat["trades"] == 0
    assert active["win_rate"] == 0.5 and active["profit_factor"] == 2.0
    assert active["trades"] == 3 and active["exposure"] == 0.8  # flat at step 1 only
    assert active["fees"] == pytest.approx(0.3) and active["turnover"] == 2.5


def _pandas_trade_stats(trades: pd.DataFrame, n_steps: int) -> dict[str, float]:
    """One agent's trade figures with pandas, a bar at a time: the reference."""
    closed = trades[~trades["open"]]
    wins = closed["pnl"][closed["pnl"] > 0].sum()
    losses = -closed["pnl"][closed["pnl"] < 0].sum()
    held = np.zeros(max(n_steps, 1), dtype=bool)
    for entry, exit_, is_open in trades[["entry_step", "exit_step", "open"]].itertuples(
        index=False
    ):
        held[int(entry) : int(exit_) + (1 if is_open else 0)] = True
    n = len(trades)
    return {
        "win_rate": float((closed["pnl"] > 0).sum()) / len(closed) if len(closed) else np.nan,
        "profit_factor": float(wins / losses) if losses > 0 else np.nan,
        "exposure": float(held.mean()) if n else 0.0,
        "trades": float(n),
        "fees": float(trades["fees"].sum()) if n else 0.0,
    }


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 40),
    st.lists(
        st.tuples(
            st.integers(0, 4), st.integers(0, 45), st.integers(0, 12), st.booleans(),
            st.one_of(st.floats(-1e6, 1e6), st.just(float("nan"))), st.floats(0, 50),
        ),
        max_size=40,
    ),
)  # fmt: skip
def test_trade_figures_equal_a_per_agent_pandas_loop(n_steps: int, rows: list) -> None:
    """The table groups the trades by agent once; every figure is the per-agent one, bit for bit."""
    trades = pd.DataFrame(
        [(a, e, e + d, o, p, f) for a, e, d, o, p, f in rows],
        columns=["agent", "entry_step", "exit_step", "open", "pnl", "fees"],
    ).astype({"agent": "int64", "entry_step": "int64", "exit_step": "int64", "open": bool})
    equity = pd.DataFrame({a: np.linspace(100.0, 120.0, n_steps) for a in range(5)})
    table = performance_table(equity, trades, PPY)
    for agent in range(5):
        want = _pandas_trade_stats(trades[trades["agent"] == agent], n_steps)
        for key, value in want.items():
            got = table.loc[agent, key]
            assert got == value or (np.isnan(got) and np.isnan(value)), (agent, key, got, value)


def test_a_curve_falling_through_zero_has_a_negative_sharpe() -> None:
    """Once equity is negative, ``e[t] / e[t-1] − 1`` has the wrong sign (−10 → −40 read as
    +300 %): a curve that only fell had a positive Sharpe and Sortino. Steps from equity at
    or below 0 have no return and count as 0."""
    equity = np.array([100.0, 50.0, -10.0, -40.0, -160.0])
    r = np.array([-0.5, -1.2, 0.0, 0.0])  # by hand: only the steps from positive equity
    mine = return_stats(equity, PPY)
    assert mine["sharpe"] == pytest.approx(r.mean() / r.std(ddof=1) * PPY**0.5, rel=1e-12)
    assert mine["sharpe"] < 0 and mine["sortino"] < 0
    assert mine["volatility"] == pytest.approx(r.std(ddof=1) * PPY**0.5, rel=1e-12)
    assert mine["return"] == pytest.approx(-2.6) and mine["max_drawdown"] == pytest.approx(-2.6)
    assert np.isnan(mine["cagr"])  # no real growth rate to a negative wealth


def test_short_curves_give_the_figures_they_define() -> None:
    """Two bars are one return: its sample std (so volatility) is undefined, not 0. One bar
    gained nothing and fell nothing: return and drawdown 0, the rest undefined."""
    two = return_stats(np.array([100.0, 110.0]), PPY)
    assert two["return"] == pytest.approx(0.1) and two["max_drawdown"] == 0.0
    assert np.isnan(two["volatility"]) and np.isnan(two["sharpe"])
    one = return_stats(np.array([100.0]), PPY)
    assert one["return"] == 0.0 and one["max_drawdown"] == 0.0
    assert all(np.isnan(one[k]) for k in ("cagr", "volatility", "sharpe", "sortino", "calmar"))


def test_a_ruined_curve_compounds_to_minus_one() -> None:
    """Equity 0 at the end is a CAGR of −100 % (quantstats and empyrical: ``0^(1/years) −
    1``) and a Calmar of −1, not NaN."""
    mine = return_stats(np.array([100.0, 50.0, 0.0, 0.0]), PPY)
    assert mine["return"] == -1.0 and mine["max_drawdown"] == -1.0
    assert mine["cagr"] == -1.0 and mine["calmar"] == -1.0


def test_turnover_is_notional_over_mean_equity_and_undefined_without_capital() -> None:
    """Without positive mean equity the ratio means nothing: it was 0, which says "did not
    trade" of an agent that traded 5 against a negative capital."""
    equity = np.array([[100.0, 100.0, 50.0], [300.0, 100.0, 30.0]])  # means 200, 100, 40
    assert turnover_ratio([40.0, 0.0, 20.0], equity).tolist() == [0.2, 0.0, 0.5]
    ruined = np.array([[0.0, np.nan, 10.0], [-10.0, np.nan, -10.0]])  # means -5, none, 0
    assert np.isnan(turnover_ratio([5.0, 5.0, 5.0], ruined)).all()
    born_late = np.array([[np.nan], [100.0], [300.0]])  # not alive at step 0: mean 200
    assert turnover_ratio([50.0], born_late).tolist() == [0.25]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(st.floats(-1e6, 1e6, allow_nan=False), st.just(float("nan"))),
        min_size=1,
        max_size=20,
    ),
    st.floats(0.0, 1e9, allow_nan=False),
)
def test_turnover_is_defined_exactly_where_mean_equity_is_positive(
    curve: list[float], notional: float
) -> None:
    equity = np.array(curve)[:, None]
    (mean,) = mean_equity(equity)
    (ratio,) = turnover_ratio([notional], equity)
    if mean > 0:
        assert ratio == pytest.approx(notional / mean) and ratio >= 0
    else:
        assert np.isnan(ratio)


def test_the_table_shows_no_turnover_for_an_agent_without_capital() -> None:
    """summary.json of a run written before turnover became NaN holds 0 for such an agent:
    the table (Result.stats, ``scarline stats``) shows the figure as undefined all the same,
    and keeps the other agents' figures as recorded."""
    equity = pd.DataFrame({0: [100.0, -300.0, -400.0], 1: [100.0, 110.0, 120.0]})
    table = performance_table(equity, pd.DataFrame(), PPY, turnover={0: 0.0, 1: 1.5})
    assert np.isnan(table.loc[0, "turnover"]) and table.loc[1, "turnover"] == 1.5

"""Metrics against hand-computed values and an independent pandas reference."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from scarline.report.metrics import (
    agent_metrics,
    fill_counts,
    final_equity,
    risk_event_counts,
    sharpe_ratio,
    traded_notional,
)
from scarline.report.results import RiskLog, TradeLog
from scarline.stats import drawdowns, max_drawdown, period_returns

# columns: up-then-down, flat, constant growth, born late, ruined
EQUITY = np.array(
    [
        [100.0, 100.0, 100.0, np.nan, 100.0],
        [110.0, 100.0, 110.0, 100.0, 0.0],
        [104.5, 100.0, 121.0, 90.0, 0.0],
    ]
)


def test_three_step_path_by_hand() -> None:
    # returns +10 %, -5 %: mean 0.025, sample std 0.075·√2, Sharpe = 0.025/0.1061·√252 = √14
    r = period_returns(EQUITY)
    assert r[:, 0] == pytest.approx([0.1, -0.05])
    assert sharpe_ratio(EQUITY, 252.0)[0] == pytest.approx(math.sqrt(14.0))
    assert final_equity(EQUITY)[0] == 104.5
    assert drawdowns(EQUITY)[:, 0] == pytest.approx([0.0, 0.0, 0.05])
    assert max_drawdown(EQUITY)[0] == pytest.approx(0.05)


def test_zero_std_gives_zero_sharpe() -> None:
    sharpe = sharpe_ratio(EQUITY, 252.0)
    assert sharpe[1] == 0.0  # flat: std exactly 0
    assert sharpe[2] == 0.0  # constant +10 % each step
    growth = np.array([[100.0], [110.0], [121.0], [133.1]])  # +10 % up to float noise
    assert np.std(period_returns(growth)) > 0.0
    assert sharpe_ratio(growth, 252.0).tolist() == [0.0]
    assert max_drawdown(EQUITY)[1:3].tolist() == [0.0, 0.0]


def test_nan_before_birth_and_ruin_are_skipped_not_propagated() -> None:
    assert final_equity(EQUITY)[3] == 90.0
    assert max_drawdown(EQUITY)[3] == pytest.approx(0.1)
    assert sharpe_ratio(EQUITY, 252.0)[3] == 0.0  # a single return: no std
    assert max_drawdown(EQUITY)[4] == 1.0
    assert np.isnan(period_returns(EQUITY)[1, 4])  # from 0 equity: undefined, skipped
    assert sharpe_ratio(EQUITY, 252.0)[4] == 0.0
    assert np.isnan(final_equity(np.full((3, 1), np.nan)))[0]


def test_sharpe_and_drawdown_match_pandas_reference() -> None:
    rng = np.random.default_rng(3)
    equity = 1_000.0 * np.cumprod(1.0 + rng.normal(0.001, 0.02, (200, 7)), axis=0)
    frame = pd.DataFrame(equity)
    rets = frame.pct_change().iloc[1:]
    expected_sharpe = (rets.mean() / rets.std(ddof=1) * math.sqrt(52.0)).to_numpy()
    expected_dd = (1.0 - frame / frame.cummax()).max().to_numpy()
    assert sharpe_ratio(equity, 52.0) == pytest.approx(expected_sharpe, rel=1e-10)
    assert max_drawdown(equity) == pytest.approx(expected_dd, rel=1e-12)


def _trades() -> TradeLog:
    # agent 0: buy 2 @ 10 on inst 0, sell 1 @ 20 on inst 1; agent 2: buy 5 @ 4 on inst 0
    return TradeLog(
        step=[1, 2, 2],
        agent=[0, 0, 2],
        instrument=[0, 1, 0],
        side=[1, -1, 1],
        qty=[2, 1, 5],
        price=[10.0, 20.0, 4.0],
        fee=[0.1, 0.1, 0.2],
    )


def test_fill_counts_and_notional() -> None:
    trades = _trades()
    assert fill_counts(trades, 3).tolist() == [2, 0, 1]
    assert traded_notional(trades, 3).tolist() == [40.0, 0.0, 20.0]
    lots = np.array([1.0, 100.0])  # instrument 1 trades in lots of 100
    assert traded_notional(trades, 3, lots).tolist() == [2020.0, 0.0, 20.0]


def test_risk_event_counts_per_rule_and_outcome() -> None:
    log = RiskLog.from_labels(
        [0, 1, 1, 2],
        [0, -1, 1, 0],
        ["price_band", "drawdown", "drawdown", "drawdown"],
        ["reject", "warn", "warn", "halt"],
    )
    counts = risk_event_counts(log)
    assert log.rule_names == ("drawdown", "price_band")
    assert counts.tolist() == [[0, 2, 0, 0, 1, 0], [0, 0, 0, 1, 0, 0]]
    assert risk_event_counts(RiskLog.empty()).shape == (0, 6)


def test_agent_metrics_table_and_records(make_results) -> None:
    res = make_results(n=4, t=30)
    m = agent_metrics(res)
    assert len(m) == 4
    assert m.total_return == pytest.approx(res.equity[-1] / 10_000.0 - 1.0)
    assert m.trades.sum() == len(res.trades)
    assert m.fees.tolist() == res.fees.tolist()
    records = m.to_records()
    assert list(records[0]) == [
        "id",
        "policy",
        "final_equity",
        "return",
        "sharpe",
        "max_drawdown",
        "turnover",
        "fees",
        "slippage",
        "trades",
        "scars",
        "is_return",
        "oos_return",
        "oos_sharpe",
        "oos_trades",
        "trust",
        "died_at",
    ]
    assert records[0]["scars"] == 0 and records[0]["died_at"] is None  # defaults: unscarred
    assert records[0]["oos_trades"] is None and math.isnan(records[0]["oos_sharpe"])  # no split
    assert math.isnan(records[0]["trust"])  # not recorded by this fixture
    assert records[1]["id"] == 101 and records[1]["policy"] == "random-entry(p=0.1)"
    assert isinstance(records[0]["trades"], int)
    ranked = m.ranking()
    assert (np.diff(m.total_return[ranked]) <= 0).all()


def test_out_of_sample_sharpe_and_trades_start_at_the_split(make_results) -> None:
    res = replace(make_results(n=4, t=60, split_step=40), trust=np.array([0.5, 0.1, 0.0, 0.9]))
    m = agent_metrics(res)
    assert m.oos_sharpe == pytest.approx(sharpe_ratio(res.equity[39:], 252.0))
    assert not np.allclose(m.oos_sharpe, m.sharpe)  # a different window than the whole run
    late = res.trades.step >= 40
    assert m.oos_trades.tolist() == np.bincount(res.trades.agent[late], minlength=4).tolist()
    assert 0 < m.oos_trades.sum() < m.trades.sum()
    records = m.to_records()
    assert [r["oos_trades"] for r in records] == m.oos_trades.tolist()
    assert [r["trust"] for r in records] == [0.5, 0.1, 0.0, 0.9]


def test_ranking_is_stable_on_ties_and_puts_nan_last(make_results) -> None:
    equity = np.array([[100.0, 100.0, np.nan, 100.0], [100.0, 120.0, np.nan, 120.0]])
    res = replace(make_results(n=4, t=2), equity=equity, initial_cash=100.0)
    m = agent_metrics(res)
    assert np.isnan(m.total_return[2])
    assert m.ranking().tolist() == [1, 3, 0, 2]

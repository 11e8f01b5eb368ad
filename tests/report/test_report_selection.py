"""Which agents are shown: the best by return plus baselines in agent order."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from scarline.report.figure import decimated_rows
from scarline.report.metrics import agent_metrics
from scarline.report.selection import baseline_mask, policy_family, select_agents


def test_policy_family_and_baseline_mask() -> None:
    assert policy_family("sma-crossover(10,30)") == "sma-crossover"
    assert policy_family("buy-and-hold") == "buy-and-hold"
    assert policy_family("random-entry#3") == "random-entry"
    mask = baseline_mask(["buy-and-hold", "random-entry(p=0.1)", "momentum(20)", "random-entry#0"])
    assert mask.tolist() == [True, True, False, True]


def test_select_top_plus_capped_baselines_sorted_by_return(make_results) -> None:
    res = make_results(n=6, t=3)
    # returns by column: 0 → -10 %, 1..5 → +50 %, +40 %, +30 %, +20 %, +10 %
    final = np.array([90.0, 150.0, 140.0, 130.0, 120.0, 110.0])
    equity = np.vstack([np.full(6, 100.0), np.full(6, 100.0), final])
    policies = ["buy-and-hold", "x", "random-entry", "y", "random-entry", "z"]
    metrics = agent_metrics(replace(res, equity=equity, initial_cash=100.0, policies=policies))
    cols, is_base = select_agents(metrics, top=2, max_baselines=1)
    assert cols.tolist() == [1, 2, 0]  # top 2 (2 is a baseline) + the first other baseline
    assert is_base.tolist() == [False, True, True]
    cols, is_base = select_agents(metrics, top=1, max_baselines=2)
    assert cols.tolist() == [1, 2, 0]  # baselines 0 and 2 in agent order (not 4), by return
    cols, _ = select_agents(metrics, top=1, max_baselines=5)
    assert cols.tolist() == [1, 2, 4, 0]


def test_decimated_rows_keep_first_and_last() -> None:
    assert decimated_rows(10).tolist() == list(range(10))
    rows = decimated_rows(10_001, max_points=1000)
    assert rows[0] == 0 and rows[-1] == 10_000 and len(rows) <= 1001

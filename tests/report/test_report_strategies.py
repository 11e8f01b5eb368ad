"""Strategy groups: medians per kind, in config order, net of costs, split-aware."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from scarline.report.html import write_report
from scarline.report.metrics import agent_metrics
from scarline.report.strategies import strategy_rows


def test_rows_follow_first_appearance_and_take_group_medians(make_results) -> None:
    kinds = ["q-network", "random-entry", "q-network", "buy-and-hold", "q-network"]
    res = replace(make_results(n=5, t=60, split_step=40), kinds=kinds)
    m = agent_metrics(res)
    rows = strategy_rows(m, res.kinds)
    assert [r.kind for r in rows] == ["q-network", "random-entry", "buy-and-hold"]
    q = rows[0]
    pick = np.array([0, 2, 4])
    assert q.agents == 3
    assert q.median_oos_return == pytest.approx(np.median(m.oos_return[pick]))
    assert q.median_is_return == pytest.approx(np.median(m.is_return[pick]))
    assert q.median_return == pytest.approx(np.median(m.total_return[pick]))
    assert q.fees == pytest.approx(m.fees[pick].sum())
    assert rows[2].agents == 1 and rows[2].median_sharpe == pytest.approx(m.sharpe[3])


def test_without_a_split_the_sample_columns_are_nan(make_results) -> None:
    res = make_results(n=3, t=30)
    rows = strategy_rows(agent_metrics(res), res.kinds)
    assert all(np.isnan(r.median_oos_return) and np.isnan(r.median_is_return) for r in rows)
    assert all(np.isfinite(r.median_return) for r in rows)


def test_dead_agents_are_counted(make_results) -> None:
    res = replace(make_results(n=3, t=30), kinds=["a", "a", "b"], died_at=np.array([5, -1, 7]))
    rows = strategy_rows(agent_metrics(res), res.kinds)
    assert [(r.kind, r.dead) for r in rows] == [("a", 1), ("b", 1)]


def test_report_states_the_split_and_compares_strategies(make_results, tmp_path: Path) -> None:
    kinds = ["q-network", "random-entry", "buy-and-hold"]
    res = replace(make_results(n=3, t=50, split_step=30), kinds=kinds)
    page = write_report(res, tmp_path / "run").read_text(encoding="utf-8")
    section = page.split("<h2>By strategy</h2>", 1)[1].split("<h2>", 1)[0]
    for kind in kinds:
        assert f"<td>{kind}</td>" in section
    assert "out-of-sample = step 30 (2020-02-05" in section
    assert "net of fees and slippage" in section
    unsplit = write_report(make_results(n=3, t=50), tmp_path / "plain").read_text("utf-8")
    assert "no in-sample / out-of-sample split" in unsplit

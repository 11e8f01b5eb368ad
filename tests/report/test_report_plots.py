"""Plot functions: one valid PNG each, whatever the population size or the logs hold."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image

from scarline.report.metrics import agent_metrics
from scarline.report.plots import (
    PLOT_FILES,
    plot_risk_events,
    plot_trades,
    trade_plot_agent,
    write_plots,
)
from scarline.report.results import TradeLog


def _png_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as img:
        assert img.format == "PNG"
        return img.size


def test_each_plot_function_returns_its_png(make_results, tmp_path: Path) -> None:
    res = make_results(n=5, t=40)
    metrics = agent_metrics(res)
    paths = [plot_trades(res, tmp_path, metrics), plot_risk_events(res, tmp_path)]
    assert [p.name for p in paths] == list(PLOT_FILES)
    assert all(p.parent == tmp_path for p in paths)
    assert _png_size(paths[0]) == (1000, 450)


def test_trade_markers_follow_the_best_agent_that_traded_instrument_0(make_results) -> None:
    res = make_results(n=4, t=3, m=2, with_trades=False)
    equity = np.array([[100.0] * 4, [100.0] * 4, [130.0, 120.0, 110.0, 90.0]])
    # the best agent (column 0) traded instrument 1 only; column 1 traded instrument 0
    trades = TradeLog(
        [1, 1, 2], [0, 1, 3], [1, 0, 0], [1, 1, -1], [1, 1, 1], [10.0, 10.0, 11.0], [0.0, 0.0, 0.0]
    )
    res = replace(res, equity=equity, initial_cash=100.0, trades=trades)
    assert trade_plot_agent(res, agent_metrics(res)) == 1
    assert trade_plot_agent(replace(res, trades=TradeLog.empty()), agent_metrics(res)) is None


def test_no_instruments_no_trades_no_risk_events(make_results, tmp_path: Path) -> None:
    res = make_results(n=2, t=10, with_trades=False, with_risk=False)
    res = replace(res, symbols=[], close=np.zeros((10, 0)))
    for path in write_plots(res, tmp_path):
        assert _png_size(path)[0] == 1000


def test_dollar_signs_in_names_are_drawn_not_parsed_as_mathtext(
    make_results, tmp_path: Path
) -> None:
    """A symbol or strategy label with two ``$`` (``$\\frac{$`` is bad mathtext) failed the
    report, so a run ended in an internal error with no report.html."""
    res = make_results(n=3, t=30)
    bad = r"$\frac{$"
    res = replace(res, symbols=[bad, *res.symbols[1:]], policies=[f"Evil(tag={bad})"] * 3)
    for path in write_plots(res, tmp_path):
        assert _png_size(path)[0] == 1000

"""The tearsheet's charts and tables show the figures the statistics table computes."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from scarline.performance import return_stats
from scarline.report.tearsheet import MAX_POINTS, Sheet, figures, regime_table

PPY = 252.0


def _sheet(equity: pd.DataFrame, regimes: np.ndarray | None = None) -> Sheet:
    trades = pd.DataFrame({"agent": pd.Series([], dtype="int64")})
    kinds = dict.fromkeys(equity.columns, "q-network")
    return Sheet(
        equity, trades, kinds, {}, PPY, regimes, ("low", "high") if regimes is not None else ()
    )


def test_the_drawdown_chart_keeps_the_deepest_fall_of_a_long_curve() -> None:
    """A curve longer than the chart's points was thinned before its drawdown was taken: a
    one-bar peak and trough between the kept bars vanished from the chart (here the chart
    showed a fall of ~0 % where the table says −50 %)."""
    n = 3 * MAX_POINTS + 7
    values = np.full(n, 100.0)
    values[1002], values[2003] = 200.0, 100.0  # a one-bar peak, then a fall to half of it
    values[2004:] = 150.0
    equity = pd.DataFrame({0: values}, index=pd.date_range("2020-01-01", periods=n, freq="h"))
    chart, drawdown = figures(_sheet(equity))
    assert np.max(chart.data[0].y) == 150.0  # the peak's bar is not among the drawn points
    deepest = float(np.nanmin(np.asarray(drawdown.data[0].y, dtype=np.float64)))
    assert deepest == pytest.approx(100.0 * return_stats(values, PPY)["max_drawdown"])
    assert deepest == pytest.approx(-50.0)


def test_regime_returns_from_a_ruined_account_count_as_zero() -> None:
    """The per-regime Sharpe counts returns as the statistics table does: a step from a
    negative equity is no return (−10 → −40 is not +300 %)."""
    values = [100.0, 50.0, -10.0, -40.0, -160.0, -170.0]
    equity = pd.DataFrame({0: values}, index=pd.date_range("2020-01-01", periods=6, freq="D"))
    html = regime_table(_sheet(equity, regimes=np.array([0, 0, 0, 1, 1, 1])))
    assert html is not None
    row = html.split('<td class="agent">')[1].split("</tr>")[0]
    cells = re.findall(r'<td class="num">([^<]*)</td>', row)
    r0 = np.array([-0.5, -1.2])  # regime 0: bars 1 and 2, from positive equity
    sharpe0 = r0.mean() / r0.std(ddof=1) * PPY**0.5
    assert cells == [f"{sharpe0:.2f}", "-110.0%", "—", "0.0%"]  # regime 1: no return

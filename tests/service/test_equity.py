"""A session's equity history stays bounded, keeps its whole span and ends at the latest step;
a chart draws the benchmarks and the best others."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from scarline.service.equity import MAX_PLACEBOS, EquityHistory, chart_series


@given(steps=st.integers(1, 3000), cap=st.integers(2, 64))
def test_the_history_is_bounded_spans_the_session_and_ends_now(steps: int, cap: int) -> None:
    history = EquityHistory(cap)
    for t in range(steps):
        history.append(t, (0, 1), np.array([t, -t], dtype=np.float64))
    ts, ids, values = history.curves()
    assert ids == (0, 1)
    assert len(ts) <= cap + 1  # the latest step may be one past the thinned points
    assert ts[0] == 0 and ts[-1] == steps - 1 and np.all(np.diff(ts) > 0)
    assert np.array_equal(values[:, 0], ts) and np.array_equal(values[:, 1], -ts)


def test_a_new_agent_set_starts_afresh() -> None:
    history = EquityHistory(8)
    history.append(1, (0,), np.array([1.0]))
    history.append(2, (0, 1), np.array([2.0, 3.0]))
    ts, ids, values = history.curves()
    assert ts.tolist() == [2] and ids == (0, 1) and values.tolist() == [[2.0, 3.0]]


def test_the_chart_draws_benchmarks_capped_placebos_and_the_top_others() -> None:
    n = 20
    ids = tuple(range(n))
    kinds = {0: "buy-and-hold", **{i: "random-entry" for i in range(1, 12)}}
    kinds |= {i: "q-network" for i in range(12, n)}
    equity = np.tile(np.arange(n, dtype=np.float64), (5, 1))
    equity[-1, 13] = np.nan  # a dead agent's last value is null, never a crash
    body = chart_series(np.arange(5), ids, equity, kinds, top=3, points=3)
    drawn = [s["id"] for s in body["series"]]
    assert drawn[:3] == [19, 18, 17] and 0 in drawn
    assert sum(kinds.get(a) == "random-entry" for a in drawn) == MAX_PLACEBOS
    assert body["ts"] == [0, 2, 4] and body["agents_total"] == n
    nan_chart = chart_series(np.arange(5), ids, equity, kinds, top=8, points=5)
    assert {s["id"]: s for s in nan_chart["series"]}[13]["values"][-1] is None

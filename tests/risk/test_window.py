"""The sliding-window counter behind the order rate and the breach ladder."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from risk_fixtures import UV, context, intents

from scarline.risk import RiskConfig, RiskEngine
from scarline.risk.config import LadderConfig
from scarline.risk.window import WindowCounter


@settings(max_examples=150, deadline=None)
@given(
    window=st.integers(1, 12),
    ops=st.lists(
        st.tuples(
            st.integers(0, 5),  # step gap
            st.sampled_from(["add", "totals", "clear"]),
            st.lists(st.integers(0, 3), min_size=3, max_size=3),
        ),
        max_size=40,
    ),
)
def test_totals_are_the_counts_of_the_last_window_steps(
    window: int, ops: list[tuple[int, str, list[int]]]
) -> None:
    """Against the definition: the sum of the counts added at steps (t - W, t]."""
    counter, log, step = WindowCounter(3, window), [], 0
    for gap, op, counts in ops:
        step += gap
        if op == "add":
            counter.add(step, np.array(counts, np.int64))
            log.append((step, np.array(counts, np.int64)))
        elif op == "clear":
            agents = np.array([i for i in range(3) if counts[i]], np.int64)
            counter.clear(agents)
            for _, row in log:
                row[agents] = 0
        else:
            want = sum((row for s, row in log if step - window < s <= step), np.zeros(3, np.int64))
            assert counter.totals(step).tolist() == want.tolist()


def test_a_window_of_a_trillion_steps_costs_no_memory_up_front() -> None:
    """Before, the counter allocated one row per step of the window: 7.3 TiB here."""
    counter = WindowCounter(4, 10**12)
    counter.add(5, np.array([1, 0, 2, 0], np.int64))
    counter.add(10**9, np.array([1, 1, 0, 0], np.int64))
    assert counter.totals(10**12).tolist() == [2, 1, 2, 0]
    assert counter.totals(10**12 + 5).tolist() == [1, 1, 0, 0]


def test_a_steps_before_the_last_is_refused() -> None:
    counter = WindowCounter(1, 3)
    counter.totals(4)
    with pytest.raises(ValueError, match="before the last step"):
        counter.totals(3)


def test_an_engine_with_whole_run_windows_counts_orders_and_breaches() -> None:
    """``order_window_steps`` and ``breach_window_steps`` of 10**12 (the whole run) work."""
    cfg = RiskConfig(
        max_orders_per_window=2,
        order_window_steps=10**12,
        max_position_lots=5,
        ladder=LadderConfig(breach_window_steps=10**12, breach_warn=1),
    )
    engine = RiskEngine(cfg, 2, np.array([UV], np.int64))
    ctx = context(2, 1)
    outcomes = []
    for step in range(4):
        engine.update(step, ctx.equity)
        decision = engine.check(step, intents([0], [1], [1], first_id=step, step=step), ctx)
        outcomes.append(decision.approved_qty.tolist())
    assert outcomes == [[1], [1], [0], [0]]  # the third order is the window's third
    engine.check(4, intents([1], [1], [9], first_id=9, step=4), ctx)  # throttled: a breach
    assert engine.update(5, ctx.equity).to_level.tolist() == [1]

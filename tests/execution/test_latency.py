"""Latency: when a submitted order first executes."""

import numpy as np
from broker_fixtures import bar, broker, cash, flat, orders
from hypothesis import given, settings
from hypothesis import strategies as st

from scarline.execution.broker import SimBroker
from scarline.execution.latency import NO_TS_BOUND, NsLatency, StepsLatency
from scarline.quiet_rows import _first_due

SEC = 1_000_000_000


def first_fill_step(b: SimBroker, steps: list[int], ts: list[int] | None = None) -> int | None:
    for i, step in enumerate(steps):
        fills, _ = b.execute(bar(step, ts=None if ts is None else ts[i]), cash(1), flat(b))
        if len(fills):
            return step
    return None


def test_models_map_submit_time_to_eligibility() -> None:
    step, ts = np.array([5, 9]), np.array([300 * SEC, 540 * SEC])
    min_step, min_ts = StepsLatency(2).eligibility(step, ts)
    assert min_step.tolist() == [8, 12] and min_ts.tolist() == [NO_TS_BOUND] * 2
    min_step, min_ts = NsLatency(90 * SEC).eligibility(step, ts)
    assert min_step.tolist() == [6, 10] and min_ts.tolist() == [390 * SEC, 630 * SEC]


def test_zero_latency_order_never_fills_on_its_decision_bar() -> None:
    b = broker(1)
    b.submit(orders([0], [1]), step=5, ts=5 * 60 * SEC)
    assert first_fill_step(b, [5, 6, 7]) == 6


def test_steps_latency_adds_whole_bars() -> None:
    b = broker(1, latency={"kind": "steps", "steps": 2})
    b.submit(orders([0], [1]), step=5, ts=5 * 60 * SEC)
    assert first_fill_step(b, [6, 7, 8, 9]) == 8


def test_ns_latency_waits_for_the_first_bar_at_or_after_submit_plus_ns() -> None:
    b = broker(1, latency={"kind": "ns", "ns": 90 * SEC})  # bars every 60 s
    b.submit(orders([0], [1]), step=5, ts=300 * SEC)
    assert first_fill_step(b, [6, 7, 8]) == 7  # 360 s < 390 s <= 420 s
    # irregular bars: the first one at or after 390 s
    b = broker(1, latency={"kind": "ns", "ns": 90 * SEC})
    b.submit(orders([0], [1]), step=5, ts=300 * SEC)
    assert first_fill_step(b, [6, 7], ts=[390 * SEC, 400 * SEC]) == 6


def test_ns_latency_of_zero_still_waits_for_the_next_bar() -> None:
    b = broker(1, latency={"kind": "ns", "ns": 0})
    b.submit(orders([0], [1]), step=5, ts=300 * SEC)
    assert first_fill_step(b, [5, 6], ts=[300 * SEC, 360 * SEC]) == 6


@settings(max_examples=100, deadline=None)
@given(
    step=st.integers(0, 2**62),
    ts=st.integers(-(2**63), 2**63 - 1),
    bars=st.integers(0, 1000),
    ns=st.integers(0, 2**63 - 1),
)
def test_the_compiled_loop_computes_the_eligibility_of_one_order(step, ts, bars, ns) -> None:
    """The kernel's quiet path computes an order's eligibility from the model's ``params``:
    the same integers, wrapping as numpy wraps them."""
    for model in (StepsLatency(bars), NsLatency(ns)):
        with np.errstate(over="ignore"):
            min_step, min_ts = model.eligibility(np.array([step]), np.array([ts]))
        assert _first_due(model.params, step, ts) == (int(min_step[0]), int(min_ts[0]))

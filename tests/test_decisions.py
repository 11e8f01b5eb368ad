"""Decisions journaled as changed cells: they rebuild every dense decision exactly."""

from __future__ import annotations

import hashlib

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from scarline.assembly import kernel_for
from scarline.config import RunConfig
from scarline.decisions import ChangeTracker
from scarline.events import Decision
from scarline.journal import HashOnlyWal
from scarline.market.stream import normalized
from scarline.market.synthetic import SynthSpec, generate
from scarline.operator import ReplayOperator
from scarline.session import SessionIds
from scarline.trace import DecisionTrace


def _rebuild(dense: np.ndarray, agent: np.ndarray, inst: np.ndarray, values: np.ndarray) -> None:
    dense[agent, inst] = values


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), steps=st.integers(1, 8))
def test_changes_rebuild_every_dense_step(seed: int, steps: int) -> None:
    rng = np.random.default_rng(seed)
    n, m = 7, 3
    tracker = ChangeTracker(np.arange(100, 100 + n))
    actions, target = np.zeros((n, m), np.float32), np.zeros((n, m), np.int64)
    for _ in range(steps):
        new_a = rng.choice(np.array([-1.0, 0.0, -0.0, 1.0], np.float32), (n, m))
        new_t = np.where(rng.random((n, m)) < 0.3, rng.integers(-5, 5, (n, m)), target)
        c = tracker.update(new_a, new_t)
        _rebuild(actions, c.agent - 100, c.instrument, c.actions)
        _rebuild(target, c.agent - 100, c.instrument, c.target_qty)
        assert actions.tobytes() == new_a.tobytes()  # bit for bit: -0.0 is not 0.0
        np.testing.assert_array_equal(target, new_t)


def test_nothing_changed_is_an_empty_decision() -> None:
    tracker = ChangeTracker(np.arange(2))
    ones = np.ones((2, 2), np.float32)
    assert tracker.update(ones, np.ones((2, 2), np.int64)).agent.size == 4
    c = tracker.update(ones, np.ones((2, 2), np.int64))
    assert c.agent.size == c.instrument.size == c.actions.size == c.target_qty.size == 0
    # the dtypes the changed cells have: what the WAL's Decision and the trace hash encode
    dtypes = [a.dtype for a in (c.agent, c.instrument, c.actions, c.target_qty)]
    assert dtypes == [np.int64, np.int64, np.float32, np.int64]


def _sequential_trace(steps: list[tuple[int, list[np.ndarray]]]) -> str:
    """The trace hash fed piece by piece (how DecisionTrace.update used to feed it)."""
    h = hashlib.blake2b(digest_size=32)
    for step, arrays in steps:
        h.update(step.to_bytes(8, "little", signed=True))
        for a in arrays:
            h.update(a.size.to_bytes(8, "little"))
            h.update(np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<")).tobytes())
    return h.hexdigest()


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 10_000), steps=st.integers(1, 6))
def test_the_trace_hashes_the_same_bytes_as_piece_by_piece(seed: int, steps: int) -> None:
    rng = np.random.default_rng(seed)
    fed = []
    trace = DecisionTrace()
    for t in range(steps):
        k = int(rng.integers(0, 3))  # most steps change nothing: empty arrays
        arrays = [
            rng.integers(0, 9, k).astype(np.int64),
            rng.integers(0, 3, k).astype(np.int64),
            rng.choice(np.array([0.0, -0.0, 1.0], np.float32), k),
            rng.integers(-5, 5, k).astype(">i8"),  # a foreign byte order is hashed little
        ]
        trace.update(t, *arrays)
        fed.append((t, arrays))
    assert trace.hexdigest() == _sequential_trace(fed)


def test_kernel_decisions_rebuild_the_sizer_targets() -> None:
    market = normalized(generate(SynthSpec(n_steps=120, n_instruments=3, seed=4)))
    cfg = RunConfig(
        agents=[{"kind": "random-entry", "count": 5, "p_entry": 0.3, "p_exit": 0.2}],
    )
    events: list[Decision] = []
    sink = HashOnlyWal("test")

    class Journal:
        head = property(lambda self: sink.head)

        def append(self, event, ts: int) -> int:
            if isinstance(event, Decision):
                events.append(event)
            return sink.append(event, ts)

    kernel = kernel_for(cfg, market, SessionIds("test", "s"), Journal(), ReplayOperator([]))
    target = np.zeros((5, 3), np.int64)
    for t in range(market.n_steps):
        kernel.step(t)
        d = events[-1]
        assert d.step == t and d.instrument is not None
        _rebuild(target, d.agents.numpy(), d.instrument.numpy(), d.target_qty.numpy())
        np.testing.assert_array_equal(target, kernel.population.sizer.target)
    assert kernel.life.alive.all() and target.any()

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


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), steps=st.integers(1, 10))
def test_small_trackers_quiet_check_agrees_with_the_element_wise_one(seed: int, steps: int) -> None:
    """Up to 64 cells a quiet step is found by comparing bytes; padded past 64 the same
    decisions take the element-wise path: the same changes every step (-0.0 after 0.0 and a
    NaN of other bits are changes, a repeat is not)."""
    rng = np.random.default_rng(seed)
    n, m, pad = 3, 2, 40  # 6 cells; padded: 46 rows x 2 = 92 cells
    small, large = ChangeTracker(np.arange(n)), ChangeTracker(np.arange(n + pad))
    nan_b = np.frombuffer(np.uint32(0x7FC00001).tobytes(), np.float32)[0]
    values = np.array([0.0, -0.0, 1.0, np.nan, nan_b], np.float32)
    actions, target = np.zeros((n, m), np.float32), np.zeros((n, m), np.int64)
    for _ in range(steps):
        draw = rng.random()  # new actions, new targets, or the same decision again
        if draw < 1 / 3:
            actions = actions.copy()
            actions[rng.integers(n), rng.integers(m)] = rng.choice(values)
        elif draw < 2 / 3:
            target = target.copy()
            target[rng.integers(n), rng.integers(m)] += int(rng.integers(-1, 2))
        a = small.update(actions, target)
        b = large.update(
            np.vstack([actions, np.zeros((pad, m), np.float32)]),
            np.vstack([target, np.zeros((pad, m), np.int64)]),
        )
        for x, y in ((a.agent, b.agent), (a.instrument, b.instrument)):
            np.testing.assert_array_equal(x, y)
        assert a.actions.tobytes() == b.actions.tobytes()
        np.testing.assert_array_equal(a.target_qty, b.target_qty)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    shape=st.tuples(st.integers(1, 9), st.integers(1, 4)),
    dtype=st.sampled_from([np.int8, np.float32, np.float64]),
)
def test_the_compiled_pass_finds_the_cells_numpy_finds(seed, shape, dtype) -> None:
    """``changed_cells`` against the numpy reference on random decisions: -0.0 after 0.0,
    NaNs of other bits, a target moved with the same action."""
    rng = np.random.default_rng(seed)
    tracker = ChangeTracker(np.arange(shape[0]))
    floats = [0.0, -0.0, 1.0, -1.0, np.nan]
    pool = np.array(floats if dtype != np.int8 else [0, 1, -1], dtype=dtype)
    actions, target = np.zeros(shape, dtype), np.zeros(shape, np.int64)
    tracker.update(actions, target)
    for _ in range(5):
        actions = np.where(rng.random(shape) < 0.3, rng.choice(pool, shape), actions)
        target = np.where(rng.random(shape) < 0.3, rng.integers(-3, 4, shape), target)
        bits = actions.view(f"u{np.dtype(dtype).itemsize}")
        expected = tracker._changed_numpy(bits, target)
        c = tracker.update(actions, target)
        np.testing.assert_array_equal(c.agent * shape[1] + c.instrument, expected)
        assert tracker._bits is not None and tracker._bits.tobytes() == bits.tobytes()


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
        if k == 0 and rng.random() < 0.5:
            trace.quiet(t)  # the kernel's call on a step where no cell changed
        else:
            trace.update(t, *arrays)
        fed.append((t, arrays))
    assert trace.hexdigest() == _sequential_trace(fed)
    assert trace.steps == steps


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

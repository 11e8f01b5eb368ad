"""The compiled behaviour step equals the numpy reference bit for bit (replay depends on it)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from scarline.evolution.behaviour import BehaviourTracker

N = 6
SPECIAL = [0.0, -0.0, 1.0, -1.0, np.nan, np.inf, -np.inf, 1e-300, 1e300]
equities = arrays(
    np.float64,
    N,
    elements=st.one_of(st.sampled_from(SPECIAL), st.floats(-1e6, 1e6, allow_nan=False)),
)
exposures = arrays(
    np.float32,
    N,
    elements=st.one_of(
        st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5, np.nan]),
        st.floats(-2, 2, width=32, allow_nan=False),
    ),
)


def _state(t: BehaviourTracker) -> list[bytes]:
    arrays_ = (t.age, t._sum, t._sumsq, t._last, t._peak, t._max_dd, t._changes, t._long)
    return [a.tobytes() for a in (*arrays_, t._exposure)]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the reference on inf and NaN
@settings(max_examples=150, deadline=None)
@given(
    start=equities,
    path=st.lists(st.tuples(equities, exposures), min_size=1, max_size=8),
    reborn_at=st.integers(0, 8),
    rows=st.lists(st.integers(0, N - 1), max_size=3, unique=True),
)
def test_the_compiled_step_equals_the_numpy_reference(
    start: np.ndarray,
    path: list[tuple[np.ndarray, np.ndarray]],
    reborn_at: int,
    rows: list[int],
) -> None:
    compiled, reference = BehaviourTracker(start), BehaviourTracker(start)
    for step, (equity, exposure) in enumerate(path):
        if step == reborn_at and rows:
            for t in (compiled, reference):
                t.reborn(np.asarray(rows, dtype=np.int64), equity)
        compiled.update(equity, exposure)
        reference._update_numpy(equity, exposure)
        assert _state(compiled) == _state(reference)
    assert compiled.sharpe().tobytes() == reference.sharpe().tobytes()


def test_integer_equity_is_read_as_float64() -> None:
    start = np.array([100, 200, 0], dtype=np.int64)
    compiled, reference = BehaviourTracker(start), BehaviourTracker(start)
    equity, exposure = np.array([110, 150, 5], dtype=np.int64), np.array([1, 0, -1], np.float32)
    compiled.update(equity, exposure)
    reference._update_numpy(equity, exposure)
    assert _state(compiled) == _state(reference)
    assert compiled._sum[0] == 0.1 and compiled._max_dd[1] == 0.25 and compiled._sum[2] == 0.0


def test_a_length_mismatch_is_refused_not_written_past_the_state() -> None:
    tracker = BehaviourTracker(np.ones(2))
    with pytest.raises(ValueError, match="must both be"):
        tracker.update(np.ones(3), np.ones(3, np.float32))
    with pytest.raises(ValueError, match="must both be"):
        tracker.update(np.ones(2), np.ones(1, np.float32))

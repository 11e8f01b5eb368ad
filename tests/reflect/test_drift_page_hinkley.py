"""The vectorized Page-Hinkley is river's ``drift.PageHinkley`` (0.26.1), agent by agent:
same fire steps, same internal sums and test statistics (bit for bit), same reset."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from river.drift import PageHinkley as RiverPageHinkley

from scarline.reflect.page_hinkley import PageHinkley, page_hinkley_update


def _streams(seed: int, steps: int, n: int, active_rate: float) -> tuple[np.ndarray, np.ndarray]:
    """Returns with a few mean shifts per agent, NaN where the agent is not active."""
    rng = np.random.default_rng(seed)
    scale = 10.0 ** rng.uniform(-3, 1, n)
    x = rng.standard_normal((steps, n)) * scale
    for i in range(n):
        for cut in rng.integers(0, steps, rng.integers(0, 4)):
            x[cut:, i] += rng.normal(0, 3) * scale[i]
    active = rng.random((steps, n)) < active_rate
    x[~active] = np.nan
    return x, active


class _RiverAgent:
    """One river detector and, from its internals, where its sums last hit their extremes."""

    def __init__(self, **params: object) -> None:
        self.ph = RiverPageHinkley(**params)
        self.min_up, self.up_step = np.inf, -1
        self.max_down, self.down_step = -1.0, -1

    def update(self, x: float, step: int) -> bool:
        if self.ph.drift_detected:  # river resets inside update(); so does our bookkeeping
            self.min_up, self.up_step = np.inf, -1
            self.max_down, self.down_step = -1.0, -1
        self.ph.update(x)
        if self.ph._sum_increase <= self.min_up:
            self.min_up, self.up_step = self.ph._sum_increase, step
        if self.ph._sum_decrease >= self.max_down:
            self.max_down, self.down_step = self.ph._sum_decrease, step
        return self.ph.drift_detected


def _check(
    x: np.ndarray, active: np.ndarray, mode: str, min_instances: int, **params: float
) -> int:
    steps, n = x.shape
    vec = PageHinkley(n, min_instances=min_instances, mode=mode, **params)
    ref = [_RiverAgent(min_instances=min_instances, mode=mode, **params) for _ in range(n)]
    fires = 0
    for t in range(steps):
        fired = page_hinkley_update(vec, x[t], active[t], t)
        for i in range(n):
            if not active[t, i]:
                assert not fired[i]
                continue
            r = ref[i]
            assert fired[i] == r.update(float(x[t, i]), t), (t, i)
            ph = r.ph
            assert vec.n[i] == ph._x_mean.n and vec.mean[i] == ph._x_mean.get()
            if vec.watch_up:
                assert vec.sum_up[i] == ph._sum_increase
                assert vec.min_up[i] == ph._min_increase
                assert vec.stat_up[i] == ph._sum_increase - ph._min_increase
                assert vec.up_step[i] == r.up_step
            if vec.watch_down:
                assert vec.sum_down[i] == ph._sum_decrease
                assert vec.max_down[i] == ph._max_decrease
                assert vec.stat_down[i] == ph._max_decrease - ph._sum_decrease
                assert vec.down_step[i] == r.down_step
            fires += int(fired[i])
    return fires


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 4),
    steps=st.integers(1, 250),
    active_rate=st.sampled_from([1.0, 0.8, 0.3]),
    mode=st.sampled_from(["up", "down", "both"]),
    min_instances=st.integers(1, 40),
    delta=st.floats(0.0, 0.5),
    threshold=st.floats(0.01, 30.0),
    alpha=st.sampled_from([1.0, 1 - 1e-4, 0.999, 0.95]),
)
def test_matches_river_agent_by_agent(
    seed: int,
    n: int,
    steps: int,
    active_rate: float,
    mode: str,
    min_instances: int,
    delta: float,
    threshold: float,
    alpha: float,
) -> None:
    x, active = _streams(seed, steps, n, active_rate)
    _check(x, active, mode, min_instances, delta=delta, threshold=threshold, alpha=alpha)


@settings(max_examples=30, deadline=None)
@given(
    values=st.lists(
        st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False), min_size=1, max_size=120
    ),
    mode=st.sampled_from(["up", "down", "both"]),
)
def test_matches_river_on_arbitrary_floats(values: list[float], mode: str) -> None:
    x = np.array(values)[:, None]
    _check(x, np.ones_like(x, dtype=bool), mode, 5, delta=0.005, threshold=1.0, alpha=0.9999)


@pytest.mark.parametrize("mode", ["up", "down", "both"])
def test_fires_and_resets_like_river_on_a_long_shifted_stream(mode: str) -> None:
    """River's defaults on its own doc example's kind of data: many fires, all identical."""
    rng = np.random.default_rng(12345)
    x = np.concatenate([rng.choice([0.0, 1.0], (1000, 3)), rng.choice([4.0, 7.0], (1000, 3))])
    x[1500:, 1] -= 9.0
    active = np.ones_like(x, dtype=bool)
    fires = _check(x, active, mode, 30, delta=0.005, threshold=50.0, alpha=1 - 0.0001)
    assert fires >= 1


def test_inactive_rows_are_untouched_and_silent() -> None:
    s = PageHinkley(3, min_instances=2, delta=0.0, threshold=0.1)
    on = np.array([True, False, True])
    page_hinkley_update(s, np.array([1.0, 5.0, 1.0]), np.ones(3, dtype=bool), 0)
    before = s.block.copy()
    for t in range(1, 6):
        fired = page_hinkley_update(s, np.array([1.0, np.nan, 10.0 * t]), on, t)
        assert not fired[1]
    assert np.array_equal(s.block[:, 1], before[:, 1])
    assert s.n[0] == 6.0 and s.n[1] == 1.0


def test_bad_mode_is_an_error() -> None:
    with pytest.raises(ValueError, match="mode"):
        PageHinkley(2, mode="sideways")  # type: ignore[arg-type]

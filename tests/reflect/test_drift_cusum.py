"""The vectorized CUSUM equals a textbook scalar loop, agent by agent: warm-up (Welford),
standardization, the two sides, fire, reset with a new warm-up, change points."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scarline.reflect.cusum import Baseline, Cusum, baseline_update, cusum_update


class ReferenceCusum:
    """Page's two-sided CUSUM for one agent, the way a textbook writes it."""

    def __init__(self, min_instances: int, k: float, h: float, mode: str, floor: float) -> None:
        self.min_instances, self.k, self.h, self.floor = min_instances, k, h, floor
        self.up, self.down = mode in ("up", "both"), mode in ("down", "both")
        self.fired = False
        self.reset()

    def reset(self) -> None:
        self.n, self.mean, self.m2 = 0, 0.0, 0.0
        self.mu0, self.sigma = 0.0, 1.0
        self.g_up = self.g_down = 0.0
        self.up_step = self.down_step = -1
        self.up_len = self.down_len = 0
        self.fired = False

    def update(self, x: float, step: int) -> bool:
        if self.fired:  # fired last time: start over, warm-up included
            self.reset()
        if self.n < self.min_instances:  # warm-up: Welford
            self.n += 1
            d = x - self.mean
            self.mean += d / self.n
            self.m2 += d * (x - self.mean)
            if self.n == self.min_instances:
                self.mu0 = self.mean
                self.sigma = max(math.sqrt(self.m2 / (self.n - 1)), self.floor)
                self.up_step = self.down_step = step  # both sides start at zero here
            return False
        z = (x - self.mu0) / self.sigma
        if self.up:
            self.g_up = max(0.0, self.g_up + z - self.k)
            self.up_len = 0 if self.g_up == 0.0 else self.up_len + 1
            if self.g_up == 0.0:
                self.up_step = step
        if self.down:
            self.g_down = max(0.0, self.g_down - z - self.k)
            self.down_len = 0 if self.g_down == 0.0 else self.down_len + 1
            if self.g_down == 0.0:
                self.down_step = step
        self.fired = (self.up and self.g_up > self.h) or (self.down and self.g_down > self.h)
        return self.fired


def _streams(
    seed: int, steps: int, n: int, active_rate: float, flat: bool
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    scale = 10.0 ** rng.uniform(-4, 0, n)
    x = rng.standard_normal((steps, n)) * scale
    for i in range(n):
        for cut in rng.integers(0, steps, rng.integers(0, 4)):
            x[cut:, i] += rng.normal(0, 2) * scale[i]
    if flat:  # an agent that sits flat first: zero returns, then trades
        x[: steps // 3, 0] = 0.0
    active = rng.random((steps, n)) < active_rate
    x[~active] = np.nan
    return x, active


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 4),
    steps=st.integers(1, 250),
    active_rate=st.sampled_from([1.0, 0.7, 0.3]),
    flat=st.booleans(),
    mode=st.sampled_from(["up", "down", "both"]),
    min_instances=st.integers(2, 30),
    k=st.floats(0.0, 1.5),
    h=st.floats(0.1, 12.0),
)
def test_matches_the_textbook_loop(
    seed: int,
    n: int,
    steps: int,
    active_rate: float,
    flat: bool,
    mode: str,
    min_instances: int,
    k: float,
    h: float,
) -> None:
    x, active = _streams(seed, steps, n, active_rate, flat)
    floor = 1e-8
    vec = Cusum(n, min_instances, k, h, mode, floor)  # type: ignore[arg-type]
    refs = [ReferenceCusum(min_instances, k, h, mode, floor) for _ in range(n)]
    for t in range(steps):
        fired = cusum_update(vec, x[t], active[t], t)
        for i in range(n):
            if not active[t, i]:
                assert not fired[i]
                continue
            r = refs[i]
            assert fired[i] == r.update(float(x[t, i]), t), (t, i)
            b = vec.base
            assert b.count[i] == r.n
            assert b.mu0[i] == r.mu0 and b.sigma[i] == r.sigma
            if vec.watch_up:
                assert vec.g_up[i] == r.g_up
                assert vec.up_step[i] == r.up_step and vec.up_len[i] == r.up_len
            if vec.watch_down:
                assert vec.g_down[i] == r.g_down
                assert vec.down_step[i] == r.down_step and vec.down_len[i] == r.down_len


def test_a_two_sigma_drop_fires_down_and_dates_the_change() -> None:
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.normal(0.0, 1.0, 80), rng.normal(-2.0, 1.0, 40)])
    c = Cusum(1, min_instances=50, k=0.5, h=5.0, mode="down")
    for t in range(len(x)):
        if cusum_update(c, x[t : t + 1], np.ones(1, dtype=bool), t)[0]:
            break
    assert 80 < t <= 90
    assert 75 <= c.down_step[0] <= 82  # the last zero before the excursion that fired
    assert c.g_down[0] > 5.0 and c.down_len[0] == t - c.down_step[0]


def test_a_constant_warm_up_standardizes_by_the_floor() -> None:
    b = Baseline(2, min_instances=3, sigma_floor=1e-6)
    on = np.ones(2, dtype=bool)
    for _ in range(3):
        ready, idle = baseline_update(b, np.array([0.0, 1.0]), on)
        assert not ready.any() and idle is not None and b.z[idle].tolist() == [0.0, 0.0]
    assert b.sigma.tolist() == [1e-6, 1e-6] and b.mu0.tolist() == [0.0, 1.0]
    ready, idle = baseline_update(b, np.array([1e-6, 1.0]), on)
    assert ready.all() and idle is None and b.z.tolist() == [1.0, 0.0]


@pytest.mark.parametrize("bad", [{"mode": "sideways"}, {"min_instances": 1}])
def test_bad_parameters_are_errors(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Cusum(2, **bad)  # type: ignore[arg-type]

"""The online normalizer: statistics from strictly earlier rows, checked against a slow loop."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scarline.features import causal_moments, causal_zscore, expanding_zscore, normalize


def _series(seed: int, shape: tuple[int, ...] = (200, 3), nan_rate: float = 0.1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * 2 + 1
    x[rng.random(shape) < nan_rate] = np.nan
    return x


def _reference(x: np.ndarray, decay: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of the observed rows s < t with weights decay**(t-1-s), by loops."""
    mean, var = np.full(x.shape, np.nan), np.full(x.shape, np.nan)
    for t in range(x.shape[0]):
        for i in range(x.shape[1]):
            past = x[:t, i]
            seen = ~np.isnan(past)
            if not seen.any():
                continue
            w = decay ** (t - 1 - np.arange(t))[seen]
            v = past[seen]
            mean[t, i] = (w * v).sum() / w.sum()
            var[t, i] = (w * (v - mean[t, i]) ** 2).sum() / w.sum()
    return mean, var


@pytest.mark.parametrize("decay", [0.9, 0.5 ** (1 / 30), 1.0])
@pytest.mark.parametrize("offset", [0.0, 1e6])
def test_moments_match_a_loop_over_the_past(decay: float, offset: float) -> None:
    x = _series(1) + offset
    mean, var, count = causal_moments(x, decay)
    ref_mean, ref_var = _reference(x, decay)
    assert np.allclose(mean, ref_mean, rtol=1e-12, atol=1e-9, equal_nan=True)
    assert np.allclose(var, ref_var, rtol=1e-7, atol=1e-12, equal_nan=True)
    seen = ~np.isnan(x)
    assert np.array_equal(count[1:], np.cumsum(seen, axis=0)[:-1])
    assert (count[0] == 0).all()


def test_zscore_uses_the_past_statistics() -> None:
    x = _series(2)
    mean, var, count = causal_moments(x, 0.5 ** (1 / 25))
    z = causal_zscore(x, halflife=25, warmup=10, clip=1e9)
    use = (count >= 10) & ~np.isnan(x)
    assert np.allclose(z[use], (x[use] - mean[use]) / np.sqrt(var[use]), rtol=1e-12)


def test_a_spike_is_scaled_by_statistics_from_before_it() -> None:
    x = _series(3, nan_rate=0.0)
    t0 = 120
    spiked = x.copy()
    spiked[t0, 1] += 40.0
    for z_of in (
        lambda a: causal_zscore(a, halflife=30, warmup=20, clip=1e9),
        lambda a: expanding_zscore(a, warmup=20, clip=1e9),
    ):
        z, zs = z_of(x), z_of(spiked)
        # Rows before the spike and the other series do not see it.
        assert np.array_equal(zs[:t0], z[:t0])
        assert np.array_equal(zs[:, [0, 2]], z[:, [0, 2]])
        # The spike's own row is scaled by the statistics of rows < t0, the same for both.
        for decay in (0.5 ** (1 / 30), 1.0):
            m, v, _ = causal_moments(x, decay)
            ms, vs, _ = causal_moments(spiked, decay)
            assert np.array_equal(ms[: t0 + 1], m[: t0 + 1], equal_nan=True)
            assert np.array_equal(vs[: t0 + 1], v[: t0 + 1], equal_nan=True)
            assert not np.array_equal(ms[t0 + 1 :, 1], m[t0 + 1 :, 1])
        assert zs[t0, 1] > z[t0, 1] + 5
        # Only later rows change, through the statistics.
        assert (zs[t0 + 1 :, 1] != z[t0 + 1 :, 1]).all()


def test_spike_row_value_is_exactly_past_scaled() -> None:
    x = _series(4, shape=(100, 1), nan_rate=0.0)
    x[60, 0] = 25.0
    m, v, _ = causal_moments(x, 0.5 ** (1 / 10))
    z = causal_zscore(x, halflife=10, warmup=5, clip=1e9)
    assert z[60, 0] == pytest.approx((25.0 - m[60, 0]) / np.sqrt(v[60, 0]), rel=1e-12)
    assert z[60, 0] > 5


def test_warmup_counts_observations_and_gives_zero() -> None:
    x = _series(5, shape=(60, 2), nan_rate=0.3)
    z = causal_zscore(x, halflife=10, warmup=8, clip=1e9)
    seen = ~np.isnan(x)
    order = np.cumsum(seen, axis=0) - 1  # how many observations came before this one
    assert np.array_equal(np.isnan(z), ~seen)
    assert (z[seen & (order < 8)] == 0).all()
    assert (z[seen & (order >= 8)] != 0).all()


def test_clip_constant_and_passthrough() -> None:
    x = np.concatenate([np.zeros((30, 1)), np.full((1, 1), 1e6), np.ones((5, 1))])
    z = expanding_zscore(x, warmup=3, clip=2.5)
    assert (z[:30] == 0).all(), "zero variance gives 0, not inf"
    assert (np.abs(z) <= 2.5).all()
    raw = np.array([[-9.0], [np.nan], [0.5], [9.0]])
    assert np.array_equal(
        normalize(raw, "none", 10, 3, 5.0), np.array([[-5.0], [np.nan], [0.5], [5.0]]), True
    )
    with pytest.raises(ValueError, match="unknown normalization"):
        normalize(raw, "minmax", 10, 3, 5.0)  # type: ignore[arg-type]


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    cut=st.integers(1, 199),
    halflife=st.sampled_from([1, 7, 250]),
)
def test_zscore_of_a_prefix_is_the_prefix_of_the_zscore(seed: int, cut: int, halflife: int) -> None:
    x = _series(seed, shape=(200, 2, 2))
    for f in (
        lambda a: causal_zscore(a, halflife, 5, 4.0),
        lambda a: expanding_zscore(a, 5, 4.0),
    ):
        assert np.array_equal(f(x[:cut]), f(x)[:cut], equal_nan=True)

"""One period return, one Sharpe, one drawdown (scarline.stats), one trailing window
(features.window), and the journaled conventions kept bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from scarline.features.window import window_mean, window_std, window_sum
from scarline.stats import (
    _relative,
    drawdown,
    drawdown_pct,
    drawdowns,
    max_drawdown,
    period_return,
    period_returns,
    sharpe,
    sharpe_from_moments,
    sharpe_from_sums,
    smooth_sharpe,
)

RNG = np.random.default_rng(7)
R = RNG.normal(0.001, 0.01, size=(250, 5))


def test_the_three_entry_points_agree() -> None:
    n = R.shape[0]
    direct = sharpe(R)
    from_sums = sharpe_from_sums(R.sum(axis=0), (R * R).sum(axis=0), np.full(5, n))
    from_moments = sharpe_from_moments(R.mean(axis=0), R.std(axis=0, ddof=1), n)
    np.testing.assert_allclose(from_sums, direct, rtol=1e-9)
    np.testing.assert_allclose(from_moments, direct, rtol=1e-12)
    assert direct == pytest.approx(R.mean(axis=0) / R.std(axis=0, ddof=1), rel=1e-12)


def test_conventions_are_parameters() -> None:
    annual = sharpe(R, periods_per_year=252.0)
    np.testing.assert_allclose(annual, sharpe(R) * np.sqrt(252.0), rtol=1e-15)
    population = sharpe(R, ddof=0)
    np.testing.assert_allclose(population, R.mean(axis=0) / R.std(axis=0), rtol=1e-12)


def test_no_variation_and_too_few_returns_give_zero() -> None:
    assert sharpe(np.full((10, 2), 0.01)).tolist() == [0.0, 0.0]
    assert sharpe(np.ones((1, 3))).tolist() == [0.0, 0.0, 0.0]
    assert sharpe(np.array([0.01, np.nan, np.nan])).tolist() == [0.0]  # one valid return
    assert sharpe_from_sums(np.array([0.2]), np.array([0.02]), np.array([2]))[0] == 0.0
    assert sharpe(np.array([0.01, 0.02, 0.03])).shape == (1,)  # a series is one column


def test_population_sums_reproduce_the_behaviour_trackers_arithmetic() -> None:
    """The evolution's selections are journaled: ddof=0 must be the old formula exactly."""
    age = np.array([0, 1, 2, 5, 250, 250])
    total = np.r_[0.0, 0.01, R[:2, 0].sum(), R[:5, 1].sum(), R[:, 2].sum(), 0.0]
    total_sq = np.r_[
        0.0, 1e-4, (R[:2, 0] ** 2).sum(), (R[:5, 1] ** 2).sum(), (R[:, 2] ** 2).sum(), 0
    ]
    n = np.maximum(age, 1)
    mean = total / n
    std = np.sqrt(np.maximum(total_sq / n - mean * mean, 0.0))
    ok = (age >= 2) & (std > 1e-12)
    legacy = np.where(ok, mean / np.where(ok, std, 1.0), 0.0)
    assert sharpe_from_sums(total, total_sq, age, ddof=0).tobytes() == legacy.tobytes()


def test_smooth_sharpe_has_no_cut_off() -> None:
    assert smooth_sharpe(np.array([0.01]), np.array([0.0]))[0] == pytest.approx(1e4)


def test_drawdown_from_the_running_peak() -> None:
    equity = np.array([[100.0, 100.0], [110.0, 90.0], [99.0, np.nan], [121.0, 95.0]])
    assert max_drawdown(equity) == pytest.approx([0.1, 0.1])
    assert drawdown(np.array([0.0, 100.0]), np.array([5.0, 80.0]), undefined=0.0).tolist() == [
        0.0,
        pytest.approx(0.2),
    ]


def test_period_returns_by_hand_and_their_undefined_steps() -> None:
    equity = np.array([[100.0, 100.0, np.nan], [110.0, 0.0, 50.0], [99.0, 50.0, 55.0]])
    r = period_returns(equity)
    assert r[:, 0] == pytest.approx([0.1, -0.1])
    assert r[0, 1] == -1.0 and np.isnan(r[1, 1])  # from 0: undefined
    assert np.isnan(r[0, 2]) and r[1, 2] == pytest.approx(0.1)  # from NaN: undefined
    zeros = period_returns(equity, undefined=0.0)
    assert zeros[1, 1] == 0.0 and zeros[0, 2] == 0.0
    assert np.isnan(period_return(np.array([-5.0, 5.0]), np.array([1.0, np.nan]))).all()
    assert period_return(np.array([4.0]), np.array([5.0]))[0] == 0.25  # one step, 1-D


def test_period_return_is_the_difference_over_the_previous_equity_bit_for_bit() -> None:
    """Integer cash: the difference is exact at any size (the scars' trust return, journaled,
    was always this), where float64 equities would lose it above 2**53."""
    prev = np.array([1, 3, 7, 1_000_003, 987_654_321, 10**17, -4, 0], dtype=np.int64)
    cur = np.array([0, 4, 6, 1_000_000, 987_654_999, 10**17 + 1, 5, 5], dtype=np.int64)
    legacy_trust = np.where(prev > 0, (cur - prev) / np.maximum(prev, 1), 0.0)
    assert period_return(prev, cur, undefined=0.0).tobytes() == legacy_trust.tobytes()
    assert period_return(prev, cur)[5] == 1e-17  # float64 10**17 + 1 == 10**17: 0 there
    assert drawdown(np.int64(10**17 + 1), np.int64(10**17)) == 1.0 / (10**17 + 1)


def test_drawdown_pct_is_the_risk_ladders_arithmetic_bit_for_bit() -> None:
    rng = np.random.default_rng(11)
    peak = rng.integers(-1_000, 10**9, 500)
    equity = peak - rng.integers(0, 10**9, 500)
    peak[:3], equity[:3] = [0, 0, -5], [0, -7, -5]
    p, e = peak.astype(np.float64), equity.astype(np.float64)
    safe = np.where(p > 0, p, 1.0)
    legacy = np.maximum(np.where(p > 0, (p - e) / safe * 100.0, np.where(e < p, 100.0, 0.0)), 0)
    assert drawdown_pct(peak, equity).tobytes() == legacy.tobytes()
    assert drawdown_pct(peak[:3], equity[:3]).tolist() == [0.0, 100.0, 0.0]


positive = st.floats(1e-3, 1e9, allow_nan=False)


@settings(max_examples=100, deadline=None)
@given(level=positive, steps=st.integers(2, 30))
def test_a_constant_equity_has_zero_returns_and_no_drawdown(level: float, steps: int) -> None:
    equity = np.full((steps, 2), level)
    assert (period_returns(equity) == 0.0).all()
    assert (drawdowns(equity) == 0.0).all() and (max_drawdown(equity) == 0.0).all()
    assert sharpe(period_returns(equity)).tolist() == [0.0, 0.0]


@settings(max_examples=200, deadline=None)
@given(
    equity=arrays(np.float64, st.integers(1, 40), elements=st.floats(0.0, 1e9)),
    peak=st.floats(-1e9, 1e9),
)
def test_drawdown_is_a_fraction_and_its_percent_is_in_0_100(
    equity: np.ndarray, peak: float
) -> None:
    """For non-negative equity under its running peak: a fraction in [0, 1], percent in
    [0, 100], equal to 100 × the fraction wherever the peak is positive; never NaN."""
    dd = drawdowns(equity[:, None])[:, 0]
    ok = np.fmax.accumulate(equity) > 0
    assert np.isnan(dd[~ok]).all() and ((dd[ok] >= 0) & (dd[ok] <= 1)).all()
    top = np.maximum(np.maximum.accumulate(equity), peak)
    pct = drawdown_pct(top, equity)
    assert ((pct >= 0) & (pct <= 100)).all()
    np.testing.assert_array_equal(pct[top > 0], 100.0 * drawdown(top, equity)[top > 0])


@settings(max_examples=100, deadline=None)
@given(
    equity=arrays(
        np.float64, st.tuples(st.integers(2, 30), st.integers(1, 3)), elements=st.floats(1.0, 1e4)
    )
)
def test_period_returns_compound_back_to_the_equity(equity: np.ndarray) -> None:
    r = period_returns(equity)
    np.testing.assert_allclose(np.cumprod(1 + r, axis=0) * equity[0], equity[1:], rtol=1e-9)


def _masked_period_return(prev: np.ndarray, cur: np.ndarray, undefined: float) -> np.ndarray:
    """period_return's general, masked arithmetic (what integer inputs used to take)."""
    ok = np.isfinite(prev) & np.isfinite(cur) & (prev > 0)
    return _relative(cur, prev, prev, ok, undefined)


def _masked_drawdown_pct(peak: np.ndarray, equity: np.ndarray) -> np.ndarray:
    """drawdown_pct's general, masked arithmetic (what integer inputs used to take)."""
    ok = np.isfinite(equity) & np.isfinite(peak) & (peak > 0)
    fall = _relative(peak, equity, peak, ok, np.nan)
    np.maximum(fall, 0.0, out=fall, where=ok)
    return np.where(peak > 0, 100.0 * fall, np.where(equity < peak, 100.0, 0.0))


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


INTS = st.sampled_from([np.int8, np.int32, np.int64, np.uint8, np.uint32, np.uint64])


@settings(max_examples=300, deadline=None)
@given(
    data=st.data(), base_type=INTS, other_type=INTS, n=st.integers(1, 12), low=st.integers(-3, 1)
)
def test_integer_inputs_skip_the_masks_with_the_same_bits(
    data: st.DataObject, base_type: type, other_type: type, n: int, low: int
) -> None:
    """Integer equities (the kernel's cash, every step) take an unmasked path when every base
    is positive: the same operations on the same types, so the same bits, overflow included."""

    def ints(dtype: type, floor: int) -> np.ndarray:
        info = np.iinfo(dtype)
        values = st.integers(max(floor, int(info.min)), int(info.max))
        return data.draw(arrays(dtype, n, elements=values))

    base, other = ints(base_type, low), ints(other_type, int(np.iinfo(other_type).min))
    for undefined in (np.nan, 0.0):
        assert _same_bits(
            period_return(base, other, undefined=undefined),
            _masked_period_return(base, other, undefined),
        )
    assert _same_bits(drawdown_pct(base, other), _masked_drawdown_pct(base, other))
    ok = base > 0
    fall = _relative(base, other, base, ok, np.nan)
    np.maximum(fall, 0.0, out=fall, where=ok)
    assert _same_bits(drawdown(base, other), fall)


def test_windows_are_direct_sums_of_their_own_rows() -> None:
    x = np.cumsum(RNG.normal(size=(300, 3)), axis=0) + 100.0
    x[40, 1] = np.nan
    for w in (1, 5, 20):
        mean, std = window_mean(x, w), window_std(x, w)
        t = 123
        np.testing.assert_allclose(mean[t], x[t - w + 1 : t + 1].mean(axis=0), rtol=1e-12)
        np.testing.assert_allclose(std[t], x[t - w + 1 : t + 1].std(axis=0), atol=1e-9)
        assert np.isnan(mean[40 : 40 + w, 1]).all() and np.isfinite(mean[40 + w :, 1]).all()
    assert np.nanmax(window_std(x, 1)) == 0.0  # a one-bar window has no spread
    assert np.isnan(window_mean(x[:3], 5)).all()  # the window never fills
    ticks = np.arange(10, dtype=np.int64) * 3
    assert window_sum(ticks, 3, fill=-1).dtype == np.int64  # integer sums stay exact

"""One Sharpe, one drawdown (scarline.stats), and the journaled conventions kept bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from scarline.features.window import window_mean, window_std
from scarline.stats import (
    drawdown,
    max_drawdown,
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


def test_running_windows_are_the_legacy_cumulative_sums() -> None:
    x = np.cumsum(RNG.normal(size=(300, 3)), axis=0) + 100.0
    x[40, 1] = np.nan
    for w in (1, 5, 20):
        direct, running = window_mean(x, w), window_mean(x, w, running=True)
        np.testing.assert_array_equal(np.isnan(direct), np.isnan(running))
        np.testing.assert_allclose(running, direct, rtol=1e-10, equal_nan=True)
        np.testing.assert_allclose(
            window_std(x, w, running=True), window_std(x, w), atol=1e-4, equal_nan=True
        )  # close, not equal: mean of squares minus squared mean cancels (why it is legacy)
    assert np.nanmax(window_std(x, 1)) == 0.0  # direct: a one-bar window has no spread
    assert np.isnan(window_mean(x[:3], 5, running=True)).all()  # the window never fills

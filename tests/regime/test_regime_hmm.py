"""Fitting and naming: names follow the fitted volatility, fits are deterministic, and the
own forward filter equals hmmlearn's posterior at the last bar of every prefix."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hmmlearn.hmm import GaussianHMM
from market_helpers import tiny_market_of

from scarline.regime import RegimeConfig, memo, regime_path
from scarline.regime.filtering import forward_filter
from scarline.regime.hmm import (
    MIN_FIT_ROWS,
    RegimeFitError,
    fit_regime_model,
    from_hmmlearn,
    name_order,
)
from scarline.regime.observations import observations


def _obs(sticky_market, n: int = 1500) -> np.ndarray:
    x, observed = observations(sticky_market[0].slice(0, n))
    return x[observed]


def test_states_are_named_by_their_mean_log_volatility() -> None:
    hmm = GaussianHMM(n_components=3, covariance_type="diag")
    hmm.n_features = 2  # set by fit(); a hand-made model needs it for covars_
    hmm.startprob_ = np.array([0.2, 0.3, 0.5])
    hmm.transmat_ = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.3, 0.3, 0.4]])
    hmm.means_ = np.array([[0.0, -3.5], [0.1, -5.0], [0.2, -4.5]])
    hmm.covars_ = np.array([[1.0, 0.2], [2.0, 0.1], [3.0, 0.3]])
    model = from_hmmlearn(hmm)
    assert model.order == (1, 2, 0)  # calm = -5.0, trend = -4.5, chaos = -3.5
    assert model.means[:, 1].tolist() == [-5.0, -4.5, -3.5]
    assert model.variances[:, 0].tolist() == [2.0, 3.0, 1.0]
    assert model.startprob.tolist() == [0.3, 0.5, 0.2]
    idx = [1, 2, 0]
    assert np.array_equal(model.transmat, hmm.transmat_[np.ix_(idx, idx)])
    assert set(model.moments()) == {"calm", "trend", "chaos"}


def test_equal_volatility_ties_go_to_the_smaller_return_variance() -> None:
    means = np.array([[0.0, -4.0], [0.0, -4.0], [0.0, -5.0]])
    covars = np.stack([np.diag([3.0, 1.0]), np.diag([1.0, 1.0]), np.diag([2.0, 1.0])])
    assert name_order(means, covars) == (2, 1, 0)


def test_a_fit_is_deterministic_and_ordered(sticky_market) -> None:
    x = _obs(sticky_market)
    a, b = fit_regime_model(x, seed=7), fit_regime_model(x.copy(), seed=7)
    for name in ("means", "covars", "transmat", "startprob"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
    assert (np.diff(a.means[:, 1]) > 0).all()  # calm < trend < chaos volatility
    assert np.allclose(a.transmat.sum(axis=1), 1.0) and np.isclose(a.startprob.sum(), 1.0)
    assert a.n_obs == len(x)
    with pytest.raises(ValueError):
        a.means[0, 0] = 1.0  # a fitted model is read-only


def test_too_few_or_non_finite_rows_are_a_fit_error() -> None:
    with pytest.raises(RegimeFitError, match="at least"):
        fit_regime_model(np.zeros((MIN_FIT_ROWS - 1, 2)))
    bad = np.ones((100, 2))
    bad[5, 1] = np.nan
    with pytest.raises(RegimeFitError, match="finite"):
        fit_regime_model(bad)


@pytest.mark.parametrize("covariance_type", ["diag", "full"])
def test_forward_filter_equals_hmmlearn_at_the_last_bar_of_each_prefix(
    sticky_market, covariance_type: str
) -> None:
    x = _obs(sticky_market, 400)
    z = (x - x.mean(axis=0)) / x.std(axis=0)
    hmm = GaussianHMM(
        n_components=3, covariance_type=covariance_type, n_iter=20, random_state=3
    ).fit(z)
    model = from_hmmlearn(hmm)
    ours = forward_filter(model, z)
    order = list(model.order)
    for t in range(0, len(z), 7):
        theirs = hmm.predict_proba(z[: t + 1])[-1][order]
        np.testing.assert_allclose(ours[t], theirs, rtol=1e-7, atol=1e-10)


def test_filter_continues_from_a_prior_and_propagates_unobserved_bars(sticky_market) -> None:
    x = _obs(sticky_market, 600)
    model = fit_regime_model(x)
    whole = forward_filter(model, x)
    head = forward_filter(model, x[:250])
    tail = forward_filter(model, x[250:], prior=head[-1])
    np.testing.assert_allclose(np.vstack([head, tail]), whole, rtol=1e-12, atol=1e-15)
    seen = np.ones(len(x), dtype=bool)
    seen[100] = False
    gap = forward_filter(model, x, observed=seen)
    np.testing.assert_allclose(gap[100], gap[99] @ model.transmat)
    assert np.allclose(gap.sum(axis=1), 1.0)


def test_degenerate_windows_fit_without_numpy_warnings() -> None:
    """Unchanged prices for 300 bars (log volatility at its floor), then a 50x jump: EM
    overflowed on the warm-started windows and printed numpy RuntimeWarnings on stderr
    (an internal error under ``-W error``). The path is still defined: finite, one label
    per bar."""
    closes = [[100.0]] * 300 + [[5000.0]] * 100
    market = tiny_market_of(closes)
    cfg = RegimeConfig(enabled=True, min_history=50, refit_every=50, window=100)
    memo.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path = regime_path(market, cfg)
    assert path.labels.shape == (400,) and set(path.labels.tolist()) <= {0, 1, 2}
    assert np.isfinite(path.probs).all() and np.isfinite(path.confidence).all()

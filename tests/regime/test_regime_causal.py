"""The causal path: accuracy against known regimes, no look-ahead, the "unknown" convention."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from pydantic import ValidationError
from scipy.optimize import linear_sum_assignment

from scarline.market.frame import MarketData
from scarline.market.synthetic import generate_with_truth
from scarline.regime import REGIME_NAMES, RegimeConfig, RegimePath, regime_path
from scarline.regime.causal import refit_steps
from scarline.regime.observations import observations

ACCURACY_CFG = RegimeConfig(enabled=True, min_history=500)
"""Defaults but min_history 500: the first fit must have seen all three regimes to name
them (checked below); with ~100-bar regimes 250 bars often hold only two."""


def aligned_accuracy(truth: np.ndarray, labels: np.ndarray) -> float:
    """Share of bars right under the best one-to-one renaming of the three labels."""
    counts = np.zeros((3, 3))
    np.add.at(counts, (truth, labels), 1)
    rows, cols = linear_sum_assignment(-counts)
    return float(counts[rows, cols].sum() / counts.sum())


def test_causal_labels_match_the_true_regimes(sticky_market) -> None:
    market, truth = sticky_market
    start = ACCURACY_CFG.min_history
    assert set(truth[:start].tolist()) == {0, 1, 2}  # the first window shows every regime
    path = regime_path(market, ACCURACY_CFG)
    accuracy = aligned_accuracy(truth[start:], path.labels[start:])
    assert accuracy >= 0.80, accuracy  # 0.881 (docs/regimes.md)
    # The best relabelling is the identity: calm is named calm, not just grouped.
    assert float(np.mean(truth[start:] == path.labels[start:])) == pytest.approx(accuracy)


def test_accuracy_holds_across_seeds(sticky_spec) -> None:
    scores = []
    for seed in range(10):
        market, truth = generate_with_truth(sticky_spec(seed=seed))
        path = regime_path(market, ACCURACY_CFG)
        scores.append(aligned_accuracy(truth[500:], path.labels[500:]))
    assert np.mean(scores) >= 0.80, scores  # 0.865, min 0.761 (docs/regimes.md)


def _perturbed_after(market: MarketData, t: int, seed: int) -> MarketData:
    """The same bars up to t, anything else after: other closes, some bars missing."""
    rng = np.random.default_rng(seed)
    close = market.close.copy()
    after = close[t + 1 :]
    close[t + 1 :] = np.maximum(after * rng.uniform(0.5, 2.0, after.shape), 1).astype(np.int64)
    valid = market.valid.copy()
    valid[t + 1 :] &= rng.random(valid[t + 1 :].shape) > 0.2
    return dataclasses.replace(market, close=close, valid=valid)


def _assert_same_up_to(a: RegimePath, b: RegimePath, t: int) -> None:
    s = slice(0, t + 1)
    assert np.array_equal(a.labels[s], b.labels[s])
    assert np.array_equal(a.raw[s], b.raw[s])
    assert np.array_equal(a.probs[s], b.probs[s])
    assert np.array_equal(a.confidence[s], b.confidence[s])
    fits_a = [(step, m) for step, m in a.fits if step <= t]
    fits_b = [(step, m) for step, m in b.fits if step <= t]
    assert [s for s, _ in fits_a] == [s for s, _ in fits_b]
    for (_, ma), (_, mb) in zip(fits_a, fits_b, strict=True):
        assert np.array_equal(ma.means, mb.means) and np.array_equal(ma.transmat, mb.transmat)


LOOKAHEAD_CFG = RegimeConfig(enabled=True, refit_every=200, window=400, min_history=300)


@pytest.mark.parametrize("t", [250, 299, 300, 301, 499, 500, 501, 777, 1100])
def test_nothing_up_to_t_depends_on_bars_after_t(sticky_market, t: int) -> None:
    """Refits at 300, 500, 700, 900, 1100: t sits before, on and after them."""
    market = sticky_market[0].slice(0, 1300)
    full = regime_path(market, LOOKAHEAD_CFG)
    assert [s for s, _ in full.fits] == [300, 500, 700, 900, 1100]
    _assert_same_up_to(full, regime_path(market.slice(0, t + 1), LOOKAHEAD_CFG), t)
    other = regime_path(_perturbed_after(market, t, seed=t), LOOKAHEAD_CFG)
    _assert_same_up_to(full, other, t)
    if t + 1 < market.n_steps:  # the perturbation did change what comes after t
        assert not np.array_equal(full.probs[t + 1 :], other.probs[t + 1 :])


def test_each_fit_sees_at_most_window_bars_strictly_before_its_step(sticky_market) -> None:
    market = sticky_market[0].slice(0, 1300)
    _, observed = observations(market, LOOKAHEAD_CFG.vol_window)
    fits = regime_path(market, LOOKAHEAD_CFG).fits
    for step, model in fits:
        lo = max(0, step - LOOKAHEAD_CFG.window)
        assert model.n_obs == observed[lo:step].sum()


def test_bars_before_the_first_fit_are_calm_with_confidence_zero(sticky_market) -> None:
    market = sticky_market[0].slice(0, 800)
    path = regime_path(market, LOOKAHEAD_CFG)
    head = slice(0, LOOKAHEAD_CFG.min_history)
    assert (path.labels[head] == 0).all() and (path.raw[head] == 0).all()
    assert (path.confidence[head] == 0).all() and np.allclose(path.probs[head], 1 / 3)
    tail = slice(LOOKAHEAD_CFG.min_history, None)
    assert np.allclose(path.probs[tail].sum(axis=1), 1.0)
    assert np.array_equal(path.raw[tail], path.probs[tail].argmax(axis=1))
    assert np.array_equal(
        path.confidence[tail], path.probs[tail][np.arange(500), path.labels[tail]]
    )
    assert path.labels.dtype == np.int64 and path.probs.shape == (800, len(REGIME_NAMES))
    steps = [tr.step for tr in path.transitions()]
    assert steps == (np.flatnonzero(np.diff(path.labels)) + 1).tolist()


def test_a_market_shorter_than_min_history_is_all_unknown(sticky_market) -> None:
    path = regime_path(sticky_market[0].slice(0, 200), LOOKAHEAD_CFG)
    assert path.fits == [] and (path.labels == 0).all() and (path.confidence == 0).all()
    assert refit_steps(1000, LOOKAHEAD_CFG) == [300, 500, 700, 900]


def test_config_is_strict() -> None:
    assert RegimeConfig().enabled is False
    for bad in ({"confidence": 0.5}, {"hysteresis": 0}, {"windw": 10}, {"window": "1000"}):
        with pytest.raises(ValidationError):
            RegimeConfig(**bad)

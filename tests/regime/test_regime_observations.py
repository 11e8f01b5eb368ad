"""The HMM's observations: exact values on a tiny market, missing bars, causality, finiteness."""

from __future__ import annotations

import numpy as np
from market_helpers import tiny_market_of

from scarline.regime.observations import VAR_FLOOR, observations


def test_values_on_a_tinytiny_market_of() -> None:
    closes = [[100.0, 50.0], [101.0, 49.0], [99.0, 50.0], [100.0, 51.0]]
    x, observed = observations(tiny_market_of(closes), vol_window=2)
    r = np.diff(np.log(np.asarray(closes)), axis=0)  # r[t-1] is the return at bar t
    # Bar 0 has no return, bar 1 no earlier volatility to scale by.
    assert observed.tolist() == [False, False, True, True]
    var = [np.mean(r[: k + 1][-2:] ** 2) for k in range(3)]
    assert np.isclose(x[2, 0], r[1].mean() / np.sqrt(var[0]))
    assert np.isclose(x[3, 0], r[2].mean() / np.sqrt(var[1]))
    assert np.isclose(x[2, 1], 0.5 * np.log(var[1]))
    assert np.isclose(x[3, 1], 0.5 * np.log(var[2]))
    assert (x[~observed] == 0).all()


def test_missing_bars_drop_out_and_values_stay_finite() -> None:
    closes = [[100.0, 50.0], [101.0, 49.0], [0.0, 0.0], [100.0, 51.0], [100.0, 51.0], [101.0, 52.0]]
    valid = np.ones((6, 2), dtype=bool)
    valid[2] = False  # nobody trades at bar 2
    valid[4, 1] = False  # X1 misses bar 4
    x, observed = observations(tiny_market_of(closes, valid), vol_window=3)
    assert np.isfinite(x).all()
    # bar 2 has no bar, bar 3 no return (its previous bar is missing) -> unobserved.
    assert observed.tolist() == [False, False, False, False, True, True]
    # bar 4: only X0 has a return (0: unchanged); bar 5: X0 has one, X1 does not (4 missing).
    assert x[4, 0] == 0.0
    r5 = np.log(101.0 / 100.0)
    assert x[5, 0] > 0 and np.isclose(x[5, 1], 0.5 * np.log(r5**2 / 2))


def test_unchanged_prices_hit_the_floor_not_minus_infinity() -> None:
    x, observed = observations(tiny_market_of([[100.0]] * 10), vol_window=3)
    assert observed[2:].all()
    assert np.allclose(x[2:, 1], 0.5 * np.log(VAR_FLOOR)) and (x[:, 0] == 0).all()


def test_a_bar_depends_on_earlier_bars_only(sticky_market) -> None:
    market, _ = sticky_market
    full_x, full_obs = observations(market.slice(0, 600), vol_window=5)
    for t in (0, 1, 2, 5, 37, 300, 599):
        x, obs = observations(market.slice(0, t + 1), vol_window=5)
        assert np.array_equal(x, full_x[: t + 1]) and np.array_equal(obs, full_obs[: t + 1])

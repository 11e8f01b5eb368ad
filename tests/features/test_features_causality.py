"""Lookahead analysis: every feature at t is the same whether or not rows after t exist."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scarline.features import FeatureConfig, market_features
from scarline.market.frame import MarketData
from scarline.market.synthetic import SynthSpec, generate

MARKET = generate(SynthSpec(n_steps=600, n_instruments=2, seed=11, planted_ic=0.1))
NAMES = market_features(MARKET, FeatureConfig()).names
METHODS = ("ewma", "expanding", "none")
# Around every window edge (1, 5, 14, 20, 60), the normalizer warm-up, and deep in the series.
CUTS = (1, 2, 5, 6, 14, 15, 20, 21, 40, 41, 60, 61, 62, 81, 82, 150, 333, 599)


@pytest.fixture(scope="module")
def tables() -> dict[str, tuple]:
    out = {}
    for method in METHODS:
        cfg = FeatureConfig(normalize=method)
        full = market_features(MARKET, cfg)
        out[method] = (full, {cut: market_features(MARKET.slice(0, cut), cfg) for cut in CUTS})
    return out


def test_default_names_cover_every_family() -> None:
    assert NAMES == [
        "ret_1",
        "ret_5",
        "ret_20",
        "vol_20",
        "vol_60",
        "mom_20",
        "mom_60",
        "rsi_14",
        "exog:signal",
    ]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", NAMES)
def test_truncated_series_gives_identical_rows(name: str, method: str, tables: dict) -> None:
    full, cut_tables = tables[method]
    j = full.index(name)
    assert full.ready[:, :, j].sum() > 400, "feature must be informative for the test to bite"
    assert np.unique(full.values[:, :, j]).size > 100
    for cut, table in cut_tables.items():
        assert table.names == full.names
        assert np.array_equal(table.values[:, :, j], full.values[:cut, :, j]), (name, cut)
        assert np.array_equal(table.ready[:, :, j], full.ready[:cut, :, j]), (name, cut)


def _scramble_future(market: MarketData, cut: int, seed: int) -> MarketData:
    """Rows >= cut replaced by a different path (reversed, other exog): the past is unchanged."""
    rng = np.random.default_rng(seed)

    def swap(a: np.ndarray) -> np.ndarray:
        out = a.copy()
        out[cut:] = a[cut:][::-1]
        return out

    exog = market.exog.copy()
    exog[cut:] = rng.standard_normal(exog[cut:].shape) * 10
    return dataclasses.replace(
        market, close=swap(market.close), valid=swap(market.valid), exog=exog
    )


@pytest.mark.parametrize("cut", [30, 100, 400])
def test_changing_the_future_leaves_the_past_alone(cut: int) -> None:
    cfg = FeatureConfig()
    base = market_features(MARKET, cfg)
    other = market_features(_scramble_future(MARKET, cut, seed=cut), cfg)
    assert np.array_equal(other.values[:cut], base.values[:cut])
    assert np.array_equal(other.ready[:cut], base.ready[:cut])
    assert not np.array_equal(other.values[cut:], base.values[cut:])


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    gap_rate=st.sampled_from([0.0, 0.03]),
    method=st.sampled_from(METHODS),
    data=st.data(),
)
def test_truncation_invariance_over_seeds_and_cuts(
    seed: int, gap_rate: float, method: str, data: st.DataObject
) -> None:
    market = generate(SynthSpec(n_steps=300, n_instruments=2, seed=seed, planted_ic=0.1))
    if gap_rate:
        gaps = np.random.default_rng(seed).random(market.valid.shape) < gap_rate
        market = dataclasses.replace(market, valid=market.valid & ~gaps)
    cfg = FeatureConfig(normalize=method, norm_halflife=50)
    full = market_features(market, cfg)
    cut = data.draw(st.integers(1, market.n_steps - 1), label="cut")
    table = market_features(market.slice(0, cut), cfg)
    assert np.array_equal(table.values, full.values[:cut])
    assert np.array_equal(table.ready, full.ready[:cut])

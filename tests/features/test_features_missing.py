"""Missing bars: 0 and not ready where a window needs them, untouched everywhere else."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from scarline.features import FeatureConfig, market_features, raw_features
from scarline.market.frame import MarketData
from scarline.market.synthetic import SynthSpec, generate

MakeMarket = Callable[..., MarketData]
MARKET = generate(SynthSpec(n_steps=300, n_instruments=2, seed=5, planted_ic=0.1))
GAP = 150
RAW_CFG = FeatureConfig(normalize="none", clip=1e9)


def _affected(name: str) -> set[int]:
    """Rows of instrument 0 whose window contains the missing bar at GAP."""
    family, _, k = name.partition("_")
    if name.startswith("exog:") or family == "rsi":
        return {GAP}
    k = int(k)
    return {
        "ret": {GAP, GAP + k},
        "vol": set(range(GAP, GAP + k + 1)),
        "mom": set(range(GAP, GAP + k)),
    }[family]


def test_missing_bar_blanks_only_its_windows(with_gaps: Callable[..., MarketData]) -> None:
    gapped = with_gaps(MARKET, [(GAP, 0)])
    base = market_features(MARKET, RAW_CFG)
    holed = market_features(gapped, RAW_CFG)
    base_raw, holed_raw = raw_features(MARKET, RAW_CFG), raw_features(gapped, RAW_CFG)
    # The other instrument does not notice.
    assert np.array_equal(holed.values[:, 1], base.values[:, 1])
    assert np.array_equal(holed.ready[:, 1], base.ready[:, 1])
    for j, name in enumerate(base.names):
        hit = sorted(_affected(name))
        assert not holed.ready[hit, 0, j].any(), name
        assert (holed.values[hit, 0, j] == 0).all(), name
        keep = np.setdiff1d(np.arange(MARKET.n_steps), hit)
        assert np.array_equal(holed.ready[keep, 0, j], base.ready[keep, 0, j]), name
        if name.startswith("rsi"):
            # Wilder's EWMA remembers everything: later values move but stay defined.
            assert np.array_equal(holed_raw[:GAP, 0, j], base_raw[:GAP, 0, j], equal_nan=True)
            assert np.isfinite(holed_raw[GAP + 1 :, 0, j]).all()
        else:
            assert np.array_equal(holed_raw[keep, 0, j], base_raw[keep, 0, j], equal_nan=True)


def test_normalized_table_recovers_after_the_windows(with_gaps: Callable[..., MarketData]) -> None:
    cfg = FeatureConfig()
    base = market_features(MARKET, cfg)
    holed = market_features(with_gaps(MARKET, [(GAP, 0), (GAP + 3, 0)]), cfg)
    assert not holed.ready[GAP, 0].any() and (holed.values[GAP, 0] == 0).all()
    after = GAP + 3 + max(cfg.vol_windows) + 1
    assert np.array_equal(holed.ready[after:, 0], base.ready[after:, 0])
    assert holed.ready[after:, 0].all()
    assert np.isfinite(holed.values).all()


def test_non_finite_exog_is_not_ready() -> None:
    exog = MARKET.exog.copy()
    exog[40, 1, 0] = np.nan
    exog[41, 1, 0] = np.inf
    table = market_features(dataclasses.replace(MARKET, exog=exog), FeatureConfig())
    j = table.index("exog:signal")
    assert not table.ready[40:42, 1, j].any() and (table.values[40:42, 1, j] == 0).all()
    assert table.ready[42:, 1, j].all()
    assert np.isfinite(table.values).all()


def test_instrument_that_starts_late(tiny_market: MakeMarket) -> None:
    closes = [[100.0 + t, 50.0 + (t % 3)] for t in range(40)]
    valid = np.ones((40, 2), dtype=bool)
    valid[:10, 1] = False
    table = market_features(tiny_market(closes, valid=valid), RAW_CFG)
    j = table.index("ret_5")
    assert not table.ready[:15, 1, j].any()
    assert table.ready[15:, 1, j].all()
    assert np.array_equal(table.ready[:, 0, j], np.arange(40) >= 5)


def test_non_positive_price_counts_as_no_bar(tiny_market: MakeMarket) -> None:
    closes = [[100.0 + t] for t in range(30)]
    closes[20] = [0.0]
    table = market_features(tiny_market(closes), RAW_CFG)
    assert not table.ready[20, 0].any() and (table.values[20, 0] == 0).all()
    assert np.isfinite(table.values).all()
    assert table.ready[21, 0, table.index("rsi_14")]
    assert not table.ready[21, 0, table.index("ret_1")]

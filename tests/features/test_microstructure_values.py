"""Known values of each microstructure measure (VPIN-lite, book imbalance, staleness, spread z)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy.special import ndtr

from scarline.features.microstructure import (
    book_imbalance,
    bvc_buy_share,
    microstructure_table,
    quote_invalid,
    quote_staleness,
    spread_bps,
    spread_zscore,
    vpin_lite,
)
from scarline.market.frame import Quotes
from scarline.market.synthetic import SynthSpec, generate
from scarline.risk.config import MicrostructureConfig

HUGE = 1e12  # a half-life this long weighs every earlier bar equally


def col(values: list[float]) -> np.ndarray:
    return np.asarray(values, dtype=np.float64)[:, None]


def test_buy_share_is_phi_of_the_return_over_the_earlier_rms() -> None:
    # log returns +r, -r, +r, ... (100 <-> 101): the RMS of earlier returns is exactly r
    close = col([100.0, 101.0] * 6 + [101.0 * 1.01**3])
    share = bvc_buy_share(close, halflife=5.0, warmup=3)[:, 0]
    assert np.isnan(share[:4]).all()  # r_0 is undefined; r_t needs 3 earlier returns
    np.testing.assert_allclose(share[4:12:2], ndtr(-1.0))  # down bars
    np.testing.assert_allclose(share[5:12:2], ndtr(1.0))  # up bars
    np.testing.assert_allclose(share[12], ndtr(3.0))  # a 3-sigma up move


def test_buy_share_without_earlier_variance_is_the_sign_of_the_move() -> None:
    close = col([100.0] * 5 + [101.0, 100.0, 100.0])
    share = bvc_buy_share(close, halflife=HUGE, warmup=2)[:, 0]
    np.testing.assert_array_equal(share[3:6], [0.5, 0.5, 1.0])  # flat, flat, first move up
    np.testing.assert_allclose(share[6], ndtr(-np.sqrt(5.0)))  # sigma^2 = r^2 / 5 (equal w)


def test_vpin_lite_is_volume_weighted_imbalance_over_the_window() -> None:
    close = col([100.0, 101.0] * 10)
    valid = np.ones(close.shape, dtype=bool)
    volume = np.tile([[1], [3]], (10, 1))
    vpin = vpin_lite(close, volume, valid, window=4, halflife=HUGE, warmup=3)[:, 0]
    assert np.isnan(vpin[:4]).all()
    # every classified bar has |2Φ(±1) − 1| = erf(1/√2): volume weights cannot move it
    np.testing.assert_allclose(vpin[4:], 2 * ndtr(1.0) - 1)
    # the window's bars before the warm-up carry no volume: only classified bars count
    share = bvc_buy_share(close, HUGE, 3)[:, 0]
    v = np.where(np.isnan(share), 0.0, volume[:, 0])
    imb = v * np.abs(2 * np.nan_to_num(share, nan=0.5) - 1)
    for t in range(4, 20):
        lo = t - 3
        assert vpin[t] == pytest.approx(imb[lo : t + 1].sum() / v[lo : t + 1].sum())


def test_vpin_lite_weighs_big_bars_more() -> None:
    # a flat bar (share ½, no imbalance) with 9x the volume of the moving bars drags VPIN down
    close = col([100.0, 101.0] * 8 + [101.0, 100.0])
    valid = np.ones(close.shape, dtype=bool)
    volume = np.ones(close.shape, dtype=np.int64)
    volume[16] = 9
    vpin = vpin_lite(close, volume, valid, window=3, halflife=HUGE, warmup=2)[:, 0]
    # bars 15, 16 (flat), 17: imbalances 1·e, 0, 1·|2Φ(-z) − 1|, volume 1 + 9 + 1
    share = bvc_buy_share(close, HUGE, 2)[:, 0]
    assert share[16] == 0.5
    expected = (abs(2 * share[15] - 1) + abs(2 * share[17] - 1)) / 11
    assert vpin[17] == pytest.approx(expected)


def test_vpin_lite_skips_gaps() -> None:
    close = col([100.0, 101.0] * 10)
    valid = np.ones(close.shape, dtype=bool)
    valid[10] = False
    close[10] = np.nan
    vpin = vpin_lite(close, np.ones(close.shape), valid, window=4, halflife=HUGE, warmup=3)[:, 0]
    assert np.isnan(vpin[10]) and np.isnan(vpin[11])  # no bar; a return across the gap
    np.testing.assert_allclose(vpin[12:], 2 * ndtr(1.0) - 1)  # the rest is unaffected


def test_book_imbalance() -> None:
    bid = np.array([[30, 0, 5, 7]])
    ask = np.array([[10, 0, 5, 3]])
    valid = np.array([[True, True, True, False]])
    got = book_imbalance(bid, ask, valid)[0]
    np.testing.assert_allclose(got[[0, 2]], [0.5, 0.0])
    assert np.isnan(got[1]) and np.isnan(got[3])  # no size; no bar


def test_staleness_counts_bars_since_the_quote_changed() -> None:
    bid = col([0, 100, 100, 101, 101, 101, 101, 101, 100]).astype(np.int64)
    ask = bid + 2
    ask[4] = 104  # the ask alone moves: a change
    size = np.full(bid.shape, 10, dtype=np.int64)
    valid = np.ones(bid.shape, dtype=bool)
    valid[0] = False  # no bar, no quote yet
    valid[6] = False  # a gap keeps the age growing
    stale = quote_staleness(bid, ask, size, size, valid)[:, 0]
    np.testing.assert_array_equal(stale, [-1, 0, 1, 0, 0, 0, 1, 2, 0])
    size2 = size.copy()
    size2[2] = 11  # a size change is a change
    assert quote_staleness(bid, ask, size2, size, valid)[2, 0] == 0
    assert stale.dtype == np.int64


def test_invalid_quotes_and_spread_bps() -> None:
    bid = np.array([[99, 0, 100, 101, 99]])
    ask = np.array([[101, 101, 100, 100, 101]])
    valid = np.array([[True, True, True, True, False]])
    np.testing.assert_array_equal(
        quote_invalid(bid, ask, valid)[0], [False, True, True, True, False]
    )
    s = spread_bps(bid, ask, valid)[0]
    assert s[0] == pytest.approx(200.0)  # 2 ticks on a mid of 100
    assert np.isnan(s[1:]).all()


def test_spread_zscore_uses_earlier_bars_only() -> None:
    spread = col([1.0, 3.0] * 10 + [7.0, np.nan, 2.0])
    z = spread_zscore(spread, halflife=HUGE, warmup=5, floor_bps=0.01)[:, 0]
    assert np.isnan(z[:5]).all()
    assert z[20] == pytest.approx(5.0)  # mean 2, std 1 of the 20 earlier spreads
    assert np.isnan(z[21])
    assert z[22] == pytest.approx((2.0 - 47 / 21) / np.sqrt(np.var([1.0, 3.0] * 10 + [7.0])))


def test_spread_zscore_floor_keeps_a_constant_spread_finite() -> None:
    spread = col([10.0] * 30 + [20.0])
    z = spread_zscore(spread, halflife=20.0, warmup=10, floor_bps=0.5)[:, 0]
    np.testing.assert_allclose(z[10:30], 0.0)
    assert z[30] == pytest.approx(20.0)  # (20 − 10) / max(0, 0.5)


def test_table_without_quotes_has_vpin_only() -> None:
    market = generate(SynthSpec(n_steps=120, n_instruments=2, seed=1))
    table = microstructure_table(market, MicrostructureConfig(vpin_window=10, warmup=5))
    assert table.vpin.shape == (120, 2) and not table.has_quotes
    assert table.imbalance is None and table.spread_z is None and table.stale_bars is None
    assert set(table.row(50)) == {"vpin"}
    assert ((table.vpin[20:] >= 0) & (table.vpin[20:] <= 1)).all()
    with pytest.raises(ValueError):
        table.vpin[0, 0] = 1.0  # read-only: one table serves the whole run


def test_table_with_quotes_widens_with_a_planted_spread() -> None:
    market = generate(SynthSpec(n_steps=200, n_instruments=2, seed=2, quotes=True))
    q = market.quotes
    assert q is not None
    bid, ask = q.bid.copy(), q.ask.copy()
    bid[150, 1], ask[150, 1] = market.close[150, 1] - 100, market.close[150, 1] + 100
    shocked = dataclasses.replace(market, quotes=Quotes(bid, ask, q.bid_size, q.ask_size))
    cfg = MicrostructureConfig(spread_shock_z=10.0)
    table = microstructure_table(shocked, cfg)
    assert set(table.row(150)) == {"vpin", "imbalance", "stale_bars", "quote_invalid", "spread_z"}
    assert table.spread_z[150, 1] > 50 and table.spread_z[150, 0] < 10
    assert table.spread_bps[150, 1] == pytest.approx(200 / market.close[150, 1] * 1e4, rel=1e-3)
    assert table.stale_bars.max() == 0  # synthetic quotes move every bar
    assert not table.quote_invalid.any()
    np.testing.assert_allclose(
        table.imbalance, (q.bid_size - q.ask_size) / (q.bid_size + q.ask_size)
    )

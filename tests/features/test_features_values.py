"""Each feature family against values worked out by hand on a seven-bar series."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from scarline.features import FeatureConfig, raw_features
from scarline.market.frame import MarketData

MakeMarket = Callable[..., MarketData]
UP = [100.0, 101.0, 99.0, 102.0, 104.0, 103.0, 105.0]
FLAT = [50.0] * 7
CFG = FeatureConfig(
    return_windows=[1, 3],
    vol_windows=[2, 3],
    momentum_windows=[3],
    rsi_windows=[2],
    normalize="none",
    clip=1e9,
)
NAMES = ["ret_1", "ret_3", "vol_2", "vol_3", "mom_3", "rsi_2"]


@pytest.fixture
def raw(tiny_market: MakeMarket) -> dict[str, np.ndarray]:
    values = raw_features(tiny_market([list(p) for p in zip(UP, FLAT, strict=True)]), CFG)
    return {name: values[:, :, j] for j, name in enumerate(NAMES)}


def _defined_from(column: np.ndarray, first: int) -> None:
    assert np.isnan(column[:first]).all()
    assert not np.isnan(column[first:]).any()


def test_returns(raw: dict[str, np.ndarray]) -> None:
    _defined_from(raw["ret_1"][:, 0], 1)
    _defined_from(raw["ret_3"][:, 0], 3)
    assert raw["ret_1"][1, 0] == pytest.approx(math.log(101 / 100), rel=1e-12)
    assert raw["ret_1"][2, 0] == pytest.approx(math.log(99 / 101), rel=1e-12)
    assert raw["ret_3"][3, 0] == pytest.approx(math.log(102 / 100), rel=1e-12)
    assert raw["ret_3"][6, 0] == pytest.approx(math.log(105 / 102), rel=1e-12)


def test_volatility(raw: dict[str, np.ndarray]) -> None:
    r = np.diff(np.log(UP))  # r[i] is the return into bar i + 1
    _defined_from(raw["vol_2"][:, 0], 2)
    _defined_from(raw["vol_3"][:, 0], 3)
    # Two points: the population std is half their distance.
    assert raw["vol_2"][2, 0] == pytest.approx(abs(r[1] - r[0]) / 2, rel=1e-12)
    three = r[3:6]  # returns into bars 4, 5, 6
    expected = math.sqrt(sum((x - three.mean()) ** 2 for x in three) / 3)
    assert raw["vol_3"][6, 0] == pytest.approx(expected, rel=1e-12)


def test_momentum(raw: dict[str, np.ndarray]) -> None:
    _defined_from(raw["mom_3"][:, 0], 2)
    assert raw["mom_3"][2, 0] == pytest.approx(99 / 100 - 1, rel=1e-12)
    assert raw["mom_3"][3, 0] == pytest.approx(102 / ((101 + 99 + 102) / 3) - 1, rel=1e-12)
    assert raw["mom_3"][6, 0] == pytest.approx(105 / ((104 + 103 + 105) / 3) - 1, rel=1e-12)


def test_rsi_is_wilder_rescaled(raw: dict[str, np.ndarray]) -> None:
    rsi = raw["rsi_2"][:, 0]
    _defined_from(rsi, 2)  # two price changes seen by bar 2
    # Changes 1, -2, 3 into bar 3; Wilder weight 1/2 → G ∝ 3 + 0.25·1, L ∝ 0.5·2.
    assert rsi[3] == pytest.approx((3.25 - 1.0) / (3.25 + 1.0), rel=1e-12)
    # Classic RSI = 100 - 100 / (1 + G/L) with Wilder's recursion avg = avg + (x - avg) / k.
    gain = loss = 0.0
    for t in range(1, 7):
        d = UP[t] - UP[t - 1]
        gain += (max(d, 0.0) - gain) / 2
        loss += (max(-d, 0.0) - loss) / 2
        if t >= 2:
            classic = 100 - 100 / (1 + gain / loss)
            assert rsi[t] == pytest.approx((classic - 50) / 50, rel=1e-12)
    assert (np.abs(rsi[2:]) <= 1).all()


def test_flat_prices_give_zero_everywhere_defined(raw: dict[str, np.ndarray]) -> None:
    for name in NAMES:
        column = raw[name][:, 1]
        assert (column[~np.isnan(column)] == 0).all(), name
        assert np.array_equal(np.isnan(column), np.isnan(raw[name][:, 0])), name


def test_rsi_extremes(tiny_market: MakeMarket) -> None:
    closes = [[100.0 + t, 100.0 - t] for t in range(10)]
    cfg = FeatureConfig(
        return_windows=[], vol_windows=[], momentum_windows=[], rsi_windows=[3], normalize="none"
    )
    rsi = raw_features(tiny_market(closes), cfg)[3:, :, 0]
    assert (rsi[:, 0] == 1.0).all() and (rsi[:, 1] == -1.0).all()

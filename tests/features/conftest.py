"""Markets built by hand for the feature tests: tiny exact series and gapped synthetic ones."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import pytest

from scarline.instrument import InstrumentSpec
from scarline.market.frame import NS_PER_DAY, MarketData


def _tiny(
    closes: list[list[float]],
    valid: np.ndarray | None = None,
    exog: np.ndarray | None = None,
    exog_names: tuple[str, ...] = (),
) -> MarketData:
    prices = np.asarray(closes, dtype=np.float64)
    t, m = prices.shape
    ok = np.ones((t, m), dtype=bool) if valid is None else valid
    ticks = np.where(ok, np.rint(prices * 100), 0).astype(np.int64)
    return MarketData(
        name="tiny",
        source="test",
        frequency="1d",
        timestamps=np.arange(t, dtype=np.int64) * NS_PER_DAY,
        instruments=tuple(InstrumentSpec(symbol=f"X{i}") for i in range(m)),
        open=ticks,
        high=ticks,
        low=ticks,
        close=ticks,
        volume=np.ones((t, m), dtype=np.int64),
        valid=ok,
        exog=np.zeros((t, m, 0)) if exog is None else exog,
        exog_names=exog_names,
    )


def _with_gaps(market: MarketData, cells: list[tuple[int, int]]) -> MarketData:
    valid = market.valid.copy()
    for t, i in cells:
        valid[t, i] = False
    return dataclasses.replace(market, valid=valid, close=np.where(valid, market.close, 0))


@pytest.fixture
def tiny_market() -> Callable[..., MarketData]:
    """``tiny_market([[c00, c01], [c10, c11], ...])``: closes in currency units, tick 0.01."""
    return _tiny


@pytest.fixture
def with_gaps() -> Callable[[MarketData, list[tuple[int, int]]], MarketData]:
    """``with_gaps(market, [(t, i), ...])``: the same market without those bars."""
    return _with_gaps

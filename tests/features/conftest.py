"""Markets built by hand for the feature tests: tiny exact series and gapped synthetic ones."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import pytest
from market_helpers import tiny_market_of

from scarline.market.frame import MarketData


def _with_gaps(market: MarketData, cells: list[tuple[int, int]]) -> MarketData:
    valid = market.valid.copy()
    for t, i in cells:
        valid[t, i] = False
    return dataclasses.replace(market, valid=valid, close=np.where(valid, market.close, 0))


@pytest.fixture
def tiny_market() -> Callable[..., MarketData]:
    """``tiny_market([[c00, c01], [c10, c11], ...])``: closes in currency units, tick 0.01."""
    return tiny_market_of


@pytest.fixture
def with_gaps() -> Callable[[MarketData, list[tuple[int, int]]], MarketData]:
    """``with_gaps(market, [(t, i), ...])``: the same market without those bars."""
    return _with_gaps

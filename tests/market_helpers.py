"""Markets built by hand for tests: tiny exact series (closes in currency units, tick 0.01)."""

from __future__ import annotations

import numpy as np

from scarline.instrument import InstrumentSpec
from scarline.market.frame import NS_PER_DAY, MarketData


def tiny_market_of(
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

"""When an exogenous column becomes known: ``[data] exog_available_after = { COLUMN = BARS }``.

A column stamped at bar t is, by default, known at that bar's close. Many are not: a figure
published a day late, a label computed from the next bar. Declaring ``BARS`` makes the
market the kernel sees hold, at row t, the value stamped at row t − BARS (missing before
that, like any missing exogenous cell). The shift happens once, where the run's market is
loaded, so the WAL's bars, replay and the gates all see the same as-of values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np

from scarline.errors import ConfigError
from scarline.market.frame import MarketData

KEY = "data.exog_available_after"


def check_availability(market: MarketData, lags: Mapping[str, int]) -> None:
    """Every named column exists and every lag is a number of bars the market can shift by;
    a :class:`ConfigError` naming the key otherwise (with the columns there are)."""
    names = list(market.exog_names)
    for name, lag in lags.items():
        if name not in names:
            have = ", ".join(names) if names else "none"
            raise ConfigError(
                f"{KEY}.{name}: no exogenous column {name!r} in {market.name!r} "
                f"(exogenous columns: {have})"
            )
        if not 0 <= lag < market.n_steps:
            raise ConfigError(
                f"{KEY}.{name}: {lag} bars must be >= 0 and below the market's "
                f"{market.n_steps} rows (the column would never be seen)"
            )


def available_after(market: MarketData, lags: Mapping[str, int]) -> MarketData:
    """``market`` with each named exogenous column delayed by its lag in rows of the
    market's time index: row t holds the value stamped at row t − lag, NaN for t < lag."""
    check_availability(market, lags)
    shifted = {market.exog_names.index(n): lag for n, lag in lags.items() if lag > 0}
    if not shifted:
        return market
    exog = market.exog.copy()
    for k, lag in sorted(shifted.items()):
        exog[lag:, :, k] = market.exog[:-lag, :, k]
        exog[:lag, :, k] = np.nan
    return replace(market, exog=exog)

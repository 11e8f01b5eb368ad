"""The kernel's regime stage: the macro regime and each instrument's profile at every bar.

Both are causal functions of the bars (the HMM refits only on earlier data and filters
forward; the router's buckets use bars up to t), so they are computed once when the kernel
is built and read row by row — the same values a bar-by-bar computation would give (tests
prove the causality of each), at no per-step cost, and identical in a replay.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import Field

from scarline.market.frame import MarketData
from scarline.regime.causal import RegimePath, regime_path
from scarline.regime.config import RegimeConfig
from scarline.regime.machine import Transition, transitions
from scarline.regime.router import ProfileTable, RouterConfig, apply_band, buckets, route
from scarline.strict import Strict


class RegimeSettings(Strict):
    """``[regime]`` of a run: the HMM (``[regime.hmm]``) and the router (``[regime.router]``)."""

    hmm: RegimeConfig = Field(
        default_factory=RegimeConfig, description="the causal HMM: calm / trend / chaos per bar"
    )
    router: RouterConfig = Field(
        default_factory=RouterConfig,
        description="volatility x trend x liquidity buckets to trading profiles",
    )


@dataclass(frozen=True)
class MarketRegimes:
    """Precomputed per-bar regime state; ``None`` parts are switched off."""

    path: RegimePath | None
    changes: dict[int, Transition]  # step → committed transition at that step
    profile: np.ndarray | None  # int8[T, M] profile index
    table: ProfileTable | None
    settings: RegimeSettings | None = None  # what built them, when anything is on

    def extend(self, market: MarketData) -> MarketRegimes:
        """The regimes of a market grown by rows (or continued differently from a row on):
        causal, so the rows already stepped keep their values."""
        return self if self.settings is None else market_regimes(market, self.settings)

    def regime(self, t: int) -> int:
        """The committed macro regime at ``t`` (-1 when the HMM is off)."""
        return -1 if self.path is None else int(self.path.labels[t])

    def shape(self, t: int, exposure: np.ndarray) -> np.ndarray:
        """``exposure`` ``[N, M]`` inside each instrument's sizing band at ``t``."""
        if self.profile is None or self.table is None:
            return exposure
        p = self.profile[t]
        return apply_band(exposure, self.table.band_low[p], self.table.band_high[p])

    def entries(self, t: int) -> tuple[np.ndarray, np.ndarray] | None:
        """``(maker bool[M], aggressiveness_bps float64[M])`` at ``t``; None without router."""
        if self.profile is None or self.table is None:
            return None
        p = self.profile[t]
        return self.table.maker[p], self.table.aggressiveness_bps[p]


def market_regimes(market: MarketData, settings: RegimeSettings) -> MarketRegimes:
    path, changes = None, {}
    if settings.hmm.enabled:
        path = regime_path(market, settings.hmm)
        changes = {tr.step: tr for tr in transitions(path.labels, path.confidence)}
    profile = table = None
    if settings.router.enabled:
        labels = None if path is None else path.labels
        profile = route(buckets(market, settings.router), settings.router, labels)
        table = ProfileTable.of(settings.router)
    on = settings.hmm.enabled or settings.router.enabled
    return MarketRegimes(path, changes, profile, table, settings if on else None)

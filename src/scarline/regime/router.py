"""The bucket router: volatility × trend × liquidity buckets of each instrument → a profile.

A profile is how the market lets agents trade right now, whatever they want: a *sizing
band* (exposures below its low edge are dropped as noise, above its high edge are clipped),
the *maximum aggressiveness* of an opening order (how far past the last close a taker may
pay, in bps; None = plain market orders) and *maker vs taker* (makers open with a limit at
the last close and wait in the book). Reducing orders are never touched: risk can always
get out.

Buckets, per bar and instrument, from data up to that bar only:

* volatility ``high`` when the ``vol_window``-bar realized vol exceeds ``vol_ratio`` × its own
  expanding mean over the *earlier* bars, else ``low``;
* trend ``up``/``down`` when the ``trend_window``-bar log return is beyond ``trend_t`` of its
  own noise (realized vol × sqrt(window)), else ``flat``;
* liquidity ``thin`` when the ``liquidity_window``-bar mean volume is below
  ``thin_ratio`` × its expanding mean over the earlier bars, else ``normal``.

The first rule whose buckets all match picks the profile; the last rule must match anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from scarline.features.price import log_prices, log_return
from scarline.features.window import window_mean, window_std
from scarline.market.frame import MarketData
from scarline.regime.hmm import REGIME_NAMES
from scarline.strict import Strict

VOL = ("low", "high")
TREND = ("down", "flat", "up")
LIQUIDITY = ("thin", "normal")


class Profile(Strict):
    """How the market lets agents trade in a bucket: sizing band, aggressiveness, entry."""

    sizing_band: list[float] = Field(
        default_factory=lambda: [0.0, 1.0],
        min_length=2,
        max_length=2,
        description="|exposure| below the low edge → 0, above the high edge → high",
    )
    max_aggressiveness_bps: float | None = Field(
        None, ge=0.0, description="taker entries: a limit at most this far past the last close"
    )
    entry: Literal["taker", "maker"] = Field(
        default="taker", description="maker: opening orders are limits at the last close"
    )

    @model_validator(mode="after")
    def _band(self) -> Profile:
        lo, hi = self.sizing_band
        if not 0.0 <= lo <= hi:
            raise ValueError(f"sizing_band must be 0 <= low <= high, got {self.sizing_band}")
        return self


class RouteRule(Strict):
    """Buckets a bar must be in for ``profile``; ``regime`` is the HMM's committed macro
    regime (a rule naming one never matches while ``[regime.hmm]`` is off)."""

    regime: Literal["calm", "trend", "chaos", "any"] = Field(
        default="any", description="the HMM's committed regime"
    )
    vol: Literal["low", "high", "any"] = Field(default="any", description="volatility bucket")
    trend: Literal["down", "flat", "up", "any"] = Field(default="any", description="trend bucket")
    liquidity: Literal["thin", "normal", "any"] = Field(
        default="any", description="liquidity bucket"
    )
    profile: str = Field(description="the profile (a key of profiles) this rule picks")

    @property
    def catch_all(self) -> bool:
        return self.regime == self.vol == self.trend == self.liquidity == "any"


def _default_profiles() -> dict[str, Profile]:
    return {
        "normal": Profile(),
        "trend": Profile(sizing_band=[0.0, 1.0]),
        "cautious": Profile(sizing_band=[0.1, 0.5], max_aggressiveness_bps=10.0),
        "defensive": Profile(sizing_band=[0.2, 0.25], entry="maker"),
    }


def _default_rules() -> list[RouteRule]:
    return [
        RouteRule(regime="chaos", profile="defensive"),
        RouteRule(vol="high", liquidity="thin", profile="defensive"),
        RouteRule(vol="high", profile="cautious"),
        RouteRule(trend="up", profile="trend"),
        RouteRule(trend="down", profile="trend"),
        RouteRule(profile="normal"),
    ]


class RouterConfig(Strict):
    """``[regime.router]``: off by default; the defaults below are a sensible start."""

    enabled: bool = Field(default=False, description="route each instrument's bars to profiles")
    vol_window: int = Field(20, ge=2, description="bars of the realized volatility")
    vol_ratio: float = Field(1.25, gt=0, description="high: vol above this x its earlier mean")
    trend_window: int = Field(20, ge=2, description="bars of the trend's log return")
    trend_t: float = Field(1.0, gt=0, description="up/down: the move beyond this x its noise")
    liquidity_window: int = Field(20, ge=1, description="bars of the mean volume")
    thin_ratio: float = Field(0.5, gt=0, description="thin: volume below this x its earlier mean")
    profiles: dict[str, Profile] = Field(
        default_factory=_default_profiles, description="how the market lets agents trade, by name"
    )
    rules: list[RouteRule] = Field(
        default_factory=_default_rules,
        description="the first rule that matches a bar picks its profile; the last matches any",
    )

    @model_validator(mode="after")
    def _rules(self) -> RouterConfig:
        if not self.rules or not self.rules[-1].catch_all:
            raise ValueError(
                "rules: the last rule must match anything (vol, trend, liquidity 'any')"
            )
        if len(self.profiles) > 127:
            raise ValueError("profiles: at most 127")
        for k, rule in enumerate(self.rules):
            if rule.profile not in self.profiles:
                raise ValueError(
                    f"rules[{k}].profile: {rule.profile!r} is not one of {sorted(self.profiles)}"
                )
        return self


@dataclass(frozen=True)
class Buckets:
    """Bucket codes ``int8[T, M]`` (indices into VOL, TREND, LIQUIDITY)."""

    vol: np.ndarray
    trend: np.ndarray
    liquidity: np.ndarray


def _earlier_mean(x: np.ndarray) -> np.ndarray:
    """Mean of each column over the rows strictly before t (NaN-skipping; NaN before any)."""
    ok = np.isfinite(x)
    total = np.cumsum(np.where(ok, x, 0.0), axis=0)
    count = np.cumsum(ok, axis=0)
    prior_total = np.vstack([np.zeros((1, x.shape[1])), total[:-1]])
    prior_count = np.vstack([np.zeros((1, x.shape[1])), count[:-1]])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(prior_count > 0, prior_total / np.maximum(prior_count, 1), np.nan)


def buckets(market: MarketData, cfg: RouterConfig) -> Buckets:
    """Each bar's buckets, causal: row t uses bars up to t only (NaN comparisons → the calm
    side: low vol, flat, normal liquidity)."""
    close = np.where(market.valid, market.prices("close"), np.nan)
    lp = log_prices(close)
    vol = window_std(log_return(lp, 1), cfg.vol_window)
    with np.errstate(invalid="ignore"):
        high = vol > cfg.vol_ratio * _earlier_mean(vol)
        move = log_return(lp, cfg.trend_window)
        noise = window_std(log_return(lp, 1), cfg.trend_window) * np.sqrt(cfg.trend_window)
        t_stat = move / np.where(noise > 0, noise, np.nan)
        volume = np.where(market.valid, market.volume, np.nan).astype(np.float64)
        level = window_mean(volume, cfg.liquidity_window)
        thin = level < cfg.thin_ratio * _earlier_mean(level)
    trend = np.ones(close.shape, dtype=np.int8)
    trend[t_stat > cfg.trend_t] = 2
    trend[t_stat < -cfg.trend_t] = 0
    return Buckets(high.astype(np.int8), trend, (~thin).astype(np.int8))


def route(b: Buckets, cfg: RouterConfig, regime: np.ndarray | None = None) -> np.ndarray:
    """Profile index ``int8[T, M]`` (into ``list(cfg.profiles)``): the first matching rule.

    ``regime`` ``int64[T]`` is the committed macro regime of each bar (None: HMM off), so a
    regime flip at bar t switches the profile at bar t."""
    names = list(cfg.profiles)
    out = np.full(b.vol.shape, -1, dtype=np.int8)
    macro = np.full(b.vol.shape[0], -1) if regime is None else regime
    for rule in cfg.rules:  # a handful of rules, each vectorized over [T, M]
        hit = out < 0
        if rule.regime != "any":
            hit &= (macro == REGIME_NAMES.index(rule.regime))[:, None]
        if rule.vol != "any":
            hit &= b.vol == VOL.index(rule.vol)
        if rule.trend != "any":
            hit &= b.trend == TREND.index(rule.trend)
        if rule.liquidity != "any":
            hit &= b.liquidity == LIQUIDITY.index(rule.liquidity)
        out[hit] = names.index(rule.profile)
    return out


@dataclass(frozen=True)
class ProfileTable:
    """The profiles as arrays indexed by profile code (the kernel's hot path reads these)."""

    names: tuple[str, ...]
    band_low: np.ndarray  # float64[P]
    band_high: np.ndarray  # float64[P]
    maker: np.ndarray  # bool[P]
    aggressiveness_bps: np.ndarray  # float64[P], NaN = plain market orders

    @classmethod
    def of(cls, cfg: RouterConfig) -> ProfileTable:
        ps = list(cfg.profiles.values())
        return cls(
            tuple(cfg.profiles),
            np.array([p.sizing_band[0] for p in ps]),
            np.array([p.sizing_band[1] for p in ps]),
            np.array([p.entry == "maker" for p in ps]),
            np.array(
                [
                    np.nan if p.max_aggressiveness_bps is None else p.max_aggressiveness_bps
                    for p in ps
                ]
            ),
        )


def apply_band(exposure: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """``exposure`` ``[N, M]`` inside each instrument's sizing band ``low/high`` ``[M]``
    (floating point: rule baselines decide in int8 states, and a band makes fractions)."""
    mag = np.abs(exposure)
    banded = np.sign(exposure) * np.minimum(mag, high)
    dtype = np.result_type(exposure.dtype, np.float32)
    return np.where(mag < low, 0.0, banded).astype(dtype, copy=False)

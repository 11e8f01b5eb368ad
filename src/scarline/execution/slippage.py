"""Slippage models: the execution price of a market order, worse than the reference price.

``FixedPlusVolatility`` moves the price by a fraction
``fixed_bps / 1e4 + vol_coef * sigma * sqrt(qty / bar_volume)``: a constant half-spread plus
a square-root market-impact term that grows with volatility and with the share of the bar
the fill takes. Prices are whole ticks, rounded against the trader (ceil for buys, floor for
sells); a zero slip leaves the price exactly equal to the reference (no float round trip).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from scarline.execution.config import SlippageConfig
from scarline.execution.slippage_compiled import fixed_plus_volatility_price, warm_up


class SlippageModel(Protocol):
    def price(
        self,
        ref: np.ndarray,
        side: np.ndarray,
        qty: np.ndarray,
        volume: np.ndarray,
        sigma: np.ndarray,
    ) -> np.ndarray:
        """``int64[F]`` execution prices in ticks for fills of ``qty`` lots at ``ref`` ticks.

        For buys it must be non-decreasing in ``qty`` (the cash cap bisects on cost).
        """
        ...


def slippage_cost(
    price: np.ndarray, ref: np.ndarray, qty: np.ndarray, unit_value: np.ndarray
) -> np.ndarray:
    """``int64[F]`` cash units lost to slippage: ``|price - ref| * qty * unit_value``."""
    return np.abs(price - ref) * qty * unit_value


class FixedPlusVolatility:
    """Fixed basis points plus ``vol_coef * sigma * sqrt(qty / volume)`` (0 when volume is 0)."""

    def __init__(self, fixed_bps: float, vol_coef: float) -> None:
        if fixed_bps < 0 or vol_coef < 0:
            raise ValueError("slippage fixed_bps and vol_coef must be >= 0")
        self.fixed = float(fixed_bps) / 1e4
        self.vol_coef = float(vol_coef)
        warm_up()

    def slip(self, qty: np.ndarray, volume: np.ndarray, sigma: np.ndarray) -> np.ndarray:
        """``float64[F]`` slip fraction; a missing (NaN) volatility counts as 0."""
        slip = np.full(qty.shape, self.fixed)
        if self.vol_coef:
            safe_vol = np.maximum(volume, 1)
            size = np.where(volume > 0, np.sqrt(qty / safe_vol), 0.0)
            slip += self.vol_coef * np.nan_to_num(sigma, nan=0.0) * size
        return slip

    def price(
        self,
        ref: np.ndarray,
        side: np.ndarray,
        qty: np.ndarray,
        volume: np.ndarray,
        sigma: np.ndarray,
    ) -> np.ndarray:
        """Compiled (:mod:`scarline.execution.slippage_compiled`); :meth:`_price_numpy`
        is the reference it equals."""
        ref = np.asarray(ref, dtype=np.int64)
        out = np.empty(ref.shape, dtype=np.int64)
        fixed_plus_volatility_price(
            ref, side, qty, volume, np.asarray(sigma, dtype=np.float64), self.fixed,
            self.vol_coef, out,
        )  # fmt: skip
        return out

    def _price_numpy(
        self,
        ref: np.ndarray,
        side: np.ndarray,
        qty: np.ndarray,
        volume: np.ndarray,
        sigma: np.ndarray,
    ) -> np.ndarray:
        if self.fixed == 0 and self.vol_coef == 0:
            return np.asarray(ref, dtype=np.int64).copy()
        slip = self.slip(qty, volume, sigma)
        buy = np.ceil(ref * (1.0 + slip))
        sell = np.maximum(np.floor(ref * (1.0 - slip)), 0.0)
        moved = np.where(side > 0, buy, sell).astype(np.int64)
        return np.where(slip == 0, ref, moved)


def build_slippage_model(cfg: SlippageConfig) -> SlippageModel:
    if cfg.kind == "fixed-plus-volatility":
        return FixedPlusVolatility(cfg.fixed_bps, cfg.vol_coef)
    raise ValueError(f"unknown slippage model kind {cfg.kind!r}")

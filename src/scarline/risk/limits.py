"""The risk config turned into the integer limits the vectorized rules compare against.

Rules work in the kernel's units (lots, ticks, int64 cash units), so money limits are
converted once, here, instead of per check; a disabled rule is ``None`` and costs nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

import numpy as np

from scarline.execution.types import CASH_SCALE
from scarline.instrument import InstrumentSpec
from scarline.risk.config import MicrostructureConfig, RiskConfig

_INT_CAP = 2**62  # money limits beyond this are "no limit" and keep products in int64


def to_cash_units(amount: float | None) -> int | None:
    """Currency → int cash units (rounded, clamped to ±2**62); ``None`` stays ``None``."""
    if amount is None:
        return None
    value = round(amount * CASH_SCALE)
    return int(max(-_INT_CAP, min(_INT_CAP, value)))


def _clamped(lots: int | None) -> int | None:
    """A lot limit at most 2**62 (beyond, it is "no limit"; no order comes near it): the
    position cap ``limit - side * exposure`` of an order that flips a short stays in int64.
    ``max_position_lots = 2**63 - 1`` made it wrap below zero and refused every flip."""
    return None if lots is None else min(lots, _INT_CAP)


@dataclass(frozen=True, eq=False)
class VenueMinimums:
    """The venue's smallest order per instrument: ``qty`` in lots and ``notional`` in cash
    units (``int64[M]``, 0 where the venue names none)."""

    qty: np.ndarray
    notional: np.ndarray

    @staticmethod
    def of(instruments: Sequence[InstrumentSpec]) -> VenueMinimums | None:
        """From the instruments' ``min_qty``/``min_notional`` (None when no one has any)."""
        qty = [_units(i.min_qty, i.lot, ROUND_CEILING) for i in instruments]
        cash_unit = Decimal(1) / CASH_SCALE
        notional = [_units(i.min_notional, cash_unit, ROUND_CEILING) for i in instruments]
        if not any(qty) and not any(notional):
            return None
        return VenueMinimums(np.array(qty, np.int64), np.array(notional, np.int64))


def _units(text: str | None, unit: Decimal, rounding: str) -> int:
    """``text`` in whole ``unit`` (rounded up: a minimum is never undercut), 0 for None."""
    if text is None:
        return 0
    return int((Decimal(text) / unit).to_integral_value(rounding=rounding))


@dataclass(frozen=True, eq=False)
class Limits:
    """Everything :func:`scarline.risk.check.evaluate` needs from the config, pre-converted."""

    unit_values: np.ndarray  # int64[M] cash units per lot per tick
    max_position: int | None
    max_notional: int | None  # cash units
    max_gross: int | None  # cash units
    min_cash: int | None  # cash units
    max_orders: int | None
    price_band_pct: float | None
    max_quote_age_ns: int | None
    max_spread_bps: float | None
    max_drawdown_pct: float | None
    throttle_scale: float
    micro: MicrostructureConfig | None = None  # None: every microstructure filter is off
    venue_min: VenueMinimums | None = None  # None: no instrument has a venue minimum

    @staticmethod
    def of(
        cfg: RiskConfig, unit_values: np.ndarray, venue_min: VenueMinimums | None = None
    ) -> Limits:
        uv = np.asarray(unit_values, dtype=np.int64).copy()
        if uv.ndim != 1 or (uv <= 0).any():
            raise ValueError("unit_values must be a 1-d array of positive cash units per tick")
        return Limits(
            unit_values=uv,
            max_position=_clamped(cfg.max_position_lots),
            max_notional=to_cash_units(cfg.max_notional),
            max_gross=to_cash_units(cfg.max_gross_notional),
            min_cash=to_cash_units(cfg.min_cash),
            max_orders=cfg.max_orders_per_window,
            price_band_pct=cfg.price_band_pct,
            max_quote_age_ns=cfg.max_quote_age_ns,
            max_spread_bps=cfg.max_spread_bps,
            max_drawdown_pct=cfg.max_drawdown_pct,
            throttle_scale=cfg.ladder.throttle_scale,
            micro=cfg.microstructure if cfg.microstructure.enabled else None,
            venue_min=venue_min,
        )

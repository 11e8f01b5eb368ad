"""The risk config turned into the integer limits the vectorized rules compare against.

Rules work in the kernel's units (lots, ticks, int64 cash units), so money limits are
converted once, here, instead of per check; a disabled rule is ``None`` and costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scarline.execution.types import CASH_SCALE
from scarline.risk.config import MicrostructureConfig, RiskConfig

_INT_CAP = 2**62  # money limits beyond this are "no limit" and keep products in int64


def to_cash_units(amount: float | None) -> int | None:
    """Currency → int cash units (rounded, clamped to ±2**62); ``None`` stays ``None``."""
    if amount is None:
        return None
    value = round(amount * CASH_SCALE)
    return int(max(-_INT_CAP, min(_INT_CAP, value)))


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

    @staticmethod
    def of(cfg: RiskConfig, unit_values: np.ndarray) -> Limits:
        uv = np.asarray(unit_values, dtype=np.int64).copy()
        if uv.ndim != 1 or (uv <= 0).any():
            raise ValueError("unit_values must be a 1-d array of positive cash units per tick")
        return Limits(
            unit_values=uv,
            max_position=cfg.max_position_lots,
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
        )

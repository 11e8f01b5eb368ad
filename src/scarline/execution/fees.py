"""Fee models: cash units charged per fill, a pure function of the fill's notional.

Why per fill and in cash units: accounting is exact int64, so the fee must be an integer
before it reaches a ledger, and rounding it once per fill is what a venue does.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from scarline.execution.config import FeeConfig
from scarline.execution.types import CASH_SCALE


class FeeModel(Protocol):
    def fee(self, notional: np.ndarray) -> np.ndarray:
        """``int64[F]`` fee in cash units for fills of ``notional`` cash units (``int64[F]``).

        Must be non-decreasing in notional (the cash cap bisects on it) and 0 for notional 0.
        """
        ...


class BpsMinFee:
    """``max(minimum, rint(notional * bps / 1e4))`` per fill; no fill (notional 0), no fee."""

    def __init__(self, bps: float, minimum: float) -> None:
        if bps < 0 or minimum < 0:
            raise ValueError("fee bps and minimum must be >= 0")
        self.bps = float(bps)
        self.minimum_units = round(minimum * CASH_SCALE)

    def fee(self, notional: np.ndarray) -> np.ndarray:
        notional = np.asarray(notional, dtype=np.int64)
        if self.bps == 0 and self.minimum_units == 0:
            return np.zeros_like(notional)
        prop = np.rint(notional * self.bps / 1e4).astype(np.int64)
        return np.where(notional > 0, np.maximum(prop, self.minimum_units), 0)


def build_fee_model(cfg: FeeConfig) -> FeeModel:
    if cfg.kind == "bps-min":
        return BpsMinFee(cfg.bps, cfg.minimum)
    raise ValueError(f"unknown fee model kind {cfg.kind!r}")

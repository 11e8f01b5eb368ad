"""From desired exposure (in [-1, 1]) to target positions in lots, vectorized over agents.

Sizing happens at an *entry* (the exposure changes) and uses what is known at the
decision bar's close; while the exposure is unchanged the target stays what it was
(no daily rebalancing, no chasing a partly filled or refused order), like the textbook
long/flat backtest. :attr:`Sizer.changed` marks the cells whose target changed this step:
only those produce orders.
"""

from __future__ import annotations

import numpy as np

ALL_IN, FRACTION, FIXED = 0, 1, 2
MODES = {"all-in": ALL_IN, "fraction": FRACTION, "fixed": FIXED}


class Sizer:
    def __init__(
        self, mode: np.ndarray, fraction: np.ndarray, lots: np.ndarray, spread: np.ndarray
    ) -> None:
        """Per-agent arrays; ``spread`` is how many instruments an agent's ``fraction`` of
        equity is divided over (M for rule agents, 1 for an agent trading one instrument)."""
        self.spread = spread.astype(np.float64)  # [N]
        self.mode = mode.astype(np.int8)  # [N]
        self.fraction = fraction.astype(np.float64)  # [N]
        self.lots = lots.astype(np.int64)  # [N]
        self.target: np.ndarray | None = None
        self.changed: np.ndarray | None = None
        self._exposure: np.ndarray | None = None

    def targets(
        self,
        exposure: np.ndarray,
        cash: np.ndarray,
        equity: np.ndarray,
        close: np.ndarray,
        unit_values: np.ndarray,
        valid: np.ndarray,
    ) -> np.ndarray:
        """``int64[N, M]`` target lots; ``close`` in ticks, money in cash units."""
        n, m = exposure.shape
        if self.target is None:
            self.target = np.zeros((n, m), dtype=np.int64)
            self._exposure = np.zeros((n, m), dtype=exposure.dtype)
        changed = (exposure != self._exposure) & valid[None, :]
        self.changed = changed
        if not changed.any():
            return self.target
        entering = changed & (exposure != 0)
        lot_value = (close * unit_values).astype(np.float64)  # cash units per lot at close
        lot_value = np.where(lot_value > 0, lot_value, np.inf)
        n_entering = np.maximum(entering.sum(axis=1, keepdims=True), 1)
        budget = np.select(
            [self.mode[:, None] == ALL_IN, self.mode[:, None] == FRACTION],
            [
                cash[:, None] / n_entering,
                self.fraction[:, None] * equity[:, None] / self.spread[:, None],
            ],
            default=0.0,
        )
        magnitude = np.abs(exposure).astype(np.float64)
        size = np.where(
            self.mode[:, None] == FIXED,
            np.rint(self.lots[:, None] * magnitude),
            np.floor(np.maximum(budget, 0.0) * magnitude / lot_value[None, :]),
        ).astype(np.int64)
        new_target = np.where(entering, np.sign(exposure).astype(np.int64) * size, 0)
        self.target = np.where(changed, new_target, self.target)
        self._exposure = np.where(valid[None, :], exposure, self._exposure)
        return self.target

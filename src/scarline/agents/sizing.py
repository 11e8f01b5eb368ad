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
_NO_CELLS = (np.zeros(0, np.int64),) * 2  # (rows, instruments) of no cell


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
        self.changed: np.ndarray | None = None  # bool[N, M], the cells sized this step
        self.changed_cells: tuple[np.ndarray, np.ndarray] = _NO_CELLS
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
        """``int64[N, M]`` target lots; ``close`` in ticks, money in cash units.

        Only the changed cells are sized (at N = 4096 × M = 20 most cells never change); the
        target array is updated in place, so a caller keeping it across steps must copy it.
        """
        n, m = exposure.shape
        if self.target is None or self._exposure is None:
            self.target = np.zeros((n, m), dtype=np.int64)
            self._exposure = np.zeros((n, m), dtype=exposure.dtype)
        changed = exposure != self._exposure
        changed &= valid[None, :]
        self.changed = changed
        if not np.count_nonzero(changed):  # the usual step: nothing to size
            self.changed_cells = _NO_CELLS
            return self.target
        rows, cols = np.divmod(np.flatnonzero(changed), m)  # ~10x faster than 2-D nonzero
        self.changed_cells = rows, cols
        e = exposure[rows, cols]
        self._exposure[rows, cols] = e
        self.target[rows, cols] = self._size(rows, cols, e, cash, equity, close, unit_values, n)
        return self.target

    def _size(
        self,
        rows: np.ndarray,
        cols: np.ndarray,
        e: np.ndarray,
        cash: np.ndarray,
        equity: np.ndarray,
        close: np.ndarray,
        unit_values: np.ndarray,
        n: int,
    ) -> np.ndarray:
        """New targets of the changed cells ``(rows, cols)`` with exposures ``e``."""
        entering = e != 0
        lot_value = (close * unit_values).astype(np.float64)  # cash units per lot at close
        lot_value = np.where(lot_value > 0, lot_value, np.inf)[cols]
        n_entering = np.maximum(np.bincount(rows[entering], minlength=n), 1)[rows]
        mode = self.mode[rows]
        budget = np.where(
            mode == ALL_IN,
            cash[rows] / n_entering,
            np.where(mode == FRACTION, self.fraction[rows] * equity[rows] / self.spread[rows], 0.0),
        )
        magnitude = np.abs(e).astype(np.float64)
        size = np.where(
            mode == FIXED,
            np.rint(self.lots[rows] * magnitude),
            np.floor(np.maximum(budget, 0.0) * magnitude / lot_value),
        ).astype(np.int64)
        return np.where(entering, np.sign(e).astype(np.int64) * size, 0)

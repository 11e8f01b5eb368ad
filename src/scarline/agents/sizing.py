"""From desired exposure (in [-1, 1]) to target positions in lots, vectorized over agents.

Sizing happens at an *entry* (the exposure changes) and uses what is known at the
decision bar's close; while the exposure is unchanged the target stays what it was
(no daily rebalancing, no chasing a partly filled or refused order), like the textbook
long/flat backtest. :attr:`Sizer.changed` marks the cells whose target changed this step:
only those produce orders.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from scarline.execution.types import CASH_SCALE, MAX_MONEY

ALL_IN, FRACTION, FIXED = 0, 1, 2
MAX_NOTIONAL = float(MAX_MONEY * CASH_SCALE)
"""The most a target position may be worth at its decision close, in cash units: the largest
amount a config may name (10¹⁰ currency units). Accounts are int64 cash units (at most
~9.2 × 10¹⁸), so a fixed size of 10⁹ lots, or leverage 10 on 10¹⁰ of cash, would otherwise
wrap around silently; the cap leaves the accounts ~9× headroom for the price to rise."""
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
        self._entering = np.zeros(0, dtype=np.int64)  # per agent, the compiled pass's counts
        self._touched = np.zeros(0, dtype=np.int64)  # the rows it sizes this step
        self._cells = np.zeros(0, dtype=np.int64)  # the flat indices of the changed cells
        warm_up()

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
            self._entering = np.zeros(n, dtype=np.int64)
            self._touched = np.zeros(n, dtype=np.int64)
            self._cells = np.zeros(n * m, dtype=np.int64)
        if exposure.dtype != self._exposure.dtype or not exposure.flags.c_contiguous:
            return self._targets_numpy(exposure, cash, equity, close, unit_values, valid)
        changed = np.empty((n, m), dtype=bool)
        self.changed = changed
        hits = size_changed_cells(
            exposure, self._exposure, valid, self.mode, self.fraction, self.lots, self.spread,
            cash, equity, close, unit_values, self.target, changed, self._entering,
            self._touched, self._cells,
        )  # fmt: skip
        self.changed_cells = np.divmod(self._cells[:hits], m) if hits else _NO_CELLS
        return self.target

    def _targets_numpy(
        self,
        exposure: np.ndarray,
        cash: np.ndarray,
        equity: np.ndarray,
        close: np.ndarray,
        unit_values: np.ndarray,
        valid: np.ndarray,
    ) -> np.ndarray:
        """:meth:`targets` in numpy: the reference the compiled pass is tested against, and
        the path for exposures of another dtype than the first step's."""
        n, m = exposure.shape
        assert self.target is not None and self._exposure is not None
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
        )
        capped = np.minimum(size, np.floor(MAX_NOTIONAL / lot_value))
        size = np.where(np.isfinite(lot_value), capped, size).astype(np.int64)
        return np.where(entering, np.sign(e).astype(np.int64) * size, 0)


@njit(cache=True)
def size_changed_cells(
    exposure: np.ndarray, prev: np.ndarray, valid: np.ndarray, mode: np.ndarray,
    fraction: np.ndarray, lots: np.ndarray, spread: np.ndarray, cash: np.ndarray,
    equity: np.ndarray, close: np.ndarray, unit_values: np.ndarray, target: np.ndarray,
    changed: np.ndarray, entering: np.ndarray, touched: np.ndarray, cells: np.ndarray,
) -> int:  # fmt: skip
    """:meth:`Sizer.targets` in two passes (which cells changed and how many entries each
    agent splits its cash over; then each changed cell's target, over the rows that have
    one, listed in ``touched``), in place; the changed cells' flat indices, in order, into
    ``cells``. Every float is the numpy formula's operation on the same operands (int64 →
    float64, one IEEE step at a time), so the targets are the same integers
    (``tests/agents/test_sizing.py``). Returns how many cells changed."""
    n, m = exposure.shape
    hits = 0
    n_touched = 0
    for i in range(n):
        row_hits = 0
        row_entering = 0
        for j in range(m):  # without branches: the compiler vectorizes the row
            e = exposure[i, j]
            c = valid[j] & (e != prev[i, j])
            changed[i, j] = c
            row_hits += c
            row_entering += c & (e != 0)
        entering[i] = row_entering
        if row_hits:
            touched[n_touched] = i
            n_touched += 1
            hits += row_hits
    k = 0
    for r in range(n_touched):
        i = touched[r]
        for j in range(m):
            if not changed[i, j]:
                continue
            cells[k] = i * m + j
            k += 1
            e = exposure[i, j]
            prev[i, j] = e
            if e == 0:
                target[i, j] = 0
                continue
            lot_value = float(close[j] * unit_values[j])
            if not lot_value > 0:
                lot_value = np.inf
            how = mode[i]
            if how == ALL_IN:
                budget = cash[i] / max(entering[i], 1)
            elif how == FRACTION:
                budget = fraction[i] * equity[i] / spread[i]
            else:
                budget = 0.0
            magnitude = np.float64(abs(e))
            if how == FIXED:
                size = np.rint(lots[i] * magnitude)
            else:
                size = np.floor(max(budget, 0.0) * magnitude / lot_value)
            if lot_value < np.inf:  # priced: at most MAX_NOTIONAL's worth
                size = min(size, np.floor(MAX_NOTIONAL / lot_value))
            target[i, j] = np.int64(size) if e > 0 else -np.int64(size)
    return hits


def warm_up() -> None:
    """Load :func:`size_changed_cells` for the exposures of rules (int8), Q-agents
    (float32) and user strategies (float64) when a sizer is built, not on a step."""
    if len(size_changed_cells.signatures) >= 3:
        return
    one_i, one_f, one_b = np.zeros(1, np.int64), np.zeros(1), np.ones(1, np.bool_)
    for dtype in (np.int8, np.float32, np.float64):
        exposure = np.zeros((1, 1), dtype)
        size_changed_cells(
            exposure, exposure.copy(), one_b, np.zeros(1, np.int8), one_f, one_i, one_f,
            one_i, one_i, one_i, one_i, np.zeros((1, 1), np.int64), np.zeros((1, 1), np.bool_),
            one_i.copy(), one_i.copy(), one_i.copy(),
        )  # fmt: skip

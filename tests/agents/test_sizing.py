"""The sizer sizes only changed cells; it must equal the plain dense formula on every cell."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from scarline.agents.sizing import ALL_IN, FIXED, FRACTION, Sizer


class DenseSizer:
    """The reference: every cell computed every step (the sizer before it went sparse)."""

    def __init__(self, mode, fraction, lots, spread) -> None:
        self.mode, self.fraction, self.lots, self.spread = mode, fraction, lots, spread
        self.target = self.exposure = None

    def targets(self, exposure, cash, equity, close, unit_values, valid):
        if self.target is None:
            self.target = np.zeros(exposure.shape, np.int64)
            self.exposure = np.zeros_like(exposure)
        changed = (exposure != self.exposure) & valid[None, :]
        entering = changed & (exposure != 0)
        lot_value = (close * unit_values).astype(np.float64)
        lot_value = np.where(lot_value > 0, lot_value, np.inf)
        n_entering = np.maximum(entering.sum(axis=1, keepdims=True), 1)
        mode = self.mode[:, None]
        budget = np.select(
            [mode == ALL_IN, mode == FRACTION],
            [cash[:, None] / n_entering, (self.fraction * equity / self.spread)[:, None]],
            default=0.0,
        )
        magnitude = np.abs(exposure).astype(np.float64)
        size = np.where(
            mode == FIXED,
            np.rint(self.lots[:, None] * magnitude),
            np.floor(np.maximum(budget, 0.0) * magnitude / lot_value[None, :]),
        ).astype(np.int64)
        new = np.where(entering, np.sign(exposure).astype(np.int64) * size, 0)
        self.target = np.where(changed, new, self.target)
        self.exposure = np.where(valid[None, :], exposure, self.exposure)
        return self.target, changed


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 100_000))
def test_sparse_sizing_equals_the_dense_formula(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, m = 9, 4
    args = (
        rng.integers(0, 3, n),  # mode
        rng.uniform(0.1, 2.0, n),  # fraction
        rng.integers(1, 50, n),  # lots
        rng.choice([1, m], n),  # spread
    )
    sparse, dense = Sizer(*args), DenseSizer(*(np.asarray(a, np.float64) for a in args))
    dense.mode = args[0]
    levels = np.array([-1.0, -0.5, 0.0, 0.5, 1.0], np.float32)
    unit_values = rng.integers(1, 10_000, m)
    for _ in range(6):
        exposure = rng.choice(levels, (n, m))
        cash = rng.integers(-1_000, 10**9, n)
        equity = rng.integers(-1_000, 10**9, n)
        close = rng.integers(0, 500, m)
        valid = rng.random(m) < 0.8
        got = sparse.targets(exposure, cash, equity, close, unit_values, valid).copy()
        want, changed = dense.targets(exposure, cash, equity, close, unit_values, valid)
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(sparse.changed, changed)
        rows, cols = sparse.changed_cells
        np.testing.assert_array_equal(np.flatnonzero(changed), rows * m + cols)

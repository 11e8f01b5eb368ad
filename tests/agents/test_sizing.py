"""The sizer sizes only changed cells; it must equal the plain dense formula on every cell."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from scarline.agents.sizing import ALL_IN, FIXED, FRACTION, MAX_NOTIONAL, Sizer


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
        )
        cap = np.floor(MAX_NOTIONAL / lot_value[None, :])  # nothing past 10^10 currency
        size = np.where(np.isfinite(lot_value[None, :]), np.minimum(size, cap), size)
        size = size.astype(np.int64)
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
        rng.choice([1, 7, 49, 10**9], n),  # lots (10^9 of a dear lot passes the cap)
        rng.choice([1, m], n),  # spread
    )
    sparse, dense = Sizer(*args), DenseSizer(*(np.asarray(a, np.float64) for a in args))
    dense.mode = args[0]
    levels = np.array([-1.0, -0.5, 0.0, 0.5, 1.0], np.float32)
    unit_values = rng.integers(1, 10_000, m)
    for _ in range(6):
        exposure = rng.choice(levels, (n, m))
        cash = rng.integers(-1_000, 10 ** rng.choice([9, 18]), n)
        equity = rng.integers(-1_000, 10 ** rng.choice([9, 18]), n)
        close = rng.integers(0, 500, m)
        valid = rng.random(m) < 0.8
        got = sparse.targets(exposure, cash, equity, close, unit_values, valid).copy()
        want, changed = dense.targets(exposure, cash, equity, close, unit_values, valid)
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(sparse.changed, changed)
        rows, cols = sparse.changed_cells
        np.testing.assert_array_equal(np.flatnonzero(changed), rows * m + cols)


def test_no_target_is_worth_more_than_the_accounts_can_hold() -> None:
    """10^9 fixed lots of a $100 share worth 10^6 cash units a tick would be 10^19 units, past
    int64's 9.2 × 10^18: the target stops at 10^10 currency (10^18 units), on both paths."""
    close, unit_values, valid = np.array([10_000]), np.array([1_000_000]), np.array([True])
    cap = int(MAX_NOTIONAL // (10_000 * 1_000_000))
    for exposure in (np.ones((2, 1), np.float32), np.ones((1, 2), np.float64).T):  # 2nd: numpy
        sizer = Sizer(np.array([FIXED, FRACTION]), np.array([1.0, 10.0]), np.array([10**9, 1]),
                      np.ones(2))  # fmt: skip
        cash = np.array([10**18, 10**18])
        target = sizer.targets(exposure, cash, cash, close, unit_values, valid)
        assert target[:, 0].tolist() == [cap, cap]

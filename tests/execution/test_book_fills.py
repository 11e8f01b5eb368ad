"""The compiled booking equals the numpy reference on every account array (the equity, cash
and positions it leaves are what the WAL's later steps and the reports are made of)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from scarline.execution.accounting import Accounts
from scarline.execution.types import FillBatch, unit_values

UV = unit_values(["0.01", "0.001", "1"], ["1", "10", "0.5"])
ARRAYS = (
    "last_close",
    "market_value",
    "equity",
    "cash",
    "position",
    "cost_basis",
    "_basis_total",
    "realized",
    "fees",
    "slippage",
    "traded",
    "trades",
)


def _random_fills(rng: np.random.Generator, n_agents: int, k: int, big: bool) -> FillBatch:
    """``k`` fills in (agent, instrument) order with repeats, sides that cross positions
    through zero, prices and fees up to 10**9 (10**12 with ``big``)."""
    top = 10**12 if big else 10**6
    key = np.sort(rng.integers(0, n_agents * 3, k))
    return FillBatch(
        order_id=np.arange(k, dtype=np.int64),
        agent=key // 3,
        instrument=key % 3,
        side=rng.choice(np.array([-1, 1], np.int8), k),
        qty=rng.integers(1, 1_000, k),
        price=rng.integers(1, top, k),
        ref_price=rng.integers(1, top, k),
        fee=rng.integers(0, top, k),
        slippage=rng.integers(-top, top, k),
        maker=np.zeros(k, bool),
    )


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 12),
    batches=st.integers(1, 8),
    big=st.booleans(),
)
def test_compiled_booking_equals_the_numpy_reference(
    seed: int, n: int, batches: int, big: bool
) -> None:
    rng = np.random.default_rng(seed)
    fast, ref = Accounts(n, UV, 10**15), Accounts(n, UV, 10**15)
    for _ in range(batches):
        fills = _random_fills(rng, n, int(rng.integers(0, 3 * n + 2)), big)
        fast.apply(fills)
        ref._apply_numpy(fills)
        close = rng.integers(1, 10**6, 3)
        valid = rng.random(3) < 0.7  # a missing bar keeps the last mark
        assert np.array_equal(fast.mark(close, valid), ref._mark_numpy(close, valid))
        for name in ARRAYS:
            assert np.array_equal(getattr(fast, name), getattr(ref, name)), name

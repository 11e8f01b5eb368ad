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


def _fill(side: int, qty: int, price: int) -> FillBatch:
    one = np.zeros(1, np.int64)
    return FillBatch(
        order_id=one,
        agent=one,
        instrument=one,
        side=np.array([side], np.int8),
        qty=np.array([qty], np.int64),
        price=np.array([price], np.int64),
        ref_price=np.array([price], np.int64),
        fee=one,
        slippage=one,
        maker=np.zeros(1, bool),
    )


def test_closing_a_large_position_leaves_no_basis_and_books_the_true_gain() -> None:
    """basis x closing passes int64 here (3.4e14 x 40 000 lots ~ 1.4e19): the closed cost
    must still be the basis, not a wrapped product (a flat agent once showed an
    "unrealized" loss of 50 x its equity and a fake realized loss scarred it)."""
    uv = unit_values(["0.01"], ["1"])  # 1e4 cash units per tick and lot
    for booking in ("apply", "_apply_numpy"):
        acc = Accounts(1, uv, 10**15)
        lots, buy_at, sell_at = 40_000, 850_000, 900_000
        getattr(acc, booking)(_fill(1, lots, buy_at))
        assert int(acc.cost_basis[0, 0]) * lots > 2**63  # the product would overflow int64
        getattr(acc, booking)(_fill(-1, lots // 4, sell_at))  # a partial close first
        getattr(acc, booking)(_fill(-1, lots - lots // 4, sell_at))
        assert acc.position[0, 0] == 0
        assert acc.cost_basis[0, 0] == 0 and acc._basis_total[0] == 0, booking
        acc.mark(np.array([sell_at]), np.array([True]))
        assert acc.unrealized()[0] == 0
        gain = lots * (sell_at - buy_at) * int(uv[0])
        assert int(acc.realized[0]) == gain, booking
        assert int(acc.equity[0]) == 10**15 + gain


@given(
    basis=st.integers(-(2**62), 2**62),
    held=st.integers(1, 10**6),
    frac=st.floats(0.0, 1.0),
)
def test_prorated_is_the_exact_floor_of_the_product(basis: int, held: int, frac: float) -> None:
    from scarline.execution.book_fills import prorated

    closing = max(1, min(held, round(frac * held)))
    assert prorated(np.int64(basis), np.int64(closing), np.int64(held)) == basis * closing // held

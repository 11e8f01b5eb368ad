import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from scarline.execution.accounting import Accounts
from scarline.execution.types import CASH_SCALE, FillBatch, unit_values


def _fills(rows: list[tuple[int, int, int, int, int, int]]) -> FillBatch:
    """rows: (agent, instrument, side, qty, price, fee)."""
    a = np.array(rows, dtype=np.int64).reshape(-1, 6)
    n = len(a)
    return FillBatch(
        order_id=np.arange(n, dtype=np.int64),
        agent=a[:, 0],
        instrument=a[:, 1],
        side=a[:, 2].astype(np.int8),
        qty=a[:, 3],
        price=a[:, 4],
        ref_price=a[:, 4],
        fee=a[:, 5],
        slippage=np.zeros(n, np.int64),
        maker=np.zeros(n, bool),
    )


UV = unit_values(["0.01", "0.001"], ["1", "1"])  # tick 0.01 and 0.001, lot 1


def test_round_trip_realizes_the_price_difference() -> None:
    acc = Accounts(1, UV, 1_000 * CASH_SCALE)
    acc.apply(_fills([(0, 0, 1, 10, 10_000, 0)]))  # buy 10 @ 100.00
    acc.mark(np.array([10_500, 0]), np.array([True, False]))
    assert acc.unrealized()[0] == 10 * 500 * UV[0] == 50 * CASH_SCALE  # +50.00 on paper
    assert acc.avg_price()[0, 0] == 10_000 and np.isnan(acc.avg_price()[0, 1])
    acc.apply(_fills([(0, 0, -1, 10, 10_200, 2 * CASH_SCALE)]))  # sell 10 @ 102.00, fee 2
    acc.mark(np.array([10_500, 0]), np.array([True, False]))
    assert acc.realized[0] == 20 * CASH_SCALE
    assert acc.position[0, 0] == 0 and acc.cost_basis[0, 0] == 0
    assert acc.equity[0] == (1_000 + 20 - 2) * CASH_SCALE


def test_flip_from_long_to_short_splits_close_and_open() -> None:
    acc = Accounts(1, UV, 0)
    acc.apply(_fills([(0, 0, 1, 5, 10_000, 0)]))
    acc.apply(_fills([(0, 0, -1, 8, 11_000, 0)]))
    assert acc.position[0, 0] == -3
    assert acc.realized[0] == 5 * 1_000 * UV[0] == 50 * CASH_SCALE  # closed 5 at +10.00
    assert acc.cost_basis[0, 0] == -3 * 11_000 * UV[0]


def test_same_agent_on_two_instruments_and_repeated_keys_accumulate() -> None:
    acc = Accounts(2, UV, 0)
    acc.apply(_fills([(0, 0, 1, 1, 100, 1), (0, 1, 1, 2, 100, 1), (0, 0, 1, 3, 100, 1)]))
    assert acc.position[0].tolist() == [4, 2]
    assert acc.fees[0] == 3 and acc.trades[0] == 3
    assert acc.cash[0] == -(4 * 100 * UV[0] + 2 * 100 * UV[1]) - 3


fill_rows = st.lists(
    st.tuples(
        st.integers(0, 2),
        st.integers(0, 1),
        st.sampled_from([1, -1]),
        st.integers(1, 50),
        st.integers(1, 20_000),
        st.integers(0, 5_000),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(fill_rows, min_size=1, max_size=6),
    st.lists(st.integers(1, 20_000), min_size=2, max_size=2),
)
def test_books_always_balance(batches, close) -> None:
    """cash + marked positions == equity == initial + realized + unrealized - fees, exactly."""
    acc = Accounts(3, UV, 10**6 * CASH_SCALE)
    for rows in batches:
        acc.apply(_fills(rows))
        equity = acc.mark(np.array(close), np.array([True, True]))
        marked = (acc.position * (np.array(close) * UV)).sum(axis=1)
        assert np.array_equal(equity, acc.cash + marked)
        assert np.array_equal(
            acc.cash + acc.cost_basis.sum(1), acc.initial_cash + acc.realized - acc.fees
        )
        assert np.array_equal(equity, acc.initial_cash + acc.realized + acc.unrealized() - acc.fees)
        assert np.array_equal(acc.unrealized(), acc.market_value - acc.cost_basis.sum(1))

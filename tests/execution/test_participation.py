import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from scarline.execution.participation import _rank_order, pro_rata, share_lots

i64 = np.int64


def test_two_agents_wanting_more_than_the_cap_share_it_pro_rata() -> None:
    alloc = pro_rata(
        np.array([300, 100], dtype=i64), np.zeros(2, dtype=i64), np.array([100], dtype=i64)
    )
    assert alloc.tolist() == [75, 25]


def test_leftover_lots_go_to_largest_remainders_then_row_order() -> None:
    # 3 equal requests for a cap of 10: 3.33 each -> 3, 3, 3 and one leftover to row 0
    alloc = pro_rata(
        np.array([5, 5, 5], dtype=i64), np.zeros(3, dtype=i64), np.array([10], dtype=i64)
    )
    assert alloc.tolist() == [4, 3, 3]
    # shares 0.4 and 0.6 of one lot: both floor to 0, the larger remainder gets the lot
    alloc = pro_rata(np.array([2, 3], dtype=i64), np.zeros(2, dtype=i64), np.array([1], dtype=i64))
    assert alloc.tolist() == [0, 1]


def test_groups_are_independent_and_under_cap_groups_get_their_request() -> None:
    requested = np.array([10, 4, 10, 6], dtype=i64)
    group = np.array([0, 1, 0, 1], dtype=i64)
    alloc = pro_rata(requested, group, np.array([10, 100], dtype=i64))
    assert alloc.tolist() == [5, 4, 5, 6]


def test_share_lots_floors_and_tolerates_float_error() -> None:
    assert share_lots(0.29, np.array([100, 0, 7])).tolist() == [29, 0, 2]
    assert share_lots(0.1, np.array([30, 99])).tolist() == [3, 9]


@st.composite
def allocation_problems(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    g = draw(st.integers(1, 4))
    k = draw(st.integers(0, 12))
    requested = draw(st.lists(st.integers(0, 10**6), min_size=k, max_size=k))
    group = draw(st.lists(st.integers(0, g - 1), min_size=k, max_size=k))
    cap = draw(st.lists(st.integers(0, 2 * 10**6), min_size=g, max_size=g))
    return np.array(requested, dtype=i64), np.array(group, dtype=i64), np.array(cap, dtype=i64)


@settings(max_examples=300, deadline=None)
@given(allocation_problems())
def test_pro_rata_invariants(problem: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    requested, group, cap = problem
    alloc = pro_rata(requested, group, cap)
    assert alloc.dtype == np.int64 and alloc.shape == requested.shape
    assert (alloc >= 0).all() and (alloc <= requested).all()
    assert np.array_equal(alloc, pro_rata(requested.copy(), group.copy(), cap.copy()))
    for g in range(cap.size):
        rows = group == g
        total = int(requested[rows].sum())
        got = int(alloc[rows].sum())
        if total <= cap[g]:
            assert np.array_equal(alloc[rows], requested[rows])
        else:
            assert got == cap[g]
            exact = requested[rows].astype(object) * int(cap[g])
            # within one lot of the exact proportional share, never below its floor
            floor = np.array([e // total for e in exact], dtype=i64)
            assert ((alloc[rows] - floor >= 0) & (alloc[rows] - floor <= 1)).all()


def test_rank_order_falls_back_to_lexsort_for_huge_remainders() -> None:
    group = np.array([1, 0, 1, 0, 1], dtype=i64)
    for rem in (np.array([5, 7, 5, 7, 9], dtype=i64), np.array([5, 7, 5, 7, 2**61], dtype=i64)):
        order = _rank_order(group, rem)  # the second needs the lexsort path
        assert order.tolist() == np.lexsort((np.arange(5), -rem, group)).tolist()

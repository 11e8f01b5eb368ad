"""The ladder's population total: a few agents' is a Python loop, numpy's bit for bit."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from scarline.risk.ladder import float_total

INT64 = st.integers(-(2**63), 2**63 - 1)
LARGE = st.integers(2**53, 2**62)  # where the order of the additions shows in the rounding


@settings(max_examples=2000, deadline=None)
@given(values=st.lists(st.one_of(INT64, LARGE), min_size=0, max_size=20))
def test_total_is_numpys_sum_bit_for_bit(values: list[int]) -> None:
    equity = np.array(values, dtype=np.int64)
    expected = float(equity.sum(dtype=np.float64))
    assert float_total(equity).hex() == expected.hex()


def test_seven_large_values_round_as_numpy_does() -> None:
    """Seven values whose float sum depends on the order of the additions (backwards it is
    another float): the loop keeps numpy's order."""
    values = [
        1404515618118061870, 2096312329706833865, 625958080060218802, 1864406803708373312,
        945446326164528336, 1216351255292865787, 3462694784624501593,
    ]  # fmt: skip
    forward, backward = np.array(values, np.int64), np.array(values[::-1], np.int64)
    assert float_total(forward) != float_total(backward)
    assert float_total(forward).hex() == float(forward.sum(dtype=np.float64)).hex()

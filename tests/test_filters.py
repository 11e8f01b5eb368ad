"""The compiled first-order recursion is ``scipy.signal.lfilter``'s, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import lfilter

from scarline.filters import first_order

VALUES = st.one_of(
    st.floats(-1e12, 1e12, allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, -0.0, 1e-300, -5e-324, 1.0]),
)


@settings(max_examples=300, deadline=None)
@given(
    rows=st.integers(1, 40),
    cols=st.integers(1, 4),
    data=st.data(),
    b0=st.sampled_from([1.0, 2.0 / 21.0, 0.4358898943540673, 0.3]),
    a1=st.floats(-0.999999, 0.999999),
    with_state=st.booleans(),
)
def test_first_order_equals_lfilter_bit_for_bit(rows, cols, data, b0, a1, with_state) -> None:
    x = np.array(data.draw(st.lists(VALUES, min_size=rows * cols, max_size=rows * cols)))
    x = x.reshape(rows, cols)
    zi = np.array(data.draw(st.lists(VALUES, min_size=cols, max_size=cols))) if with_state else None
    want = lfilter([b0], [1.0, a1], x, axis=0, zi=None if zi is None else zi[None, :])
    want = want if zi is None else want[0]
    got = first_order(x, b0, a1, zi)
    assert got.shape == x.shape
    np.testing.assert_array_equal(got.view(np.int64), want.view(np.int64))  # signed zeros too


def test_first_order_keeps_the_shape_of_any_table() -> None:
    x = np.random.default_rng(0).standard_normal((50, 3, 2))
    np.testing.assert_array_equal(first_order(x, 1.0, -0.9), lfilter([1.0], [1.0, -0.9], x, axis=0))
    assert first_order(np.zeros((0, 3)), 1.0, -0.5).shape == (0, 3)
    with pytest.raises(ValueError, match=r"zi has shape \(2,\), the series \(3,\)"):
        first_order(np.zeros((4, 3)), 1.0, -0.5, np.zeros(2))
    with pytest.raises(ValueError, match="zi has shape"):
        first_order(np.zeros((4, 3, 2)), 1.0, -0.5, np.zeros((2, 3)))

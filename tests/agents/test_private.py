"""The compiled private features are numpy's arithmetic, bit for bit."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from scarline.agents.private import private_features

BIG = 2**62


def reference(equity, position, instrument, lot_value, unrealized, cash, scars):  # type: ignore[no-untyped-def]
    """What ``QAgents.observe`` computed in numpy before it was compiled."""
    floored = np.maximum(equity, 1).astype(np.float64)
    held = position[np.arange(len(equity)), instrument] * lot_value[instrument]
    private = np.stack(
        [held / floored, unrealized / floored, cash / floored, np.minimum(scars, 10) / 10.0],
        axis=1,
    ).astype(np.float32)
    return private, floored


@st.composite
def views(draw: st.DrawFn) -> tuple:
    n, m = draw(st.integers(1, 12)), draw(st.integers(1, 4))
    ints = st.one_of(st.integers(-1000, 10**9), st.integers(-BIG, BIG))  # wide: overflow too
    arr = lambda shape: draw(hnp.arrays(np.int64, shape, elements=ints))  # noqa: E731
    instrument = draw(hnp.arrays(np.int64, n, elements=st.integers(0, m - 1)))
    scars = draw(hnp.arrays(np.int64, n, elements=st.integers(0, 40)))
    return arr(n), arr((n, m)), instrument, arr(m), arr(n), arr(n), scars


@settings(max_examples=200, deadline=None)
@given(views())
def test_private_features_are_numpys_bits(view: tuple) -> None:
    with np.errstate(over="ignore"):
        expected, expected_equity = reference(*view)
    got, equity = private_features(*view)
    assert got.dtype == np.float32 and got.shape == expected.shape
    np.testing.assert_array_equal(got.view(np.int32), expected.view(np.int32))
    np.testing.assert_array_equal(equity.view(np.int64), expected_equity.view(np.int64))

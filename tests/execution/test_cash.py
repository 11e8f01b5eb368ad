"""The cash cap's search for the largest affordable qty: the guess never changes the answer."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from scarline.execution.cash import largest_affordable


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 20),
    convex=st.floats(0.0, 2.0),
    minimum=st.integers(0, 50_000),
)
def test_the_guess_finds_what_bisection_finds(
    seed: int, n: int, convex: float, minimum: int
) -> None:
    rng = np.random.default_rng(seed)
    price = rng.integers(1, 10_000, n)
    hi = rng.integers(1, 5_000, n)

    def cost_of(q: np.ndarray) -> np.ndarray:  # non-decreasing: price impact and a min fee
        notional = q * price + np.floor(convex * q.astype(np.float64) ** 1.5).astype(np.int64)
        return notional + np.where(q > 0, np.maximum(notional // 1000, minimum), 0)

    full = cost_of(hi)
    left = (full * rng.uniform(-0.1, 1.0, n)).astype(np.int64)  # hi never affordable
    plain = largest_affordable(cost_of, hi, left)
    guessed = largest_affordable(cost_of, hi, left, hi_cost=full)
    np.testing.assert_array_equal(guessed, plain)
    q = guessed
    assert ((cost_of(q) <= left) | (q == 0)).all() and (cost_of(q + 1) > left).all()

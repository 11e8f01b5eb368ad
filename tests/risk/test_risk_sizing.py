"""Sizing with no scaling rule on: the fast path equals the general one (a cap that never binds)."""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from scarline.risk.config import RiskConfig
from scarline.risk.limits import Limits
from scarline.risk.sizing import Opening, size


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 12), scale=st.floats(0.01, 1.0))
def test_throttle_only_fast_path_equals_the_general_path(seed: int, n: int, scale: float) -> None:
    rng = np.random.default_rng(seed)
    lots = rng.integers(1, 50, n)
    o = Opening(
        side=rng.choice([-1, 1], n), qty=lots, exposure=rng.integers(-20, 20, n),
        held_abs=np.zeros(n, np.int64), other_abs=np.zeros(n, np.int64),
        lot_value=np.full(n, 100), lot_cost=np.full(n, 100), gross=None, free_cash=None,
        throttled=rng.random(n) < 0.5, trig_value=rng.uniform(0, 50, n),
        trig_limit=rng.uniform(0, 50, n),
    )  # fmt: skip
    off = Limits.of(RiskConfig(ladder={"throttle_scale": scale}), np.array([1]))
    never = dataclasses.replace(off, max_position=10**9)  # a cap that never binds
    fast, general = size(off, o), size(never, o)
    for got, want in zip(fast, general, strict=True):
        np.testing.assert_array_equal(got, want)
        assert got.dtype == want.dtype

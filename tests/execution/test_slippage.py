import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from scarline.execution.slippage import FixedPlusVolatility, slippage_cost

BUY, SELL = np.int8(1), np.int8(-1)


def quote(
    model: FixedPlusVolatility, ref: int, side: np.int8, qty: int, volume: int, sigma: float
) -> int:
    a = lambda x, t: np.array([x], dtype=t)  # noqa: E731
    price = model.price(
        a(ref, np.int64),
        a(side, np.int8),
        a(qty, np.int64),
        a(volume, np.int64),
        a(sigma, np.float64),
    )
    return int(price[0])


def test_zero_slippage_returns_the_reference_exactly_even_for_huge_prices() -> None:
    model = FixedPlusVolatility(0.0, 0.0)
    ref = np.array([2**62 + 1, 1, 123_456_789], dtype=np.int64)
    out = model.price(
        ref,
        np.array([1, -1, 1], dtype=np.int8),
        np.ones(3, dtype=np.int64),
        np.full(3, 10, dtype=np.int64),
        np.full(3, 0.5),
    )
    assert out.tolist() == ref.tolist()
    # vol_coef on but no volatility -> slip 0 -> exact too
    assert quote(FixedPlusVolatility(0.0, 2.0), 2**62 + 1, BUY, 5, 10, 0.0) == 2**62 + 1


def test_fixed_bps_moves_buys_up_and_sells_down_rounding_against_the_trader() -> None:
    model = FixedPlusVolatility(10.0, 0.0)  # 0.1 %
    assert quote(model, 10_000, BUY, 1, 100, 0.0) == 10_010
    assert quote(model, 10_000, SELL, 1, 100, 0.0) == 9_990
    assert quote(model, 10_001, BUY, 1, 100, 0.0) == 10_012  # 10011.001 -> ceil
    assert quote(model, 10_001, SELL, 1, 100, 0.0) == 9_990  # 9990.999 -> floor


def test_volatility_term_grows_with_sigma_and_square_root_of_size() -> None:
    model = FixedPlusVolatility(0.0, 1.0)
    # slip = 1.0 * 0.02 * sqrt(25 / 100) = 0.01 -> 1 % of 10,000
    assert quote(model, 10_000, BUY, 25, 100, 0.02) == math.ceil(10_000 * 1.01)
    assert quote(model, 10_000, SELL, 25, 100, 0.02) == math.floor(10_000 * 0.99)
    small = quote(model, 10_000, BUY, 1, 100, 0.02)
    big = quote(model, 10_000, BUY, 100, 100, 0.02)
    calm = quote(model, 10_000, BUY, 100, 100, 0.01)
    assert 10_000 < small < big and 10_000 < calm < big


def test_size_term_is_zero_without_volume_and_nan_sigma_counts_as_zero() -> None:
    model = FixedPlusVolatility(5.0, 1.0)
    assert quote(model, 10_000, BUY, 50, 0, 0.05) == 10_005  # only the fixed part
    assert quote(model, 10_000, BUY, 50, 100, float("nan")) == 10_005


def test_slippage_cost_is_ticks_times_lots_times_unit_value() -> None:
    cost = slippage_cost(
        np.array([10_010, 9_990]),
        np.array([10_000, 10_000]),
        np.array([3, 4]),
        np.array([10_000, 10_000]),
    )
    assert cost.tolist() == [10 * 3 * 10_000, 10 * 4 * 10_000]


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    k=st.integers(0, 40),
    fixed_bps=st.sampled_from([0.0, 1.0, 2.5, 50.0]),
    vol_coef=st.sampled_from([0.0, 0.1, 1.0, 3.7]),
)
def test_compiled_prices_equal_the_numpy_reference(
    seed: int, k: int, fixed_bps: float, vol_coef: float
) -> None:
    """Prices up to 2**40 ticks, sizes past the bar's volume, no volume, NaN volatility."""
    rng = np.random.default_rng(seed)
    model = FixedPlusVolatility(fixed_bps, vol_coef)
    ref = rng.integers(0, 2**40, k)
    side = rng.choice(np.array([-1, 1], np.int8), k)
    qty = rng.integers(1, 10**6, k)
    volume = rng.integers(0, 10**6, k) * (rng.random(k) < 0.9)
    sigma = np.where(rng.random(k) < 0.1, np.nan, rng.exponential(0.02, k))
    got = model.price(ref, side, qty, volume, sigma)
    want = model._price_numpy(ref, side, qty, volume, sigma)
    assert got.dtype == want.dtype and np.array_equal(got, want)

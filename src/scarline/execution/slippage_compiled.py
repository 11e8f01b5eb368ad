"""``FixedPlusVolatility.price`` compiled: the market-order price of every fill in one loop.

The broker prices fills two or three times a step (the cash cap bisects on cost), and the
numpy version is a dozen passes with ``nan_to_num`` and masks: ~25 µs a call at any size.
Every operation here is IEEE arithmetic (``sqrt``, ``ceil`` and ``floor`` are exact), taken
in numpy's order on the same operands, so the prices are the same integers
(``tests/execution/test_slippage.py`` compares them on random fills, NaN and infinite
volatility included).
"""

from __future__ import annotations

import numpy as np
from numba import njit

_MAX = np.finfo(np.float64).max


Int = int | np.integer
"""A scalar integer as numba sees it: a Python int or a numpy one (mypy only)."""


@njit(cache=True)
def price_one(
    ref: Int, side: Int, qty: Int, volume: Int, sigma: float, fixed: float, vol_coef: float
) -> Int:
    """``ref`` moved by ``fixed + vol_coef · σ · √(qty / volume)`` (σ NaN → 0, ±inf → ±max
    float, as ``np.nan_to_num``; no volume → no impact), ceil for a buy, floor (at least 0)
    for a sell; exactly ``ref`` when the slip is 0."""
    slip = fixed
    if vol_coef:
        size = np.sqrt(qty / max(volume, 1)) if volume > 0 else 0.0
        s = sigma
        if np.isnan(s):
            s = 0.0
        elif np.isinf(s):
            s = _MAX if s > 0 else -_MAX
        slip = slip + vol_coef * s * size
    if slip == 0:
        return ref
    if side > 0:
        return np.int64(np.ceil(ref * (1.0 + slip)))
    return np.int64(max(np.floor(ref * (1.0 - slip)), 0.0))


@njit(cache=True)
def fixed_plus_volatility_price(
    ref: np.ndarray, side: np.ndarray, qty: np.ndarray, volume: np.ndarray, sigma: np.ndarray,
    fixed: float, vol_coef: float, out: np.ndarray,
) -> None:  # fmt: skip
    """``out[i] = price_one(...)`` of every fill."""
    for i in range(ref.shape[0]):
        out[i] = price_one(ref[i], side[i], qty[i], volume[i], sigma[i], fixed, vol_coef)


def warm_up() -> None:
    """Load the compiled pricing (~0.3 s once per process) when a broker is built."""
    if fixed_plus_volatility_price.signatures:
        return
    one = np.ones(1, np.int64)
    f = np.ones(1)
    fixed_plus_volatility_price(one, np.ones(1, np.int8), one, one, f, 1e-4, 0.1, one.copy())

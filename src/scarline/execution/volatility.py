"""Causal per-bar volatility, the input of the volatility-dependent slippage term."""

from __future__ import annotations

import numpy as np


def causal_volatility(close: np.ndarray, span: int = 20) -> np.ndarray:
    """``float64[T, M]``: EWMA std of log returns known *before* bar t (rows use returns < t).

    Missing prices contribute no return; the first rows are 0 (no history yet).
    """
    t_n, m = close.shape
    out = np.zeros((t_n, m))
    if t_n < 3:
        return out
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.log(close[1:] / close[:-1])
    r = np.where(np.isfinite(r), r, 0.0)
    alpha = 2.0 / (span + 1.0)
    from scarline.filters import first_order  # numba, loaded when first used

    var = first_order(r * r, alpha, alpha - 1.0)  # EWMA of squared returns (lfilter's)
    # return r[k] (between bars k and k+1) is known from bar k+1 on, so it feeds out[k+2]
    out[2:] = np.sqrt(var[:-1])
    return out

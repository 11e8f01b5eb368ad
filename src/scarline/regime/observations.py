"""The market-wide observation the regime HMM sees at each bar, from bars <= t only.

Two features per bar:

* ``log_realized_vol``: log of the realized volatility, the root mean square of every
  instrument's log return over the last ``vol_window`` bars (t included);
* ``scaled_mean_return``: the cross-sectional mean log return at t divided by the realized
  volatility at t-1. Raw returns are heteroskedastic and fat-tailed; EM then spends states
  on the return tails (two "chaos" states, calm and trend merged). Scaled by the previous
  volatility the feature is close to unit-variance normal in every regime, and keeps the
  drift's sign.

Returns need a valid bar at both t-1 and t. A bar without any return, or without any
return in the volatility window before it (the first two bars, every instrument missing),
is *unobserved*: the filter only propagates its belief there, and fits skip it.
"""

from __future__ import annotations

import numpy as np

from scarline.market.frame import MarketData

FEATURE_NAMES = ("scaled_mean_return", "log_realized_vol")
VAR_FLOOR = 1e-8
"""Floor of the realized variance (1 bp per bar), so a window of unchanged prices stays finite."""


def log_returns(market: MarketData) -> tuple[np.ndarray, np.ndarray]:
    """``float64[T, M]`` log close-to-close returns (0 where undefined) and their mask."""
    close = market.close
    ok = market.valid & (close > 0)
    has = np.zeros_like(ok)
    has[1:] = ok[1:] & ok[:-1]
    ret = np.zeros(close.shape, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        logc = np.log(np.where(ok, close, 1).astype(np.float64))
    ret[1:] = np.where(has[1:], logc[1:] - logc[:-1], 0.0)
    return ret, has


def trailing_sum(x: np.ndarray, window: int) -> np.ndarray:
    """Sum of ``x[t-window+1 .. t]`` (fewer at the start), added in a fixed order.

    A fixed order of additions makes row t bit-identical whatever follows it, which the
    no-lookahead tests compare exactly.
    """
    out = np.zeros_like(x)
    for k in range(min(window, x.shape[0])):
        out[k:] += x[: x.shape[0] - k]
    return out


def observations(market: MarketData, vol_window: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """``float64[T, 2]`` features in ``FEATURE_NAMES`` order (0 where unobserved), ``bool[T]``."""
    ret, has = log_returns(market)
    count = has.sum(axis=1).astype(np.float64)
    mean = ret.sum(axis=1) / np.maximum(count, 1.0)
    sq_sum = trailing_sum((ret * ret).sum(axis=1), vol_window)
    n_sum = trailing_sum(count, vol_window)
    var = np.maximum(sq_sum / np.maximum(n_sum, 1.0), VAR_FLOOR)
    prev_var = np.concatenate([[VAR_FLOOR], var[:-1]])
    prev_n = np.concatenate([[0.0], n_sum[:-1]])
    observed = (count > 0) & (prev_n > 0)
    zret = np.where(observed, mean / np.sqrt(prev_var), 0.0)
    logvol = np.where(observed, 0.5 * np.log(var), 0.0)
    return np.column_stack([zret, logvol]), observed

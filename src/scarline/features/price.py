"""Price features as pure functions of a close series ``float64[T, M]`` (NaN = no bar).

Every function returns ``float64[T, M]`` with NaN where the feature is undefined at t (a bar
it needs is missing or there is not enough history); row t reads rows <= t only.
"""

from __future__ import annotations

import numpy as np

from scarline.features.ewma import ew_sum
from scarline.features.window import window_mean, window_std


def log_prices(close: np.ndarray) -> np.ndarray:
    """``log(close)``; non-positive or non-finite prices count as missing bars."""
    ok = np.isfinite(close) & (close > 0)
    return np.log(np.where(ok, close, 1.0), where=ok, out=np.full(close.shape, np.nan))


def log_return(log_price: np.ndarray, window: int) -> np.ndarray:
    """``ret_k``: ``log(c_t / c_{t-k})``; needs the bars at t and t-k."""
    out = np.full(log_price.shape, np.nan)
    if window < log_price.shape[0]:
        out[window:] = log_price[window:] - log_price[:-window]
    return out


def volatility(log_price: np.ndarray, window: int) -> np.ndarray:
    """``vol_k``: population std of the last k one-bar log returns (bars t-k … t)."""
    return window_std(log_return(log_price, 1), window)


def momentum(close: np.ndarray, window: int) -> np.ndarray:
    """``mom_k``: ``c_t / SMA_k(c)_t - 1``, the SMA over bars t-k+1 … t."""
    return close / window_mean(close, window) - 1.0


def rsi(close: np.ndarray, window: int) -> np.ndarray:
    """``rsi_k``: Wilder's RSI rescaled to [-1, 1], i.e. ``(RSI - 50) / 50``.

    With gains G and losses L smoothed by an EWMA of weight ``1/k`` (Wilder), the rescaled
    RSI is ``(G - L) / (G + L) = EWMA(Δc) / EWMA(|Δc|)``, so the EWMA normalization cancels.
    A change that touches a missing bar enters as 0 (no information), so a gap never turns
    later values into NaN. Defined once bar t exists and k changes have been seen; 0 when
    prices have not moved at all.
    """
    change = np.full(close.shape, np.nan)
    change[1:] = np.diff(close, axis=0)
    seen = ~np.isnan(change)
    step = np.where(seen, change, 0.0)
    decay = 1.0 - 1.0 / window
    up_down = ew_sum(step, decay)
    total = ew_sum(np.abs(step), decay)
    value = np.divide(up_down, total, out=np.zeros(close.shape), where=total > 0)
    ready = ~np.isnan(close) & (np.cumsum(seen, axis=0) >= window)
    return np.where(ready, value, np.nan)

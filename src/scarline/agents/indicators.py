"""Causal indicator tables shared by the rule baselines (row t uses rows <= t only)."""

from __future__ import annotations

import numpy as np


def rolling_mean(x: np.ndarray, window: int) -> np.ndarray:
    """Causal mean of the last ``window`` rows of ``x[T, M]``; NaN until full or if any NaN."""
    out = np.full(x.shape, np.nan)
    if window > x.shape[0]:
        return out
    nan = np.isnan(x)
    zeros = np.zeros((1, x.shape[1]))
    csum = np.concatenate([zeros, np.cumsum(np.where(nan, 0.0, x), axis=0)])
    cnan = np.concatenate([zeros, np.cumsum(nan, axis=0)])
    sums = csum[window:] - csum[:-window]
    gaps = cnan[window:] - cnan[:-window]
    out[window - 1 :] = np.where(gaps > 0, np.nan, sums / window)
    return out


def rolling_std(x: np.ndarray, window: int) -> np.ndarray:
    """Causal population standard deviation over the last ``window`` rows."""
    mean = rolling_mean(x, window)
    mean_sq = rolling_mean(x * x, window)
    return np.sqrt(np.maximum(mean_sq - mean * mean, 0.0))


def trailing_return(x: np.ndarray, lookback: int) -> np.ndarray:
    """``x[t] / x[t - lookback] - 1``; NaN for the first ``lookback`` rows."""
    out = np.full(x.shape, np.nan)
    if lookback < x.shape[0]:
        out[lookback:] = x[lookback:] / x[:-lookback] - 1.0
    return out

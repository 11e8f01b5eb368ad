"""Trailing-window sums computed from each window's own rows only.

Cumulative-sum tricks make a window's value depend on the rounding of everything before it;
summing the window directly (a loop over the window length, vectorized over time and
instruments) makes each value a function of its window alone, so a missing bar changes
exactly the windows that contain it and nothing after.

Every trailing window of the package is computed here, and only this way.
"""

from __future__ import annotations

import numpy as np


def window_sum(x: np.ndarray, window: int, *, fill: float = np.nan) -> np.ndarray:
    """``sum(x[t - window + 1 : t + 1])`` for ``x[T, ...]``; ``fill`` before the window fills.

    A NaN anywhere in a window makes that window NaN (undefined, not silently shorter). The
    result is float64 with the default NaN fill; an integer ``fill`` (e.g. ``-1``) keeps the
    sums of an integer ``x`` exact integers (tick sums, missing-bar counts).
    """
    out = np.full(x.shape, fill)
    n = x.shape[0] - window + 1
    if n <= 0:
        return out
    acc = x[window - 1 :].copy()
    for lag in range(1, window):
        acc += x[window - 1 - lag : window - 1 - lag + n]
    out[window - 1 :] = acc
    return out


def window_mean(x: np.ndarray, window: int) -> np.ndarray:
    """Mean of each trailing window (:func:`window_sum` / ``window``); NaN as there."""
    return window_sum(x, window) / window


def window_std(x: np.ndarray, window: int) -> np.ndarray:
    """Population standard deviation of each trailing window (two-pass, so no cancellation)."""
    out = np.full(x.shape, np.nan)
    n = x.shape[0] - window + 1
    if n <= 0:
        return out
    mean = window_mean(x, window)[window - 1 :]
    acc = np.zeros(mean.shape)
    for lag in range(window):
        acc += (x[window - 1 - lag : window - 1 - lag + n] - mean) ** 2
    out[window - 1 :] = np.sqrt(acc / window)
    return out

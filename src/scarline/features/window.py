"""Trailing-window sums computed from each window's own rows only.

Cumulative-sum tricks make a window's value depend on the rounding of everything before it;
summing the window directly (a loop over the window length, vectorized over time and
instruments) makes each value a function of its window alone, so a missing bar changes
exactly the windows that contain it and nothing after.

Every trailing window of the package is computed here. One legacy convention stays, behind
``running=True``: the mean-reversion baseline's z-score was first computed from running
(cumulative) sums, and its decisions are journaled, so replaying its runs needs that exact
arithmetic (direct sums flip about 0.06 % of its decisions on sp500-20, at prices exactly
at their mean). New code leaves ``running`` off.
"""

from __future__ import annotations

import numpy as np


def window_sum(
    x: np.ndarray, window: int, *, fill: float = np.nan, running: bool = False
) -> np.ndarray:
    """``sum(x[t - window + 1 : t + 1])`` for ``x[T, ...]``; ``fill`` before the window fills.

    A NaN anywhere in a window makes that window NaN (undefined, not silently shorter). The
    result is float64 with the default NaN fill; an integer ``fill`` (e.g. ``-1``) keeps the
    sums of an integer ``x`` exact integers (tick sums, missing-bar counts). ``running``: the
    legacy difference of cumulative sums (see the module docstring), float only.
    """
    out = np.full(x.shape, fill)
    n = x.shape[0] - window + 1
    if n <= 0:
        return out
    if running:
        out[window - 1 :] = _running_sum(x, window)
        return out
    acc = x[window - 1 :].copy()
    for lag in range(1, window):
        acc += x[window - 1 - lag : window - 1 - lag + n]
    out[window - 1 :] = acc
    return out


def _running_sum(x: np.ndarray, window: int) -> np.ndarray:
    """``[T - window + 1, ...]`` window sums as differences of cumulative sums (NaN counted
    as 0 there, and the windows holding one made NaN)."""
    nan = np.isnan(x)
    zeros = np.zeros((1, *x.shape[1:]))
    csum = np.concatenate([zeros, np.cumsum(np.where(nan, 0.0, x), axis=0)])
    cnan = np.concatenate([zeros, np.cumsum(nan, axis=0)])
    gaps = cnan[window:] - cnan[:-window]
    return np.where(gaps > 0, np.nan, csum[window:] - csum[:-window])


def window_mean(x: np.ndarray, window: int, *, running: bool = False) -> np.ndarray:
    """Mean of each trailing window (:func:`window_sum` / ``window``); NaN as there."""
    return window_sum(x, window, running=running) / window


def window_std(x: np.ndarray, window: int, *, running: bool = False) -> np.ndarray:
    """Population standard deviation of each trailing window (two-pass, so no cancellation;
    ``running``: the legacy √(mean of squares − squared mean) of running sums)."""
    if running:
        mean = window_mean(x, window, running=True)
        return np.sqrt(np.maximum(window_mean(x * x, window, running=True) - mean * mean, 0.0))
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

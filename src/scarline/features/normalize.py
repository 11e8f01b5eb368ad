"""Online normalization that never looks ahead.

Row t is standardized with a mean and variance estimated from rows strictly before t, so a
value is scaled by the statistics that existed when it arrived, exactly as a live system
would see it. Each series (every trailing index of ``x[T, ...]``) is normalized on its own;
NaN marks "no observation" and is skipped by the statistics and kept in the output.
"""

from __future__ import annotations

import numpy as np

from scarline.features.config import Normalization
from scarline.features.ewma import ew_sum, halflife_decay


def causal_moments(x: np.ndarray, decay: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted ``(mean, var, count)`` of the observed rows < t of each series, per row t.

    Weights decay by ``decay`` per row (1 = expanding). ``count`` is the number of prior
    observations; mean and var are NaN where it is 0. Values are shifted by each series' first
    observation before summing (the shifted-data algorithm), so a series far from zero keeps
    its variance digits; that shift is a past value for every row that has statistics.
    """
    x = np.asarray(x, dtype=np.float64)
    seen = ~np.isnan(x)
    first = np.argmax(seen, axis=0)[None]
    shift = np.where(seen.any(axis=0), np.take_along_axis(x, first, axis=0)[0], 0.0)
    centred = np.where(seen, x - shift, 0.0)
    sums = [ew_sum(v, decay) for v in (seen.astype(np.float64), centred, centred * centred)]
    w, s1, s2 = (_before(s) for s in sums)
    has = w > 0
    safe_w = np.where(has, w, 1.0)
    m1 = s1 / safe_w
    mean = np.where(has, shift + m1, np.nan)
    var = np.where(has, np.maximum(s2 / safe_w - m1 * m1, 0.0), np.nan)
    return mean, var, prior_count(x)


def prior_count(x: np.ndarray) -> np.ndarray:
    """``int64``: how many non-NaN values each series had in rows < t."""
    return _before(np.cumsum(~np.isnan(x), axis=0))


def causal_zscore(x: np.ndarray, halflife: float, warmup: int, clip: float) -> np.ndarray:
    """EWMA z-score: ``(x_t - mean_{<t}) / std_{<t}`` with weights halving every ``halflife``.

    0 while a series has fewer than ``warmup`` (at least 1) prior observations or zero
    variance; clipped to ``[-clip, clip]``; NaN stays NaN.
    """
    return _zscore(x, halflife_decay(halflife), warmup, clip)


def expanding_zscore(x: np.ndarray, warmup: int, clip: float) -> np.ndarray:
    """Like :func:`causal_zscore` with equal weights on the whole past."""
    return _zscore(x, 1.0, warmup, clip)


def normalize(
    x: np.ndarray, method: Normalization, halflife: float, warmup: int, clip: float
) -> np.ndarray:
    """Dispatch on ``method``; ``"none"`` passes values through, still clipped."""
    if method == "ewma":
        return causal_zscore(x, halflife, warmup, clip)
    if method == "expanding":
        return expanding_zscore(x, warmup, clip)
    if method == "none":
        return np.clip(np.asarray(x, dtype=np.float64), -clip, clip)
    raise ValueError(f"unknown normalization {method!r} (ewma | expanding | none)")


def _zscore(x: np.ndarray, decay: float, warmup: int, clip: float) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    mean, var, count = causal_moments(x, decay)
    usable = (count >= max(warmup, 1)) & (var > 0)
    std = np.sqrt(np.where(usable, var, 1.0))
    z = np.where(usable, (x - np.where(usable, mean, 0.0)) / std, 0.0)
    return np.where(np.isnan(x), np.nan, np.clip(z, -clip, clip))


def _before(s: np.ndarray) -> np.ndarray:
    """Shift down one row: row t holds the running value of rows < t (row 0 holds 0)."""
    out = np.zeros_like(s)
    out[1:] = s[:-1]
    return out

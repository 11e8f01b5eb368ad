"""The largest recentred t-statistic of one bootstrap resample, compiled.

:func:`scarline.gating.spa.max_t_pvalues` draws a thousand resamples of a ``[T, K]`` record
(in-sample: ~6,000 bars x 256 agents) per benchmark. In numpy each one gathers the resampled
rows into a new array and makes five passes over it: ~4.4 ms a resample, ~13 s of a gate
run on one core. Here the rows are read where they lie, two passes, no copy.

The rule that keeps the p-values exact: numpy sums a C-ordered ``[T, K]`` array over axis 0
row by row, each column in row order, when ``K >= 2`` (with ``K = 1`` the column is the
inner loop and numpy sums it pairwise); this loop adds in that same order, divides and
squares as ``np.mean`` and ``np.std(ddof=1)`` do, so every t is the same float
(``tests/gating/test_max_t_compiled.py`` compares them on random records). ``K = 1`` keeps
the numpy path.
"""

from __future__ import annotations

import numpy as np
from numba import njit

MIN_COLUMNS = 2
"""Fewer columns take the numpy path (its sum order differs there, see above)."""


@njit(cache=True)
def max_resampled_t(
    x: np.ndarray, index: np.ndarray, mean: np.ndarray, sd: np.ndarray,
    studentize: bool, epsilon: float,
) -> float:  # fmt: skip
    """``max_k (mean_k(x[index]) - mean_k) / scale_k`` over the columns whose scale exceeds
    ``epsilon`` (``-inf`` when none does); ``scale``: the resample's own standard deviation
    (``ddof = 1``) when ``studentize``, else ``sd``."""
    t, k = index.shape[0], x.shape[1]
    total = np.zeros(k)
    for i in range(t):
        row = x[index[i]]
        for j in range(k):
            total[j] += row[j]
    centre = total / t
    scale = sd
    if studentize:
        square = np.zeros(k)
        for i in range(t):
            row = x[index[i]]
            for j in range(k):
                d = row[j] - centre[j]
                square[j] += d * d
        scale = np.sqrt(square / (t - 1))
    best = -np.inf
    for j in range(k):
        if scale[j] > epsilon:
            value = (centre[j] - mean[j]) / scale[j]
            if value > best:
                best = value
    return best

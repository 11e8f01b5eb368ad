"""The performance statistics every layer shares: one Sharpe ratio, one drawdown.

Pure array functions, column-wise over ``[T, N]`` (N agents, strategies or trials at once).
There is one definition of each figure; where a caller needs another convention it passes a
parameter instead of writing its own:

* **Sharpe**: mean / standard deviation of per-period returns, risk-free 0, sample standard
  deviation (``ddof=1``) unless the caller says otherwise, per period unless
  ``periods_per_year`` annualizes it (× √periods_per_year). It is 0, never ±huge, for a
  column with fewer than two returns or a standard deviation at or below
  :data:`STD_EPSILON` (no variation). :func:`sharpe` takes the returns,
  :func:`sharpe_from_sums` running sums (an agent's since birth), :func:`sharpe_from_moments`
  a mean and a standard deviation computed elsewhere (PBO's per-split block sums): all three
  end in the same ratio and the same guard. :func:`smooth_sharpe` is the one variant
  without the cut-off, for exponentially weighted moments (the scars' trust score).
* **Drawdown**: the fall from the running peak as a positive fraction, ``1 − equity / peak``
  (0 at a new high); :func:`max_drawdown` is its largest value over a path.
"""

from __future__ import annotations

import numpy as np

STD_EPSILON = 1e-12
"""Per-period return std at or below this is "no variation": Sharpe is 0, not ±huge."""


def sharpe_from_moments(
    mean: np.ndarray, std: np.ndarray, count: np.ndarray | int, periods_per_year: float = 1.0
) -> np.ndarray:
    """``mean / std`` (× √periods_per_year); 0 where ``count < 2`` or ``std ≤ STD_EPSILON``."""
    mean, std = np.asarray(mean, dtype=np.float64), np.asarray(std, dtype=np.float64)
    ok = (np.asarray(count) >= 2) & (std > STD_EPSILON)
    out = np.zeros(np.broadcast(mean, std, ok).shape)
    np.divide(mean, std, out=out, where=ok)
    if periods_per_year != 1.0:
        out *= np.sqrt(periods_per_year)
    return out


def sharpe(returns: np.ndarray, *, ddof: int = 1, periods_per_year: float = 1.0) -> np.ndarray:
    """``float64[N]`` Sharpe of each column of per-period ``returns`` ``[T, N]`` (a 1-D series
    is one column). NaN returns are skipped (an agent not alive at that step); the standard
    deviation is two-pass, so a large mean does not cancel it away."""
    r = np.asarray(returns, dtype=np.float64)
    if r.ndim == 1:
        r = r[:, None]
    valid = np.isfinite(r)
    count = valid.sum(axis=0)
    mean = np.where(valid, r, 0.0).sum(axis=0) / np.maximum(count, 1)
    sq = np.where(valid, r - mean, 0.0) ** 2
    std = np.sqrt(sq.sum(axis=0) / np.maximum(count - ddof, 1))
    return sharpe_from_moments(mean, std, count, periods_per_year)


def sharpe_from_sums(
    total: np.ndarray, total_sq: np.ndarray, count: np.ndarray, *, ddof: int = 1
) -> np.ndarray:
    """Per-period Sharpe from running sums: ``total`` = Σr, ``total_sq`` = Σr², ``count`` = n
    (one value per column). The variance is ``Σr²/n − mean²`` (floored at 0), rescaled by
    ``n / (n − ddof)``; with ``ddof=0`` it is the population variance, bit for bit what the
    evolution's behaviour tracker has always journaled its selections by."""
    n = np.maximum(count, 1)
    mean = total / n
    var = np.maximum(total_sq / n - mean * mean, 0.0)
    if ddof:
        var = var * (n / np.maximum(n - ddof, 1))
    return sharpe_from_moments(mean, np.sqrt(var), count)


def smooth_sharpe(mean: np.ndarray, var: np.ndarray) -> np.ndarray:
    """Sharpe of exponentially weighted moments, smooth through zero variance:
    ``mean / √(var + STD_EPSILON)`` with no cut-off, so the score it feeds (an agent's trust)
    never jumps. Trust is journaled (``Decision.trust``): this arithmetic is fixed."""
    return mean / np.sqrt(var + STD_EPSILON)


def drawdown(peak: np.ndarray, equity: np.ndarray, *, undefined: float = np.nan) -> np.ndarray:
    """Fall from ``peak`` as a positive fraction, ``1 − equity / peak`` (0 at the peak);
    ``undefined`` where the peak is not positive or the equity is not finite."""
    peak, equity = np.asarray(peak, dtype=np.float64), np.asarray(equity, dtype=np.float64)
    ok = np.isfinite(equity) & (peak > 0)
    out = np.full(np.broadcast(peak, equity).shape, undefined)
    np.divide(equity, peak, out=out, where=ok)
    np.subtract(1.0, out, out=out, where=ok)
    return out


def drawdowns(equity: np.ndarray) -> np.ndarray:
    """``float64[T, N]`` :func:`drawdown` from the running peak of each column of ``equity``
    (NaN skipped by the peak; NaN where equity is NaN or no positive peak was seen yet)."""
    equity = np.asarray(equity, dtype=np.float64)
    return drawdown(np.fmax.accumulate(equity, axis=0), equity)


def max_drawdown(equity: np.ndarray) -> np.ndarray:
    """``float64[N]`` largest peak-to-trough fall of each column, a positive fraction
    (0.25 = −25 %); 0 for a column that never fell."""
    return np.fmax.reduce(drawdowns(equity), axis=0, initial=0.0)

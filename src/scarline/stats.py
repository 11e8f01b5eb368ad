"""The performance statistics every layer shares: one period return, one Sharpe ratio, one
drawdown.

Pure array functions, column-wise over ``[T, N]`` (N agents, strategies or trials at once).
There is one definition of each figure; where a caller needs another convention it passes a
parameter instead of writing its own:

* **Period return**: the simple (not log) return ``(equity[t] − equity[t−1]) /
  equity[t−1]``: the difference first, in the inputs' own type (exact for integer cash at
  any size), then one float64 division. It is defined only where the previous equity is
  positive and both are finite; a step from zero, negative or NaN equity, or to NaN equity,
  has no return and gets the caller's ``undefined``: NaN (the default) where a figure skips
  such steps (the report: an agent not alive there), 0 where a number is needed (running
  sums, compounding: a step from nothing earns nothing). :func:`period_return` takes the
  two equities of one step, :func:`period_returns` a whole path.
* **Sharpe**: mean / standard deviation of per-period returns, risk-free 0, sample standard
  deviation (``ddof=1``) unless the caller says otherwise, per period unless
  ``periods_per_year`` annualizes it (× √periods_per_year). It is 0, never ±huge, for a
  column with fewer than two returns or a standard deviation at or below
  :data:`STD_EPSILON` (no variation). :func:`sharpe` takes the returns,
  :func:`sharpe_from_sums` running sums (an agent's since birth), :func:`sharpe_from_moments`
  a mean and a standard deviation computed elsewhere (PBO's per-split block sums): all three
  end in the same ratio and the same guard. :func:`smooth_sharpe` is the one variant
  without the cut-off, for exponentially weighted moments (the scars' trust score).
* **Drawdown**: the fall from the running peak as a positive fraction,
  ``(peak − equity) / peak`` (the difference first, as for returns), 0 at or above the peak;
  undefined without a positive peak or a finite equity. :func:`max_drawdown` is its largest
  value over a path. :func:`drawdown_pct` is the same figure in percent for the callers that
  journal it and need a number everywhere (the risk ladder, the scars): 100 × the fraction,
  and without a positive peak 100 below the peak and 0 at or above it (a fall from nothing
  is total).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

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


def period_return(
    prev: npt.ArrayLike, cur: npt.ArrayLike, *, undefined: float = np.nan
) -> np.ndarray:
    """Simple return of one step, ``(cur − prev) / prev``; ``undefined`` unless ``prev > 0``
    and both are finite (see the module docstring for which ``undefined`` to pass)."""
    prev, cur = np.asarray(prev), np.asarray(cur)
    if _positive_ints(prev, cur):  # every return defined: no masks (the kernel's cash, per step)
        return np.subtract(cur, prev) / prev
    ok = np.isfinite(prev) & np.isfinite(cur) & (prev > 0)
    return _relative(cur, prev, prev, ok, undefined)


def log_return(prev: npt.ArrayLike, cur: npt.ArrayLike) -> np.ndarray:
    """``log(cur / prev)`` with both floored at 1 (one cash unit): a ruined account still
    has a finite log return, what an online learner's reward and the drift sentry need at
    every step (:func:`period_return` leaves such steps undefined instead)."""
    a = np.maximum(np.asarray(prev), 1).astype(np.float64)
    b = np.maximum(np.asarray(cur), 1).astype(np.float64)
    return np.log(b / a)


def period_returns(equity: np.ndarray, *, undefined: float = np.nan) -> np.ndarray:
    """``float64[T-1, ...]`` :func:`period_return` of every step of the path ``equity[T, ...]``
    (row t is the return from row t to row t+1)."""
    equity = np.asarray(equity)
    return period_return(equity[:-1], equity[1:], undefined=undefined)


def drawdown(
    peak: npt.ArrayLike, equity: npt.ArrayLike, *, undefined: float = np.nan
) -> np.ndarray:
    """Fall from ``peak`` as a positive fraction, ``(peak − equity) / peak``, 0 at or above
    the peak; ``undefined`` where the peak is not positive or either is not finite."""
    peak, equity = np.asarray(peak), np.asarray(equity)
    if _positive_ints(peak, equity):
        return _fall(peak, equity)
    ok = np.isfinite(equity) & np.isfinite(peak) & (peak > 0)
    out = _relative(peak, equity, peak, ok, undefined)
    np.maximum(out, 0.0, out=out, where=ok)
    return out


def drawdown_pct(peak: npt.ArrayLike, equity: npt.ArrayLike) -> np.ndarray:
    """:func:`drawdown` in percent, a number for every finite input: 100 × the fraction, and
    where the peak is not positive 100 below it and 0 at or above it (NaN for a NaN equity
    under a positive peak). The risk ladder and the scars journal it: this arithmetic is
    fixed."""
    peak, equity = np.asarray(peak), np.asarray(equity)
    if _positive_ints(peak, equity):
        return 100.0 * _fall(peak, equity)
    return np.where(peak > 0, 100.0 * drawdown(peak, equity), np.where(equity < peak, 100.0, 0.0))


def _positive_ints(base: np.ndarray, other: np.ndarray) -> bool:
    """Integer arrays (finite by type) whose ``base`` is positive everywhere: every mask of
    :func:`_relative` is true, so the difference and the division can run unmasked, with the
    same operations on the same types and so the same bits (tests/test_stats.py). This is the
    kernel's case, once or twice per step on every agent's cash equity; 0-d inputs keep the
    general path (it returns arrays, the unmasked arithmetic scalars)."""
    return (
        base.dtype.kind in "iu"
        and other.dtype.kind in "iu"
        and base.ndim > 0
        and other.ndim > 0
        and not np.count_nonzero(base <= 0)
    )


def _fall(peak: np.ndarray, equity: np.ndarray) -> np.ndarray:
    """:func:`drawdown` where :func:`_positive_ints` holds: ``(peak − equity) / peak``, ≥ 0."""
    out = np.subtract(peak, equity) / peak
    np.maximum(out, 0.0, out=out)
    return out


def _relative(
    a: np.ndarray, b: np.ndarray, base: np.ndarray, ok: np.ndarray, undefined: float
) -> np.ndarray:
    """``float64`` ``(a − b) / base`` where ``ok``, else ``undefined``. The difference is
    taken in the inputs' own type, so integer cash subtracts exactly (at any size, not only
    below 2**53), and then divided once in float64."""
    diff = np.zeros(ok.shape, np.result_type(a, b))
    np.subtract(a, b, out=diff, where=ok)
    out = np.full(ok.shape, undefined)
    np.divide(diff, base, out=out, where=ok)
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

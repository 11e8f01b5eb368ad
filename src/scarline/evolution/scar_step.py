"""The per-step arithmetic of :class:`~scarline.evolution.scars.ScarTracker`, compiled.

At N = 4096 the step's twenty-odd numpy calls (trust's moments, the peak, the drawdown, the
scar and ruin masks) cost ~75 µs, most of it call overhead and passes over memory; one
compiled loop does them in one pass. The rule that keeps replay exact: every element takes
the same IEEE operations, in the same order and the same types, as the numpy reference
(``ScarTracker._measure_numpy``): integer differences in int64, each product and sum rounded
on its own (numba without ``fastmath`` contracts nothing into a fused multiply-add), an int64
compared with a float64 as float64. ``tests/evolution/test_scar_step.py`` checks the bits on
random paths. Inputs outside that contract (non-int64 equity) take the numpy reference.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def scar_step(
    prev: np.ndarray,
    equity: np.ndarray,
    realized: np.ndarray,
    last_realized: np.ndarray,
    alive: np.ndarray,
    sensitivity: np.ndarray,
    ruin: np.ndarray,
    peak: np.ndarray,
    mean: np.ndarray,
    var: np.ndarray,
    alpha: float,
    drawdown_pct: float,
    trade_loss_pct: float,
    drawdown: np.ndarray,
    trade_loss: np.ndarray,
    by_dd: np.ndarray,
    scarred: np.ndarray,
    dying: np.ndarray,
) -> tuple[int, int, bool]:
    """Move trust's moments and the peaks in place; fill the step's drawdown %, trade-loss %
    (only when some realized PnL changed), drawdown-scar, scar and ruin masks. Returns
    (scars, deaths, whether any realized PnL changed)."""
    n = equity.shape[0]
    keep = 1.0 - alpha
    traded = False
    for i in range(n):
        if realized[i] != last_realized[i]:
            traded = True
            break
    n_scarred = 0
    n_dying = 0
    for i in range(n):
        p, e = prev[i], equity[i]
        ret = (e - p) / p if p > 0 else 0.0  # period_return(undefined=0.0)
        m = mean[i] * keep
        m = m + alpha * ret
        mean[i] = m
        dev = ret - m
        sq = dev * dev
        sq = sq * alpha
        v = var[i] * keep
        var[i] = v + sq
        pk = max(peak[i], e)
        peak[i] = pk
        # drawdown_pct: without a positive peak, 100 below it and 0 at it
        dd = 100.0 * max((pk - e) / pk, 0.0) if pk > 0 else (100.0 if e < pk else 0.0)
        drawdown[i] = dd
        d = alive[i] and dd * sensitivity[i] >= drawdown_pct
        by_dd[i] = d
        s = d
        if traded:
            loss = (100.0 * -(realized[i] - last_realized[i])) / max(p, 1)
            trade_loss[i] = loss
            s = d or (alive[i] and loss * sensitivity[i] >= trade_loss_pct)
        scarred[i] = s
        n_scarred += s
        dies = alive[i] and e <= ruin[i]
        dying[i] = dies
        n_dying += dies
    return n_scarred, n_dying, traded


def warm_up() -> None:
    """Compile (or load from numba's cache) :func:`scar_step` on a one-agent call: the first
    call of a process costs ~0.3 s, which belongs to building a kernel, not to its first
    step. Later calls return at once."""
    if scar_step.signatures:
        return
    one, zero = np.ones(1, np.int64), np.zeros(1, np.int64)
    f, b = np.zeros(1), np.zeros(1, dtype=bool)
    scar_step(
        one, one, zero, zero, b, f, f, one.copy(), f.copy(), f.copy(), 0.5, 1.0, 1.0,
        f.copy(), f.copy(), b.copy(), b.copy(), b.copy(),
    )  # fmt: skip

"""The per-step arithmetic of :class:`~scarline.evolution.behaviour.BehaviourTracker`, compiled.

At N = 4096 the tracker's step (a masked return, its sums, the peak, the drawdown, the
exposure counts) was a dozen numpy calls and their masks: ~0.25 ms a step of an evolving
run, every step. One compiled loop does it in one pass. The rule that keeps replay exact:
every element takes the same IEEE operations, in the same order and types, as the numpy
reference (``BehaviourTracker._update_numpy``): the return and the drawdown are defined only
where both values are finite and the base positive (else 0), each product and sum rounded on
its own (numba without ``fastmath`` contracts nothing into a fused multiply-add), each
maximum numpy's (a NaN on either side wins; of two equal values, the second: the sign of a
zero), a float32 exposure compared as float64.
``tests/evolution/test_behaviour_step.py`` checks the bits on random inputs, NaN and
infinities included.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def behaviour_step(
    equity: np.ndarray,
    exposure: np.ndarray,
    last: np.ndarray,
    total: np.ndarray,
    total_sq: np.ndarray,
    peak: np.ndarray,
    max_dd: np.ndarray,
    changes: np.ndarray,
    long_steps: np.ndarray,
    held: np.ndarray,
    age: np.ndarray,
) -> None:
    """One step of every slot, in place: ``equity`` (float64) and ``exposure`` now held."""
    for i in range(equity.shape[0]):
        e = equity[i]
        p = last[i]
        ret = (e - p) / p if np.isfinite(p) and np.isfinite(e) and p > 0 else 0.0
        total[i] += ret
        total_sq[i] += ret * ret
        top = peak[i]
        if top == top and (e != e or e >= top):  # np.maximum: a NaN wins, a tie takes e
            top = e
        peak[i] = top
        fall = 0.0
        if np.isfinite(e) and np.isfinite(top) and top > 0:
            fall = (top - e) / top
            fall = fall if fall > 0.0 else 0.0  # np.maximum(fall, 0.0): a zero is +0.0
        worst = max_dd[i]
        if worst == worst and (fall != fall or fall >= worst):
            worst = fall
        max_dd[i] = worst
        x = np.float64(exposure[i])
        if x != held[i]:
            changes[i] += 1
        if x > 0:
            long_steps[i] += 1
        held[i] = x
        last[i] = e
        age[i] += 1

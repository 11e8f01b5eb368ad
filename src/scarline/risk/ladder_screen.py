"""The ladder's per-step screen, compiled: which agents could reach their next level.

Without a recovery rule levels only rise, so most steps only need to know that nobody's
drawdown reached the next threshold. In numpy that is seven passes over N (the peak, a
difference, three products, a gather, a compare) and a count; here it is one loop. The
screen is conservative by a hair (``hair`` < 1 shrinks the threshold) and the rows it
finds take the exact path, so the screen decides only which rows are re-examined; it still
takes numpy's operations in numpy's order, so it finds the same rows
(``tests/risk/test_ladder_screen.py``).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def peaks_and_screen(
    peak: np.ndarray, equity: np.ndarray, next_dd: np.ndarray, level: np.ndarray, hair: float,
    hit: np.ndarray,
) -> int:  # fmt: skip
    """Raise ``peak`` to ``equity`` in place; ``hit[i]`` = agent i's fall from its peak, in
    %, reached ``next_dd[level[i]]`` (times ``hair``). Returns how many hit."""
    hits = 0
    for i in range(equity.shape[0]):
        pk = max(peak[i], equity[i])
        peak[i] = pk
        h = (pk - equity[i]) * 100.0 >= next_dd[level[i]] * (pk * hair)
        hit[i] = h
        hits += h
    return hits


def warm_up() -> None:
    """Load the compiled screen (~0.3 s once per process) when a ladder is built."""
    if peaks_and_screen.signatures:
        return
    one = np.ones(1, np.int64)
    peaks_and_screen(one, one.copy(), np.ones(4), np.zeros(1, np.int8), 1.0, np.zeros(1, bool))

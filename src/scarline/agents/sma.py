"""SMA crossover agents: long when the fast average is above the slow one, else flat.

The classic textbook rule, vectorized: one moving-average table per distinct window is
computed once (causally: row t averages rows t-w+1..t), and every agent gathers its own
pair at each step, so N agents cost one gather, not N loops.
"""

from __future__ import annotations

import numpy as np

from scarline.market.frame import MarketData


def rolling_mean(x: np.ndarray, window: int) -> np.ndarray:
    """Causal mean of the last ``window`` rows of ``x[T, M]``; NaN until full or if any NaN."""
    t_n = x.shape[0]
    out = np.full(x.shape, np.nan)
    if window > t_n:
        return out
    nan = np.isnan(x)
    filled = np.where(nan, 0.0, x)
    csum = np.concatenate([np.zeros((1, x.shape[1])), np.cumsum(filled, axis=0)])
    cnan = np.concatenate([np.zeros((1, x.shape[1])), np.cumsum(nan, axis=0)])
    sums = csum[window:] - csum[:-window]
    gaps = cnan[window:] - cnan[:-window]
    out[window - 1 :] = np.where(gaps > 0, np.nan, sums / window)
    return out


def crossover_pairs(fast: list[int], slow: list[int]) -> list[tuple[int, int]]:
    """Every (fast, slow) combination with fast < slow, in a stable order."""
    return [(f, s) for f in fast for s in slow if f < s]


class SmaCrossover:
    name = "sma-crossover"

    def __init__(
        self,
        market: MarketData,
        pairs: list[tuple[int, int]],
        order_qty: int = 1,
        first_agent_id: int = 0,
    ) -> None:
        if not pairs:
            raise ValueError("sma-crossover needs at least one (fast, slow) pair with fast < slow")
        windows = sorted({w for pair in pairs for w in pair})
        close = market.prices("close")
        # [T, W, M]: row t holds every window's average at t; NaN (not yet full) compares False.
        self._table = np.ascontiguousarray(np.stack([rolling_mean(close, w) for w in windows], 1))
        index = {w: i for i, w in enumerate(windows)}
        self._fast = np.array([index[f] for f, _ in pairs])
        self._slow = np.array([index[s] for _, s in pairs])
        self._order_qty = order_qty
        self.pairs = pairs
        self.agent_ids = np.arange(first_agent_id, first_agent_id + len(pairs), dtype=np.int64)

    def decide(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        row = self._table[t]
        actions = (row[self._fast] > row[self._slow]).astype(np.int8)  # [N, M]
        return actions, actions.astype(np.int64) * self._order_qty

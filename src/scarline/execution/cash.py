"""Cash cap for buys: an agent cannot spend more than it has on opening a position.

Per agent, buys are paid in ``order_id`` order out of the agent's available cash; every buy
that fits is filled in full, the first that does not is cut to the largest affordable
quantity, and the later ones get nothing. Vectorized as a cumulative sum per agent group
(rows sorted by agent, then order_id) and a bisection on the quantity of the cut rows, so
fee and slippage models stay free to be any non-decreasing function of size.

From schema 15 the part of a buy that covers a short (:func:`covering_lots`) is not held to
cash: a broker never refuses a buy-to-cover, the account goes into debit instead, and a
short that outran the account would otherwise stay open and lose without bound.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def group_starts(key: np.ndarray) -> np.ndarray:
    """``int64[B]``: index of the first row of each row's run of equal ``key`` (sorted rows)."""
    n = key.size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    first = np.r_[True, key[1:] != key[:-1]]
    return np.maximum.accumulate(np.where(first, np.arange(n), 0))


def covering_lots(key: np.ndarray, alloc: np.ndarray, short: np.ndarray) -> np.ndarray:
    """``int64[B]``: the lots of each buy that cover a short, ``min(alloc, short left)``.

    Rows are one agent's buys in ``order_id`` order per agent (any order of agents); ``key``
    names the (agent, instrument) cell of each row, ``alloc`` the lots it may fill at this
    bar and ``short`` the cell's short at the bar's start (lots >= 0). A row covers what the
    cell's earlier buys at this bar left of that short, so a flip (short 10, buy 20) covers
    10 and opens 10, and two buys of 6 against a short of 10 cover 6 and 4.
    """
    order = np.argsort(key, kind="stable")  # (cell, order_id): each cell's buys in id order
    a = alloc[order]
    before = np.cumsum(a) - a
    before = before - before[group_starts(key[order])]
    out = np.empty_like(alloc)
    out[order] = np.clip(short[order] - before, 0, a)
    return out


def affordable_prefix(
    agent: np.ndarray, cost: np.ndarray, budget: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows sorted by (agent, order_id): ``(full, cut, left)``.

    ``cost``: ``int64[B]`` >= 0 of filling each row in full; ``budget``: ``int64[B]``, the
    row's agent's available cash. ``full``: the row fits after all earlier rows of its
    agent; ``cut``: the first row of its agent that does not fit; ``left``: cash left for
    a row after the earlier rows of its agent.
    """
    spent = np.cumsum(cost)
    before = spent - cost
    start = group_starts(agent)
    before = before - before[start]
    full = before + cost <= budget
    first = start == np.arange(agent.size)
    prev_full = np.r_[True, full[:-1]]
    cut = ~full & (first | prev_full)
    return full, cut, budget - before


def largest_affordable(
    cost_of: Callable[[np.ndarray], np.ndarray],
    hi: np.ndarray,
    left: np.ndarray,
    hi_cost: np.ndarray | None = None,
) -> np.ndarray:
    """``int64[C]``: the largest ``q`` in ``[0, hi)`` with ``cost_of(q) <= left`` (q = 0 is free).

    ``cost_of`` must be non-decreasing in ``q``; ``hi`` is known unaffordable. With
    ``hi_cost = cost_of(hi)`` the search first tries ``q = left / (cost per lot at hi)``
    and its neighbour, which settles a nearly linear cost (the usual one) in two calls
    instead of ~log2(hi); bisection finds the rest. The answer is the same either way.
    """
    lo = np.zeros(hi.shape, dtype=np.int64)
    hi = np.asarray(hi, dtype=np.int64).copy()
    if hi_cost is not None and hi.size:
        per_lot = np.maximum(np.asarray(hi_cost, dtype=np.float64), 1.0) / np.maximum(hi, 1)
        guess = np.clip(np.floor(left / per_lot), 0, np.maximum(hi - 1, 0)).astype(np.int64)
        ok = cost_of(guess) <= left
        ok_next = cost_of(guess + 1) <= left
        lo = np.where(ok, np.where(ok_next, guess + 1, guess), lo)
        hi = np.where(ok, np.where(ok_next, hi, guess + 1), guess)
    while True:
        open_ = hi - lo > 1
        if not open_.any():
            return lo
        mid = (lo + hi) // 2
        ok = cost_of(mid) <= left
        lo = np.where(open_ & ok, mid, lo)
        hi = np.where(open_ & ~ok, mid, hi)

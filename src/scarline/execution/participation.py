"""Participation cap: how a bar's limited liquidity is shared among competing orders.

Agents compete for liquidity. All orders that could fill on the same side of the same
instrument at one bar form a group; when they want more than the group's cap, each gets
``floor(requested * cap / total)`` lots and the leftover lots go one each to the largest
remainders (ties by row order, i.e. by ``order_id``) — the largest-remainder (Hamilton)
method, exact in integers and deterministic.
"""

from __future__ import annotations

import numpy as np

_REL_TOL = 1e-12
SHARE_SCALE = 1.0 + _REL_TOL
"""The factor :func:`share_lots` applies after the share (the compiled bar passes it in)."""


def share_lots(share: float, volume: np.ndarray) -> np.ndarray:
    """``int64``: ``floor(share * volume)`` lots, tolerant of float error (0.29 * 100 is 29)."""
    return np.floor(share * np.asarray(volume) * SHARE_SCALE).astype(np.int64)


def pro_rata(requested: np.ndarray, group: np.ndarray, cap: np.ndarray) -> np.ndarray:
    """``int64[K]`` lots allocated to each row.

    ``requested``: ``int64[K]`` >= 0; ``group``: ``int64[K]`` in ``[0, G)``; ``cap``:
    ``int64[G]`` >= 0. A group whose total fits its cap gets exactly what it asked for;
    otherwise the allocations sum to the cap, none exceeds its request, and each is within
    one lot of ``requested * cap / total``. ``requested * cap`` must fit in int64.
    """
    requested = np.asarray(requested, dtype=np.int64)
    group = np.asarray(group, dtype=np.int64)
    cap = np.asarray(cap, dtype=np.int64)
    if requested.size == 0:
        return requested.copy()
    if (requested < 0).any() or (cap < 0).any():
        raise ValueError("pro_rata: requested and cap must be >= 0")
    total = np.zeros(cap.shape[0], dtype=np.int64)
    np.add.at(total, group, requested)
    over_group = total > cap
    if not over_group.any():
        return requested.copy()
    over = over_group[group]
    g_total = total[group]
    g_cap = cap[group]
    scaled = requested * g_cap
    safe_total = np.where(over, g_total, 1)
    base = np.where(over, scaled // safe_total, requested)
    rem = np.where(over, scaled % safe_total, 0)
    given = np.zeros(cap.shape[0], dtype=np.int64)
    np.add.at(given, group, base)
    leftover = np.where(over_group, cap - given, 0)
    # Only rows with a remainder can get a leftover lot (there are always more of them than
    # leftover lots): rank those within their group, largest remainder first, then row order.
    rows = np.flatnonzero(rem > 0)
    extra = np.zeros(requested.size, dtype=np.int64)
    if rows.size:
        g, r = group[rows], rem[rows]
        order = _rank_order(g, r)
        sorted_group = g[order]
        starts = np.flatnonzero(np.r_[True, sorted_group[1:] != sorted_group[:-1]])
        rank = np.arange(rows.size) - np.repeat(starts, np.diff(np.r_[starts, rows.size]))
        extra[rows[order]] = rank < leftover[sorted_group]
    return base + extra


def _rank_order(group: np.ndarray, rem: np.ndarray) -> np.ndarray:
    """Order by (group, -rem, row): one sort of unique int64 keys when they fit (faster than
    a stable or lexicographic sort, and unique keys make any sort deterministic)."""
    span, n = int(rem.max()) + 1, rem.size
    if (int(group.max()) + 1) * span * n < 2**62:
        key = (group * span + (span - 1 - rem)) * n + np.arange(n)
        return np.argsort(key)
    return np.lexsort((-rem, group))

"""Each row's k nearest distances, exactly as ``torch.cdist`` computes them, without its matrix.

Novelty (:mod:`scarline.evolution.novelty`) is the mean distance of an agent's behaviour to
its k nearest among the archive and the population; it decides who breeds, so its bits are
part of a run and its replay. They are ``torch.cdist``'s (``donot_use_mm_for_euclid_dist``:
``sqrt`` of a sum of squared differences), whose sum the compiler orders as it likes: on this
build the squares are added one after the other, but the last of an odd count is fused into
a multiply-add. The whole ``[N, A + N]`` matrix took ~50 ms at N = 4096 and the k smallest
of each row another ~18 ms, every life cycle.

Here a compiled pass sums each pair's squares itself, in order and unfused, and keeps as a
row's *candidates* every other point whose sum is within :data:`MARGIN` (relative) of the
row's k-th smallest.
Then ``torch.cdist`` computes the candidates' distances, pair by pair: a pair's distance is
the same whatever else is in the call (``tests/evolution/test_nearest.py``), so the k
smallest of them are the matrix's.

Why the candidates hold the k nearest by torch's sums ``T``, given the pass's sums ``S``
with ``|S - T| <= eps * max(S, T)`` (two orders of the same non-negative terms, one of them
fused once: ``eps`` is a few units of 2**-52): let ``S_k`` be the k-th smallest ``S``. The
k points of smallest ``S`` have ``T <= S_k (1 + eps)``, so the k-th smallest ``T`` is at most
that, and each of the k nearest by ``T`` has ``S <= T (1 + eps) <= S_k (1 + eps)**2``, well
inside ``S_k (1 + MARGIN)``. A row with more candidates than the room made for them (many
exact ties, e.g. duplicates at distance 0) takes the whole row of ``torch.cdist``.
"""

from __future__ import annotations

import numpy as np
import torch
from numba import njit

MARGIN = 1e-9
"""Relative slack over the k-th smallest sum of squares: ~10**7 times the orders' gap."""

SPARE = 16
"""Candidates a row has room for beyond its k (near-ties); more take the full row."""

_MODE = "donot_use_mm_for_euclid_dist"  # exact differences: a duplicate is at 0 exactly


def k_nearest(z: np.ndarray, first: int, k: int) -> np.ndarray:
    """``float64[U - first, k]``: for each row ``first ..`` of ``z`` (``float64[U, D]``), the
    ``k`` smallest ``torch.cdist`` distances to the other rows of ``z`` (itself excluded,
    a duplicate not), ascending: :func:`k_nearest_reference`'s array."""
    u = z.shape[0]
    n = u - first
    if not 1 <= k <= u - 1:
        raise ValueError(f"k_nearest: k must be in [1, {u - 1}], got {k}")
    if n <= 0:
        return np.empty((0, k))
    z = np.ascontiguousarray(z, dtype=np.float64)
    width = min(k + SPARE, u - 1)
    cand = np.empty((n, width), dtype=np.int64)
    count = np.empty(n, dtype=np.int64)
    _candidates(np.ascontiguousarray(z.T), first, k, MARGIN, cand, count)
    kept = np.arange(width) < count[:, None]
    rows = np.arange(first, u)
    cand = np.where(kept, cand, rows[:, None])  # padding: the row itself, masked below
    zt = torch.from_numpy(z)
    dist = torch.cdist(zt[first:].unsqueeze(1), zt[torch.from_numpy(cand)], compute_mode=_MODE)
    d = dist.squeeze(1).numpy()
    d[~kept] = np.inf
    out = k_smallest(d, k)
    for r in np.flatnonzero(count > width):  # more near-ties than room: the whole row
        row = first + int(r)
        out[r] = k_nearest_reference(z, row, k, stop=row + 1)[0]
    return out


def warm_up() -> None:
    """Load the compiled passes (numba's cache, ~0.4 s once per process) when an archive is
    made, not in the first life cycle of a run or a live session."""
    if not _candidates.signatures:
        k_nearest(np.arange(8.0).reshape(4, 2), 0, 1)


def k_smallest(d: np.ndarray, k: int) -> np.ndarray:
    """``float64[R, k]``: each row's ``k`` smallest values, ascending; the same array as
    ``np.sort(np.partition(d, k - 1, axis=1)[:, :k], axis=1)`` (the same values: selection
    and sorting only compare) for rows without NaN, in one compiled pass: numpy's partition
    of a 4096 x 6144 distance matrix took ~0.18 s of every life cycle at N = 4096."""
    if not 1 <= k <= d.shape[1]:
        raise ValueError(f"k_smallest: k must be in [1, {d.shape[1]}], got {k}")
    out = np.empty((d.shape[0], k))
    _k_smallest(np.ascontiguousarray(d, dtype=np.float64), k, out)
    return out


def k_nearest_reference(z: np.ndarray, first: int, k: int, stop: int | None = None) -> np.ndarray:
    """:func:`k_nearest` from the whole distance matrix (rows ``first .. stop - 1``): what
    novelty computed before, kept for tests and for rows with many ties."""
    stop = z.shape[0] if stop is None else stop
    zt = torch.from_numpy(np.ascontiguousarray(z, dtype=np.float64))
    d = torch.cdist(zt[first:stop], zt, compute_mode=_MODE).numpy()
    d[np.arange(stop - first), np.arange(first, stop)] = np.inf  # not itself
    return k_smallest(d, k)


_BLOCK = 64
"""Columns whose least squared distance one vectorized pass finds (see :func:`_candidates`)."""


@njit(cache=True, nogil=True)
def _candidates(
    z_t: np.ndarray, first: int, k: int, margin: float, cand: np.ndarray, count: np.ndarray
) -> None:
    """For each row ``first + r`` of the points ``z_t`` (``float64[D, U]``, a point a
    column): the columns whose sum of squared differences is within ``margin`` (relative)
    of the row's k-th smallest, itself excluded, into ``cand[r]`` (as many as fit) and how
    many into ``count[r]``.

    The sums run over the D coordinates in order, for a block of columns at once. The
    k-th smallest is found among a few: the least of each block of :data:`_BLOCK` columns
    are distinct columns, so the k-th smallest of those leasts bounds the row's k-th
    smallest from above, and only the ~k columns at or under the bound are looked at one
    by one. Squared distances are non-negative, so their bits order as integers do, which
    the compiler takes the least of in vector registers (floats it would take one by one)."""
    u = z_t.shape[1]
    dist = np.empty(u)
    bits = dist.view(np.int64)
    full = u - u % _BLOCK
    leasts = np.empty(full // _BLOCK + _BLOCK)  # a block's least, or a column of the tail
    least_bits = leasts.view(np.int64)
    near = np.empty(u, dtype=np.int64)
    near_dist = np.empty(u)
    buf = np.empty(k)
    for r in range(count.shape[0]):
        me = first + r
        _squared_distances(z_t, me, full, dist)
        dist[me] = np.inf
        m = 0
        for start in range(0, full, _BLOCK):
            least_bits[m] = _least(bits, start)
            m += 1
        for j in range(full, u):
            leasts[m] = dist[j]
            m += 1
        bound = np.inf
        if m >= k:
            _smallest_into(leasts[:m], buf)
            bound = buf[k - 1] * (1.0 + margin)
        c = 0
        for start in range(0, u, _BLOCK):  # the few at or under the bound
            if start < full and not _any_at_most(dist, start, bound):
                continue
            for j in range(start, min(start + _BLOCK, u)):
                if dist[j] <= bound and j != me:
                    near[c] = j
                    near_dist[c] = dist[j]
                    c += 1
        _smallest_into(near_dist[:c], buf)  # c >= k: the k leasts are among them
        limit = buf[k - 1] * (1.0 + margin)
        kept = 0
        room = cand.shape[1]
        for q in range(c):
            if near_dist[q] <= limit:
                if kept < room:
                    cand[r, kept] = near[q]
                kept += 1
        count[r] = kept


@njit(cache=True, nogil=True, inline="always")
def _squared_distances(z_t: np.ndarray, me: int, full: int, dist: np.ndarray) -> None:
    """``dist[j]``: the sum over coordinates, in order, of ``(z_t[x, j] - z_t[x, me])**2``;
    fixed-length blocks of columns (a loop to a variable end vectorized ~8x worse)."""
    d, u = z_t.shape
    for start in range(0, full, _BLOCK):
        block = dist[start : start + _BLOCK]
        block[:] = 0.0
        for x in range(d):
            coord = z_t[x, start : start + _BLOCK]
            mine = z_t[x, me]
            for j in range(_BLOCK):
                e = coord[j] - mine
                block[j] += e * e
    for j in range(full, u):
        total = 0.0
        for x in range(d):
            e = z_t[x, j] - z_t[x, me]
            total += e * e
        dist[j] = total


@njit(cache=True, nogil=True, inline="always")
def _least(bits: np.ndarray, start: int) -> np.int64:
    """The least of the :data:`_BLOCK` integers from ``start``, in eight running leasts
    (one running least took ~2x as long: each step waited on the last)."""
    b = bits[start : start + _BLOCK]
    l0, l1, l2, l3, l4, l5, l6, l7 = b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]
    for j in range(8, _BLOCK, 8):
        l0, l1, l2, l3 = min(l0, b[j]), min(l1, b[j + 1]), min(l2, b[j + 2]), min(l3, b[j + 3])
        l4, l5, l6, l7 = min(l4, b[j + 4]), min(l5, b[j + 5]), min(l6, b[j + 6]), min(l7, b[j + 7])
    return min(min(min(l0, l1), min(l2, l3)), min(min(l4, l5), min(l6, l7)))


@njit(cache=True, nogil=True, inline="always")
def _any_at_most(dist: np.ndarray, start: int, bound: float) -> bool:
    """Whether any of the :data:`_BLOCK` values from ``start`` is at most ``bound``: a
    fixed count of comparisons, which the compiler vectorizes."""
    block = dist[start : start + _BLOCK]
    hits = 0
    for j in range(_BLOCK):
        hits += block[j] <= bound
    return hits > 0


@njit(cache=True, nogil=True)
def _smallest_into(values: np.ndarray, buf: np.ndarray) -> None:
    """The ``len(buf)`` smallest of ``values``, ascending, into ``buf`` (NaN-free values):
    insertion into a sorted buffer, which a value enters only when below its largest."""
    k = buf.shape[0]
    filled = 0
    for v in values:
        if filled == k:
            if not v < buf[k - 1]:
                continue
            i = k - 1
        else:
            i = filled
            filled += 1
        while i > 0 and buf[i - 1] > v:
            buf[i] = buf[i - 1]
            i -= 1
        buf[i] = v


@njit(cache=True, nogil=True)
def _k_smallest(d: np.ndarray, k: int, out: np.ndarray) -> None:
    """Each row's ``k`` smallest of ``d``, ascending, into ``out``."""
    for r in range(d.shape[0]):
        _smallest_into(d[r], out[r])

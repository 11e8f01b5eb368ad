"""The first-order linear recursion behind the EWMAs: ``scipy.signal.lfilter``'s, compiled.

``y_t = b0 · x_t + z_{t-1}``, ``z_t = x_t · 0 - y_t · a1`` is what ``lfilter([b0], [1, a1])``
computes (its transposed direct form, ``b`` padded with a zero), operation for operation:
numba contracts nothing into a fused multiply-add without ``fastmath``, so every value is
the same double, signed zeros included (``tests/test_filters.py`` compares the bits), where
scipy's build does not fuse them either (x86-64's; an aarch64 build may, and replay is only
promised on the instruction set that recorded a run, DESIGN.md). It runs in time order, so a
prefix of ``x`` gives a bit-identical prefix of ``y``.

Why not ``lfilter`` itself: importing ``scipy.signal`` costs ~1 s, paid by every process
that builds a kernel (the slippage's volatility is such an EWMA), and the loop is ~15x faster
on a ``[T, M]`` table.
"""

from __future__ import annotations

import numpy as np
from numba import njit


def first_order(x: np.ndarray, b0: float, a1: float, zi: np.ndarray | None = None) -> np.ndarray:
    """``lfilter([b0], [1.0, a1], x, axis=0, zi=zi)`` (its output only) for ``x[T, ...]``:
    ``zi`` (the trailing shape of ``x``) is the state before row 0, zeros when None."""
    x = np.asarray(x, dtype=np.float64)
    if x.shape[0] == 0:
        return x.copy()
    flat = np.ascontiguousarray(x.reshape(x.shape[0], -1))
    if zi is not None and np.shape(zi) != x.shape[1:]:
        raise ValueError(f"zi has shape {np.shape(zi)}, the series {x.shape[1:]}")
    z0 = np.zeros(flat.shape[1]) if zi is None else np.asarray(zi, np.float64).reshape(-1)
    return _first_order(flat, float(b0), float(a1), z0.copy()).reshape(x.shape)


@njit(cache=True)
def _first_order(x: np.ndarray, b0: float, a1: float, z: np.ndarray) -> np.ndarray:
    out = np.empty_like(x)
    for t in range(x.shape[0]):
        for j in range(x.shape[1]):
            xv = x[t, j]
            y = z[j] + b0 * xv
            out[t, j] = y
            z[j] = xv * 0.0 - y * a1
    return out

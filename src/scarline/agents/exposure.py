"""A Q-network group's exposure matrix from its actions, in one compiled pass.

Each agent trades one instrument: its row of the ``float32[N, M]`` exposure holds
``levels[action] * cap`` in that instrument's column and zeros elsewhere; a parked row (a
live session's empty slot) is all zeros. In numpy that was a fancy-indexed gather, a
multiply, a scatter and a masked fill, ~60 µs a step at N = 4096 beside the zeros. Each cell
is the same float32 product, so the matrix is the same bits (``tests/agents/test_exposure.py``).
"""

from __future__ import annotations

import numpy as np
from numba import njit


def exposure_of(
    action: np.ndarray,
    levels: np.ndarray,
    cap: np.ndarray,
    instrument: np.ndarray,
    parked: np.ndarray | None,
    n_instruments: int,
) -> np.ndarray:
    """``float32[N, M]``: agent i's ``levels[action[i]] * cap[i]`` at column
    ``instrument[i]`` (``float32`` levels and caps, ``int64`` actions and instruments, all
    in range), zero elsewhere and on ``parked`` rows."""
    n = action.shape[0]
    out = np.zeros((n, n_instruments), dtype=np.float32)
    if parked is None:
        _fill(action, levels, cap, instrument, _NONE, False, out)
    else:
        _fill(action, levels, cap, instrument, parked, True, out)
    return out


_NONE = np.zeros(0, dtype=np.bool_)


@njit(cache=True, error_model="numpy")
def _fill(
    action: np.ndarray, levels: np.ndarray, cap: np.ndarray, instrument: np.ndarray,
    parked: np.ndarray, has_parked: bool, out: np.ndarray,
) -> None:  # fmt: skip
    for i in range(action.shape[0]):
        if has_parked and parked[i]:
            continue
        out[i, instrument[i]] = levels[action[i]] * cap[i]

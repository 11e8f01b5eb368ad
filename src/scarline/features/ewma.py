"""The exponentially weighted running sum behind RSI and the online normalizer."""

from __future__ import annotations

import numpy as np


def ew_sum(x: np.ndarray, decay: float) -> np.ndarray:
    """``s_t = decay * s_{t-1} + x_t`` along axis 0 with ``s_{-1} = 0``, for ``x[T, ...]``.

    The recursion runs compiled in time order (``lfilter``'s, :mod:`scarline.filters`;
    ``cumsum`` when ``decay == 1``), so row t depends on rows <= t only and a prefix of ``x``
    gives a bit-identical prefix of s.
    ``x`` must be NaN-free: callers put 0 where there is no observation.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.shape[0] == 0:
        return x.copy()
    if decay == 1.0:
        return np.cumsum(x, axis=0)
    from scarline.filters import first_order  # numba, loaded when first used

    return first_order(x, 1.0, -decay)


def halflife_decay(halflife: float) -> float:
    """Per-row weight decay so that a row's weight halves every ``halflife`` rows."""
    return float(0.5 ** (1.0 / halflife))

"""The committed regime: hysteresis on the filtered probabilities, so one noisy bar never flips it.

The committed regime changes to state s at bar t exactly when s is not the committed regime
and ``probs[u, s] >= confidence`` for the ``hysteresis`` bars u = t-h+1 … t (all at or after
``start``). With ``confidence > 0.5`` at most one state can be confident at a bar, so the
rule is unambiguous; below 0.5 the most probable state is the candidate.
"""

from __future__ import annotations

import msgspec
import numpy as np


class Transition(msgspec.Struct, frozen=True):
    """The committed regime went from ``from_regime`` to ``to_regime`` at bar ``step``.

    ``confidence`` is the filtered probability of ``to_regime`` at that bar. A Struct so
    the kernel can write it to the WAL as it is.
    """

    step: int
    from_regime: int
    to_regime: int
    confidence: float


def commit(
    probs: np.ndarray,
    confidence: float,
    hysteresis: int,
    *,
    start: int = 0,
    initial: int = 0,
) -> np.ndarray:
    """``int64[T]`` committed regimes; bars before ``start`` (no model yet) keep ``initial``."""
    if hysteresis < 1:
        raise ValueError(f"hysteresis must be >= 1, got {hysteresis}")
    probs = np.asarray(probs, dtype=np.float64)
    n = probs.shape[0]
    best = probs.argmax(axis=1) if n else np.zeros(0, dtype=np.int64)
    sure = probs[np.arange(n), best] >= confidence
    labels = np.full(n, initial, dtype=np.int64)
    committed, candidate, streak = initial, -1, 0
    for t in range(max(start, 0), n):
        s = int(best[t])
        if sure[t] and s != committed:
            streak = streak + 1 if s == candidate else 1
            candidate = s
            if streak >= hysteresis:
                committed, candidate, streak = s, -1, 0
        else:
            candidate, streak = -1, 0
        labels[t] = committed
    return labels


def transitions(labels: np.ndarray, confidence: np.ndarray) -> list[Transition]:
    """Every change of ``labels`` (``int64[T]``), with ``confidence[t]`` at the bar it happened."""
    labels = np.asarray(labels)
    steps = np.flatnonzero(labels[1:] != labels[:-1]) + 1
    return [
        Transition(
            step=int(t),
            from_regime=int(labels[t - 1]),
            to_regime=int(labels[t]),
            confidence=float(confidence[t]),
        )
        for t in steps
    ]

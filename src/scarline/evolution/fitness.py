"""Fitness: what selection maximizes.

``fitness = risk-adjusted return + lam × novelty``. Return alone lets the whole population
converge on the first lineage that got lucky, and a converged population can no longer
explore; the novelty bonus (:mod:`scarline.evolution.novelty`) keeps behaviourally different
lineages alive long enough to be tested. Dead agents (NaN Sharpe) get NaN: they never reproduce.
"""

from __future__ import annotations

import math

import numpy as np


def fitness(sharpe: np.ndarray, novelty: np.ndarray, lam: float) -> np.ndarray:
    """``sharpe + lam · novelty``, ``float64[N]``, NaN where ``sharpe`` is NaN (dead).

    A NaN novelty (not scored) counts as 0, so it never kills a living agent.
    """
    sharpe = np.asarray(sharpe, dtype=np.float64)
    novelty = np.asarray(novelty, dtype=np.float64)
    if sharpe.ndim != 1 or novelty.shape != sharpe.shape:
        raise ValueError(f"sharpe {sharpe.shape} and novelty {novelty.shape} must be equal [N]")
    if not (math.isfinite(lam) and lam >= 0):
        raise ValueError(f"lam must be finite and >= 0, got {lam}")
    bonus = lam * np.where(np.isnan(novelty), 0.0, novelty) if lam else 0.0
    return np.where(np.isnan(sharpe), np.nan, sharpe + bonus)

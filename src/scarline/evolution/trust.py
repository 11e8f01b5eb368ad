"""What trust does: a capital weight on exposure, or a preference in evolution's selection.

Trust (computed in :mod:`scarline.evolution.scars`) starts at :data:`START_TRUST` and moves
with an agent's risk-adjusted returns and scars. ``[scars] trust_weight`` decides its use:

* ``"none"``: recorded only (WAL, lineage, diary, report);
* ``"capital"``: each agent's exposure × its *capital weight*: trust relative to the start,
  clipped to [0, 1] and rounded to multiples of ``1 / trust_levels`` — an agent is never
  given more than it started with, a distrusted one gets less, and trust's every small move
  does not resize (and trade) positions;
* ``"selection"``: evolution scores parents and culls by fitness rank × relative trust, so
  among equally fit agents the trusted breed and the distrusted are replaced first.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

START_TRUST = 0.5
"""Trust of a newborn: sigma(0) with no scars (no returns yet)."""

TrustWeight = Literal["none", "capital", "selection"]


def relative_trust(trust: np.ndarray) -> np.ndarray:
    """``float64[N]`` trust / :data:`START_TRUST`, clipped to [0, 1]."""
    return np.clip(np.asarray(trust, dtype=np.float64) / START_TRUST, 0.0, 1.0)


def capital_weight(trust: np.ndarray, levels: int) -> np.ndarray:
    """``float64[N]`` relative trust rounded to a multiple of ``1 / levels``."""
    return np.rint(relative_trust(trust) * levels) / levels


def weigh(exposure: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """``float32[N, M]`` exposure × each row's weight. Always float32 (rule groups decide in
    int8), and ``+ 0.0`` turns ``-1 × 0`` into ``0.0``: decisions are compared bit for bit."""
    out = exposure.astype(np.float32) * weight.astype(np.float32)[:, None]
    out += np.float32(0.0)
    return out


def trusted_key(fitness: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Selection key ``rank × weight``: rank = 1 + the number of scored agents with a lower
    fitness (ties share a rank), so with every weight 1 the key orders agents exactly as
    fitness does; NaN (dead) stays NaN."""
    fitness = np.asarray(fitness, dtype=np.float64)
    scored = np.sort(fitness[np.isfinite(fitness)])
    rank = np.searchsorted(scored, fitness, side="left") + 1.0
    return np.where(np.isfinite(fitness), rank * weight, np.nan)

"""Novelty search: how different an agent's behaviour is from what has been seen before.

Novelty (Lehman & Stanley 2011, "Abandoning objectives") is the mean distance of an agent's
*behaviour descriptor* to its k nearest neighbours among the current population and an
archive of past behaviours. Rewarding it keeps the population from collapsing onto one
lineage that found the first local optimum. Descriptors are standardized with the mean and
standard deviation of archive ∪ population, so no unit (turnover vs drawdown) dominates.
"""

from __future__ import annotations

import numpy as np

from scarline.evolution.nearest import k_nearest, warm_up


def behaviour_descriptors(
    turnover: np.ndarray,
    holding_time: np.ndarray,
    long_fraction: np.ndarray,
    max_drawdown: np.ndarray,
    regime_returns: np.ndarray | None = None,
) -> np.ndarray:
    """Per-agent behaviour descriptors, ``float64[N, 4 + R]``; all inputs are per agent.

    Columns:

    0. ``turnover``: mean absolute change of the agent's exposure per step (how much it
       trades);
    1. ``log1p(holding_time)``: mean number of bars a position is held; log-scaled because
       holding times span orders of magnitude (1 → 2 bars is as different as 100 → 200);
    2. ``long_fraction``: share of steps the agent held a net long position;
    3. ``max_drawdown``: its worst peak-to-trough fall of equity, as a fraction in [0, 1];
    4. … ``regime_returns[:, r]`` (optional ``[N, R]``): its mean per-step return in each
       market regime r, i.e. *where* it makes or loses money.

    Non-finite values are an error naming the argument (pass living agents only).
    """
    columns = {
        "turnover": turnover,
        "holding_time": holding_time,
        "long_fraction": long_fraction,
        "max_drawdown": max_drawdown,
    }
    arrays = [np.asarray(v, dtype=np.float64) for v in columns.values()]
    n = arrays[0].shape[0] if arrays[0].ndim == 1 else -1
    for name, arr in zip(columns, arrays, strict=True):
        if arr.shape != (n,):
            raise ValueError(f"{name}: expected shape ({n},), got {arr.shape}")
        if not np.isfinite(arr).all():
            raise ValueError(f"{name}: non-finite values")
    if (arrays[1] < 0).any():
        raise ValueError("holding_time: negative values")
    arrays[1] = np.log1p(arrays[1])
    out = np.stack(arrays, axis=1)
    if regime_returns is not None:
        reg = np.asarray(regime_returns, dtype=np.float64)
        if reg.ndim != 2 or reg.shape[0] != n:
            raise ValueError(f"regime_returns: expected shape ({n}, R), got {reg.shape}")
        if not np.isfinite(reg).all():
            raise ValueError("regime_returns: non-finite values")
        out = np.concatenate([out, reg], axis=1)
    return out


class NoveltyArchive:
    """Past behaviours worth remembering, first in first out.

    ``k`` nearest neighbours define novelty; each :meth:`add` stores at most ``quota`` of the
    most novel rows whose novelty exceeds ``min_novelty``; at most ``capacity`` descriptors
    are kept (the oldest go first).
    """

    def __init__(
        self, k: int = 15, capacity: int = 2048, quota: int = 8, min_novelty: float = 0.0
    ) -> None:
        if k < 1 or capacity < 0 or quota < 0:
            raise ValueError(
                f"NoveltyArchive needs k >= 1, capacity >= 0, quota >= 0; got k={k}, "
                f"capacity={capacity}, quota={quota}"
            )
        self.k, self.capacity, self.quota, self.min_novelty = k, capacity, quota, min_novelty
        self._desc: np.ndarray | None = None
        warm_up()

    def __len__(self) -> int:
        return 0 if self._desc is None else self._desc.shape[0]

    @property
    def descriptors(self) -> np.ndarray:
        """The archived descriptors, oldest first (a copy), ``float64[A, D]``."""
        return np.empty((0, 0)) if self._desc is None else self._desc.copy()

    def _check(self, desc: np.ndarray) -> np.ndarray:
        desc = np.asarray(desc, dtype=np.float64)
        if desc.ndim != 2:
            raise ValueError(f"descriptors must be [N, D], got shape {desc.shape}")
        if self._desc is not None and desc.shape[1] != self._desc.shape[1]:
            raise ValueError(
                f"descriptors have {desc.shape[1]} columns, the archive {self._desc.shape[1]}"
            )
        if not np.isfinite(desc).all():
            raise ValueError("descriptors: non-finite values")
        return desc

    def score(self, desc: np.ndarray) -> np.ndarray:
        """Novelty of each row of ``desc``, ``float64[N]``.

        Mean Euclidean distance to the k nearest of archive ∪ population, itself excluded
        (fewer than k others: all of them; none: 0), on descriptors standardized with the
        union's mean and standard deviation (a constant column is left unscaled).
        """
        desc = self._check(desc)
        n = desc.shape[0]
        archive = self._desc if self._desc is not None else np.empty((0, desc.shape[1]))
        union = np.concatenate([archive, desc])
        k = min(self.k, union.shape[0] - 1)
        if n == 0 or k < 1:
            return np.zeros(n)
        std = union.std(axis=0)
        z = (union - union.mean(axis=0)) / np.where(std > 0, std, 1.0)
        return k_nearest(z, archive.shape[0], k).mean(axis=1)

    def add(self, desc: np.ndarray, novelty: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Archive the most novel rows (at most ``quota``); returns their rows, most novel first.

        Only rows with a finite novelty above ``min_novelty`` qualify; ties are broken by
        ``rng`` (N uniforms are always drawn). Then the archive is cut to ``capacity``, oldest
        out.
        """
        desc = self._check(desc)
        novelty = np.asarray(novelty, dtype=np.float64)
        if novelty.shape != (desc.shape[0],):
            raise ValueError(f"novelty: expected shape ({desc.shape[0]},), got {novelty.shape}")
        tie = rng.random(novelty.size)
        ok = np.isfinite(novelty) & (novelty > self.min_novelty)
        rows = np.flatnonzero(ok)
        rows = rows[np.lexsort((tie[rows], -novelty[rows]))][: self.quota].astype(np.int64)
        stacked = desc[rows] if self._desc is None else np.concatenate([self._desc, desc[rows]])
        self._desc = stacked[max(0, stacked.shape[0] - self.capacity) :]
        return rows

"""Probability of backtest overfitting by CSCV (Bailey, Borwein, López de Prado, Zhu).

Rows of ``performance`` [T, K] (per-period returns of K strategies) are cut
into S contiguous blocks; each of the C(S, S/2) choices of S/2 blocks is an
in-sample set, its complement the out-of-sample set.  For each split the
in-sample winner's out-of-sample relative rank ω̄ = rank / (K + 1) (rank 1 =
worst, ties averaged) gives the logit λ = log(ω̄ / (1 - ω̄)); PBO is the share
of splits with λ ≤ 0 (winner at or below the out-of-sample median).

The built-in metrics (:func:`scarline.stats.sharpe`, per period, ``ddof=1``, 0 without
variation; and ``mean``) are vectorized over all splits through per-block sums; any other
callable ``[rows, K] -> [K]`` is evaluated split by split (slow).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from scarline.stats import sharpe, sharpe_from_moments

Metric = Callable[[np.ndarray], np.ndarray]


def mean(x: np.ndarray) -> np.ndarray:
    """Mean of each column of ``x`` [rows, K]."""
    return x.mean(axis=0)


@dataclass(frozen=True)
class PboResult:
    pbo: float
    logits: np.ndarray  # [n_splits]
    n_splits: int
    n_blocks: int


def _splits(n_blocks: int) -> np.ndarray:
    """Boolean [C(S, S/2), S]: True where a block is in-sample."""
    combos = list(itertools.combinations(range(n_blocks), n_blocks // 2))
    mask = np.zeros((len(combos), n_blocks), dtype=bool)
    rows = np.repeat(np.arange(len(combos)), n_blocks // 2)
    mask[rows, np.asarray(combos).ravel()] = True
    return mask


def _vectorized(blocks: list[np.ndarray], mask: np.ndarray, metric: Metric) -> tuple:
    # Per-block sums of column-centred data (centring keeps the sum-of-squares
    # variance accurate when |mean| >> std), combined per split by matrix products.
    c = np.concatenate(blocks).mean(axis=0)  # [K]
    n = np.array([b.shape[0] for b in blocks], dtype=float)  # [S]
    s1 = np.stack([(b - c).sum(axis=0) for b in blocks])  # [S, K]
    s2 = np.stack([((b - c) ** 2).sum(axis=0) for b in blocks])
    out = []
    for m in (mask, ~mask):
        w = m.astype(float)  # [splits, S]
        cnt = (w @ n)[:, None]
        dev = (w @ s1) / cnt  # split mean minus c
        if metric is mean:
            out.append(dev + c)
            continue
        var = ((w @ s2) - cnt * dev**2) / (cnt - 1)
        out.append(sharpe_from_moments(dev + c, np.sqrt(np.maximum(var, 0.0)), cnt))
    return out[0], out[1]


def _looped(blocks: list[np.ndarray], mask: np.ndarray, metric: Metric) -> tuple:
    ins, oos = [], []
    for m in mask:
        ins.append(metric(np.concatenate([b for b, i in zip(blocks, m, strict=True) if i])))
        oos.append(metric(np.concatenate([b for b, i in zip(blocks, m, strict=True) if not i])))
    return np.asarray(ins, dtype=float), np.asarray(oos, dtype=float)


def pbo_cscv(performance: np.ndarray, n_blocks: int = 16, metric: Metric = sharpe) -> PboResult:
    """PBO of selecting the in-sample best of K strategies ([T, K] returns)."""
    x = np.asarray(performance, dtype=float)
    if x.ndim != 2:
        raise ValueError(f"performance must be [T, K], got shape {x.shape}")
    t, k = x.shape
    if k < 2:
        raise ValueError(f"need at least 2 strategies, got {k}")
    if n_blocks < 2 or n_blocks % 2:
        raise ValueError(f"n_blocks must be even and >= 2, got {n_blocks}")
    if t < 2 * n_blocks:
        raise ValueError(f"need at least 2 rows per block: T={t}, n_blocks={n_blocks}")
    if not np.all(np.isfinite(x)):
        raise ValueError("performance contains NaN or inf")
    blocks = np.array_split(x, n_blocks, axis=0)
    mask = _splits(n_blocks)
    fast = metric is sharpe or metric is mean
    perf_is, perf_oos = (_vectorized if fast else _looped)(blocks, mask, metric)
    # NaN metrics (a custom metric's undefined values) never win and rank lowest.
    perf_is = np.where(np.isnan(perf_is), -np.inf, perf_is)
    perf_oos = np.where(np.isnan(perf_oos), -np.inf, perf_oos)
    idx = np.arange(mask.shape[0])
    winner = np.argmax(perf_is, axis=1)
    w_oos = perf_oos[idx, winner][:, None]
    below = (perf_oos < w_oos).sum(axis=1)
    ties = (perf_oos == w_oos).sum(axis=1)  # includes the winner itself
    rank = below + (ties + 1) / 2.0  # average rank, 1..K
    omega = rank / (k + 1)
    logits = np.log(omega / (1.0 - omega))
    return PboResult(
        pbo=float(np.mean(logits <= 0)),
        logits=logits,
        n_splits=math.comb(n_blocks, n_blocks // 2),
        n_blocks=n_blocks,
    )

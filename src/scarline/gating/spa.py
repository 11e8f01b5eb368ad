"""Hansen's SPA test (via ``arch.bootstrap.SPA``) for gate G2.

Orientation.  arch's ``SPA(benchmark, models)`` takes *losses* and tests
H0: "no model beats the benchmark" (mean of benchmark − model losses ≤ 0 for
every model); a small p-value says some model has a lower loss than the
benchmark.  Our question is "does our strategy beat the baselines", so each
baseline is put in the *benchmark* slot and our strategy (or strategies) in the
*models* slot, with losses = −returns.  With K baselines we run K tests and
return the largest p-value: the strategy must beat every baseline
(intersection–union test, valid at level α without multiplicity correction).
Passing M candidate strategies ([T, M]) makes each test correct for the
search over the M candidates (White's reality check with Hansen's SPA).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from arch.bootstrap import SPA

Bootstrap = Literal["stationary", "sb", "circular", "cbb", "moving block", "mbb"]
"""The block bootstraps ``arch``'s SPA offers."""


def spa_pvalue(
    strategy_returns: np.ndarray,
    baseline_returns: np.ndarray,
    reps: int = 1000,
    seed: int | np.random.Generator | None = 0,
    block_size: int | None = None,
    bootstrap: Bootstrap = "stationary",
) -> float:
    """SPA p-value ('consistent') of H0 "the strategy does not beat every baseline".

    ``strategy_returns`` [T] or [T, M]; ``baseline_returns`` [T] or [T, K].
    Small p: the strategy beats every baseline.
    """
    return max(spa_pvalues(strategy_returns, baseline_returns, reps, seed, block_size, bootstrap))


def spa_pvalues(
    strategy_returns: np.ndarray,
    baseline_returns: np.ndarray,
    reps: int = 1000,
    seed: int | np.random.Generator | None = 0,
    block_size: int | None = None,
    bootstrap: Bootstrap = "stationary",
) -> list[float]:
    """One SPA p-value per baseline (column of ``baseline_returns``); see :func:`spa_pvalue`."""
    s = np.asarray(strategy_returns, dtype=float)
    b = np.asarray(baseline_returns, dtype=float)
    if s.ndim == 1:
        s = s[:, None]
    if b.ndim == 1:
        b = b[:, None]
    if s.ndim != 2 or b.ndim != 2:
        raise ValueError(f"expected [T] or [T, K] arrays, got {s.shape} and {b.shape}")
    if s.shape[0] != b.shape[0]:
        raise ValueError(f"length mismatch: strategy T={s.shape[0]}, baselines T={b.shape[0]}")
    if s.shape[0] < 10:
        raise ValueError(f"need at least 10 observations, got {s.shape[0]}")
    if not (np.all(np.isfinite(s)) and np.all(np.isfinite(b))):
        raise ValueError("returns contain NaN or inf")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    pvals = []
    for j in range(b.shape[1]):
        spa = SPA(-b[:, j], -s, block_size=block_size, reps=reps, bootstrap=bootstrap, seed=rng)
        spa.compute()
        pvals.append(float(spa.pvalues["consistent"]))
    return pvals


def market_beta(returns: np.ndarray, market: np.ndarray) -> float:
    """OLS slope of ``returns`` on ``market`` (with an intercept): the passive market exposure
    a strategy carried; 0 when the market did not move."""
    r, m = np.asarray(returns, dtype=float), np.asarray(market, dtype=float)
    var = float(m.var())
    if var <= 1e-24:
        return 0.0
    return float(((r - r.mean()) * (m - m.mean())).mean() / var)

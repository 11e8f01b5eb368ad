"""Deflated Sharpe ratio (Bailey & López de Prado, 2014) for gate G2.

Conventions (see docs/gates.md):

* Sharpe is **per period** (not annualized): ``mean / std`` with ``ddof=1``.
* Skew γ₃ and **raw** kurtosis γ₄ (3 for normal returns) are the population
  (biased, ``ddof=0``) moment estimators, as in the paper.
* ``V`` (variance of the trials' Sharpes) defaults to ``1 / (T - 1)``: the
  variance of a per-period Sharpe estimate under the null SR = 0 (the
  γ₃ and γ₄ terms of the estimator's variance vanish at SR = 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from scarline.stats import STD_EPSILON, sharpe

EULER_GAMMA = 0.5772156649015329
DSR_PASS = 0.95  # gate G2 passes at DSR >= DSR_PASS


@dataclass(frozen=True)
class DsrResult:
    sharpe: float  # per-period Sharpe of the selected strategy
    sharpe0: float  # expected maximum Sharpe of n_trials null trials
    dsr: float  # probability that the true Sharpe exceeds sharpe0
    n_obs: int
    n_trials: float
    skew: float
    kurtosis: float  # raw (3 for normal)
    trials_var: float  # V used for sharpe0

    @property
    def passed(self) -> bool:
        return self.dsr >= DSR_PASS


def expected_max_sharpe(n_trials: float, trials_var: float) -> float:
    """SR₀ = √V ((1-γ) Φ⁻¹(1 - 1/N) + γ Φ⁻¹(1 - 1/(N e))); 0 for N = 1."""
    if not (math.isfinite(n_trials) and n_trials >= 1):
        raise ValueError(f"n_trials must be finite and >= 1, got {n_trials}")
    if not (math.isfinite(trials_var) and trials_var >= 0):
        raise ValueError(f"trials_var must be finite and >= 0, got {trials_var}")
    if n_trials == 1:
        return 0.0
    # Φ⁻¹(1 - q) as the upper-tail quantile of q: 1 - q rounds to 1 (Φ⁻¹ = inf) once
    # q < ~1e-16, i.e. for N × e past ~10¹⁶ trials, where isf stays exact.
    z1 = norm.isf(1.0 / n_trials)
    z2 = norm.isf(1.0 / (n_trials * math.e))
    return math.sqrt(trials_var) * ((1.0 - EULER_GAMMA) * z1 + EULER_GAMMA * z2)


def deflated_sharpe_from_stats(
    sharpe: float, n_obs: int, skew: float, kurtosis: float, n_trials: float, trials_var: float
) -> DsrResult:
    """DSR from summary statistics (per-period Sharpe, raw kurtosis)."""
    if n_obs < 2:
        raise ValueError(f"need at least 2 observations, got {n_obs}")
    sr0 = expected_max_sharpe(n_trials, trials_var)
    denom = 1.0 - skew * sharpe + (kurtosis - 1.0) / 4.0 * sharpe**2
    if denom <= 0:
        raise ValueError(
            f"non-positive Sharpe variance term {denom} (skew={skew}, kurt={kurtosis})"
        )
    z = (sharpe - sr0) * math.sqrt(n_obs - 1) / math.sqrt(denom)
    return DsrResult(
        sharpe=float(sharpe),
        sharpe0=float(sr0),
        dsr=float(norm.cdf(z)),
        n_obs=int(n_obs),
        n_trials=float(n_trials),
        skew=float(skew),
        kurtosis=float(kurtosis),
        trials_var=float(trials_var),
    )


def deflated_sharpe(
    returns: np.ndarray, n_trials: float, trial_sharpes_var: float | None = None
) -> DsrResult:
    """Deflated Sharpe of the selected strategy's per-period ``returns``.

    ``n_trials`` is the honest (effective) number of trials; ``trial_sharpes_var``
    the variance of the per-period Sharpes across those trials (default 1/(T-1)).
    """
    r = np.asarray(returns, dtype=float)
    if r.ndim != 1:
        raise ValueError(f"returns must be 1-D, got shape {r.shape}")
    if not np.all(np.isfinite(r)):
        raise ValueError("returns contain NaN or inf")
    t = r.size
    if t < 3:
        raise ValueError(f"need at least 3 returns, got {t}")
    if r.std(ddof=1) <= STD_EPSILON:  # sharpe()'s guard: its Sharpe would be 0, not a draw
        raise ValueError("returns have zero variance (std <= STD_EPSILON)")
    sr = float(sharpe(r)[0])
    c = r - r.mean()
    m2 = np.mean(c**2)
    skew = np.mean(c**3) / m2**1.5
    kurt = np.mean(c**4) / m2**2
    v = 1.0 / (t - 1) if trial_sharpes_var is None else float(trial_sharpes_var)
    return deflated_sharpe_from_stats(sr, t, skew, kurt, n_trials, v)


def trial_sharpes_var(returns_matrix: np.ndarray) -> float:
    """Variance (ddof=1) of the per-period Sharpes of the K trials ([T, K]); a trial with
    no variation counts as Sharpe 0."""
    x = np.asarray(returns_matrix, dtype=float)
    if x.ndim != 2 or x.shape[1] < 2:
        raise ValueError(f"returns_matrix must be [T, K>=2], got shape {x.shape}")
    return float(np.var(sharpe(x), ddof=1))

"""Hansen's SPA test for gate G2.

Orientation.  SPA tests H0 "no model beats the benchmark" on the differentials
d = model return − benchmark return (``arch``'s benchmark − model *losses*, losses =
−returns); a small p-value says some model has a higher mean return than the benchmark.
Our question is "does our strategy beat the baselines", so each baseline is the
benchmark and our strategy (or strategies) the models.  With K baselines we run K tests
and return the largest p-value: the strategy must beat every baseline
(intersection–union test, valid at level α without multiplicity correction).
Passing M candidate strategies ([T, M]) makes each test correct for the
search over the M candidates (White's reality check with Hansen's SPA).

The stationary bootstrap (the default) is computed here, to Hansen's (2005) definition
(:func:`_hansen_spa` says where ``arch.bootstrap.SPA`` 8.0 differs); the circular and
moving-block ones go through ``arch``'s SPA with the same ``(1 + count) / (1 + reps)``
p-value.

:func:`max_t_pvalue` is the same correction for *one* strategy that a search picked among
K: its p-value is read off the bootstrap law of the largest of the K t-statistics.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

from scarline.gating.max_t_compiled import MIN_COLUMNS, max_resampled_t
from scarline.stats import STD_EPSILON

MIN_OBS = 10
"""Fewer returns than this give no block bootstrap worth a p-value (SPA and max-t refuse)."""

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
    if s.shape[0] < MIN_OBS:
        raise ValueError(f"need at least {MIN_OBS} observations, got {s.shape[0]}")
    if not (np.all(np.isfinite(s)) and np.all(np.isfinite(b))):
        raise ValueError("returns contain NaN or inf")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    pvals = []
    for j in range(b.shape[1]):
        # A strategy that equals the baseline (or trails it by a constant) shows no
        # superiority: it is left out; with none left, p = 1.
        gain = s - b[:, j : j + 1]
        tied = (gain.std(axis=0) <= STD_EPSILON) & (gain.mean(axis=0) <= STD_EPSILON)
        if tied.all():
            pvals.append(1.0)
            continue
        if bootstrap not in ("stationary", "sb"):
            pvals.append(_arch_spa(gain[:, ~tied], reps, rng, block_size, bootstrap))
            continue
        block = block_size or int(np.sqrt(s.shape[0]))  # arch's default
        pvals.append(_hansen_spa(gain[:, ~tied], block, reps, rng))
    return pvals


def _long_run_variance(d: np.ndarray, block_size: int) -> np.ndarray:
    """Hansen's (2005) ω̂² of each column of ``d`` [T, M]: the stationary bootstrap's kernel
    estimate of ``T · Var(mean)`` (the estimator ``arch``'s SPA uses), never negative."""
    t = d.shape[0]
    c = d - d.mean(axis=0)
    q = 1.0 / block_size
    lags = np.arange(1, t)
    kappa = (1.0 - lags / t) * (1.0 - q) ** lags + (lags / t) * (1.0 - q) ** (t - lags)
    out = np.empty(d.shape[1])
    for k in range(d.shape[1]):
        acov = np.correlate(c[:, k], c[:, k], "full")[t:] / t  # lags 1 .. T - 1
        out[k] = (c[:, k] @ c[:, k]) / t + 2.0 * (kappa @ acov)
    return np.maximum(out, 0.0)


def small_sample_factor(t: int, block_size: int) -> float:
    """E[ω̂²] / σ² for ``t`` iid returns: how far :func:`_long_run_variance` falls short.

    Centred on the sample mean, the lag-k autocovariance of iid returns has mean
    −σ²(T − k)/T² and the variance (T − 1)σ²/T, so the kernel sum's mean is
    σ²[(T − 1)/T − 2 Σₖ κₖ (T − k)/T²]: 0.81 at T = 60, 0.87 at 180, 0.96 at 2,000 (block
    √T). The stationary bootstrap's law of the mean has the same, narrow variance, so the
    observed statistic divided by an unbiased ω̂ stands against it at its level."""
    q = 1.0 / block_size
    lags = np.arange(1, t)
    kappa = (1.0 - lags / t) * (1.0 - q) ** lags + (lags / t) * (1.0 - q) ** (t - lags)
    return (t - 1) / t - 2.0 * float(kappa @ (t - lags)) / t**2


def _hansen_spa(
    gain: np.ndarray,
    block_size: int,
    reps: int,
    rng: np.random.Generator,
    *,
    small_sample: bool = True,
) -> float:
    """Hansen's (2005) consistent SPA p-value of H0 "no column of ``gain`` [T, M] (model
    minus benchmark returns) has a positive mean".

    T = max(0, max_k √T d̄_k / ω̂_k); each resample's T* = max(0, max_k √T (d̄*_k − μ̂_k) /
    ω̂_k), μ̂_k = d̄_k where d̄_k ≥ −ω̂_k √(2 log log T / T), else 0. Three points where
    ``arch.bootstrap.SPA`` (8.0) differs and this does not:

    * studentized: arch compares the raw mean differentials (its ``studentize`` is unused),
      so with M > 1 models the noisiest one dominates the maximum;
    * the floor at 0 and a resample counted when it *reaches* T: a strategy that does not
      beat the benchmark in mean (T = 0) gets p = 1;
    * p = (1 + #{T* ≥ T}) / (1 + reps): a finite resample never proves p = 0 (arch's
      #{T* > T} / reps does, and a p of 0 then weighs z = 7 in a Stouffer combination).

    And one where both depart from Hansen's asymptotics, for short records
    (``small_sample``, off only to compare with arch): the observed statistic and the
    recentring threshold divide by ω̂ / √c, c = :func:`small_sample_factor`, the kernel
    estimate's bias under iid returns. ω̂ is biased down by ~2b/T, so √T d̄ / ω̂ is wider
    than N(0, 1) while each resample's √T (d̄* − μ̂) / ω̂ is exactly as narrow as ω̂ says:
    iid normal returns with no edge were rejected at P(p ≤ 0.05) = 0.098 at T = 60 and
    0.068 at T = 180; with the correction 0.080 and 0.062 (``scripts/spa_level.py``, which
    also shows what is left: ω̂'s own noise). c → 1 as T grows: the test stays Hansen's,
    consistent and of the same asymptotic power.
    """
    from arch.bootstrap import StationaryBootstrap  # when first used: arch costs ~0.6 s

    t = gain.shape[0]
    mean = gain.mean(axis=0)
    omega = np.sqrt(_long_run_variance(gain, block_size) / t)
    scale = np.sqrt(small_sample_factor(t, block_size)) if small_sample else 1.0
    live = omega > STD_EPSILON
    if not live.all():  # a constant differential: certain where it is positive
        if (mean[~live] > STD_EPSILON).any():
            return 1.0 / (1 + reps)
        gain, mean, omega = gain[:, live], mean[live], omega[live]
        if not gain.shape[1]:
            return 1.0
    unbiased = omega / scale
    observed = max(0.0, float(np.max(mean / unbiased)))
    centre = np.where(mean >= -unbiased * np.sqrt(2.0 * np.log(np.log(t))), mean, 0.0)
    reached = 0
    boot = StationaryBootstrap(block_size, gain, seed=rng)
    for (sample,), _ in boot.bootstrap(reps):
        stat = max(0.0, float(np.max((sample.mean(axis=0) - centre) / omega)))
        reached += stat >= observed
    return (1 + reached) / (1 + reps)


def _arch_spa(
    gain: np.ndarray,
    reps: int,
    rng: np.random.Generator,
    block_size: int | None,
    bootstrap: Bootstrap,
) -> float:
    """The circular and moving-block bootstraps through ``arch``'s SPA, with the same
    ``(1 + count) / (1 + reps)`` p-value as :func:`_hansen_spa` (not studentized there)."""
    from arch.bootstrap import SPA

    spa = SPA(
        np.zeros(gain.shape[0]),
        -gain,
        block_size=block_size,
        reps=reps,
        bootstrap=bootstrap,
        seed=rng,
    )
    spa.compute()
    count = round(float(spa.pvalues["consistent"]) * reps)
    return (1 + count) / (1 + reps)


def market_beta(returns: np.ndarray, market: np.ndarray) -> float:
    """OLS slope of ``returns`` on ``market`` (with an intercept): the passive market exposure
    a strategy carried; 0 when the market did not move."""
    r, m = np.asarray(returns, dtype=float), np.asarray(market, dtype=float)
    var = float(m.var())
    if var <= 1e-24:
        return 0.0
    return float(((r - r.mean()) * (m - m.mean())).mean() / var)


def max_t_pvalue(
    returns: np.ndarray,
    column: int,
    reps: int = 1000,
    seed: int | np.random.Generator | None = 0,
    block_size: int | None = None,
    *,
    studentize: bool = True,
) -> float:
    """p-value of H0 "column ``column`` of ``returns`` [T, K] has a mean <= 0", judged against
    the stationary-bootstrap law of the *largest* recentred t-statistic of all K columns
    (White's reality check, single-step max-t; Romano & Wolf 2005).

    Valid whichever column a search over ``returns`` chose, the best total return included:
    under H0 the chosen column's t exceeds the bootstrap quantile only when the maximum
    recentred t does. Whole rows are resampled (the columns' correlation is kept, so a
    population that learned one thing counts as few trials, without clustering), block
    sqrt(T) as SPA's. Each resample is studentized by its own standard deviations
    (``studentize``; the bootstrap-t, more accurate in small samples and with heavy tails
    than dividing by the sample's); a column that does not vary within a resample has no t
    there. Columns that never vary are left out; a flat ``column`` gets p = 1.
    """
    return max_t_pvalues(returns, [column], reps, seed, block_size, studentize=studentize)[0]


def max_t_pvalues(
    returns: np.ndarray,
    columns: Sequence[int],
    reps: int = 1000,
    seed: int | np.random.Generator | None = 0,
    block_size: int | None = None,
    *,
    studentize: bool = True,
) -> list[float]:
    """:func:`max_t_pvalue` of each of ``columns``, from one bootstrap of the maximum (the
    law does not depend on the column judged: several candidates of one pool share it)."""
    x = np.asarray(returns, dtype=float)
    if x.ndim != 2 or x.shape[0] < MIN_OBS:
        raise ValueError(f"returns must be [T >= {MIN_OBS}, K], got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("returns contain NaN or inf")
    sd = x.std(axis=0, ddof=1)
    flat = sd <= STD_EPSILON
    if all(flat[c] for c in columns):
        return [1.0] * len(columns)
    own = np.array([-np.inf if flat[c] else x[:, c].mean() / sd[c] for c in columns])
    x, sd = np.ascontiguousarray(x[:, ~flat]), sd[~flat]  # C order: the sum order below
    mean, t = x.mean(axis=0), x.shape[0]
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    from arch.bootstrap import StationaryBootstrap  # when first used, as SPA above

    boot = StationaryBootstrap(block_size or int(np.sqrt(t)), np.arange(t), seed=rng)
    exceed = np.zeros(len(own), dtype=np.int64)
    compiled = x.shape[1] >= MIN_COLUMNS
    for (index,), _ in boot.bootstrap(reps):
        if compiled:
            top = max_resampled_t(x, index, mean, sd, studentize, STD_EPSILON)
        else:
            top = _max_resampled_t(x[index], mean, sd, studentize)
        exceed += top >= own
    p = (1 + exceed) / (1 + reps)
    return [1.0 if flat[c] else float(q) for c, q in zip(columns, p, strict=True)]


def _max_resampled_t(
    sample: np.ndarray, mean: np.ndarray, sd: np.ndarray, studentize: bool
) -> float:
    """The reference of :func:`scarline.gating.max_t_compiled.max_resampled_t` (and the
    path of a single column): the largest recentred t of one resample."""
    scale = sample.std(axis=0, ddof=1) if studentize else sd
    live = scale > STD_EPSILON  # a resample can be flat where the sample is not
    t_star = np.full(scale.shape, -np.inf)
    t_star[live] = (sample.mean(axis=0)[live] - mean[live]) / scale[live]
    return float(np.max(t_star))

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
    from arch.bootstrap import SPA  # imported when first used: arch costs ~0.6 s of start-up

    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    pvals = []
    for j in range(b.shape[1]):
        # A strategy that equals the baseline (or trails it by a constant) shows no
        # superiority, but arch counts a bootstrap maximum *strictly* above the observed one,
        # so a zero differential reads as p = 0 ("certainly beats it"). Such strategies are
        # left out; with none left, p = 1.
        gain = s - b[:, j : j + 1]
        tied = (gain.std(axis=0) <= STD_EPSILON) & (gain.mean(axis=0) <= STD_EPSILON)
        if tied.all():
            pvals.append(1.0)
            continue
        models = -s[:, ~tied]
        spa = SPA(-b[:, j], models, block_size=block_size, reps=reps, bootstrap=bootstrap, seed=rng)
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

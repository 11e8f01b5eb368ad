"""G2's evidence: DSR, SPA and PBO, combined into one decision with a stated error rate.

``evidence`` passes when DSR >= 1 - alpha and SPA p <= alpha, and PBO (over distinct
strategies) is at most ``pbo_max`` (a veto unless the candidates were chosen in-sample and
judged held out, see :func:`decision`). DSR >= 1 - alpha is a level-alpha test of "the Sharpe
is no better than the best of N useless trials"; SPA is a level-alpha test of "it does not
beat every benchmark". Declaring evidence only when *both* reject is an intersection-union
test (Berger 1982): whichever null is true, the chance that both reject is at most the
chance that that one does, so the false-pass rate stays <= alpha with no correction. PBO is
not a p-value; as a veto it can only lower that rate. docs/gates.md gives the full argument.

The number of trials comes from clustering (:mod:`scarline.gating.clusters`): a population
trained on the same data is counted as the distinct strategies it holds.

A candidate chosen by ``top:K`` and judged held out also brings its in-sample record: a
learner decides at bar t on data up to t, so each in-sample bar is out-of-sample evidence
for the agent as it ran, except that ``top:K`` picked it for that record. :func:`in_sample`
corrects for exactly that choice (a max-t bootstrap over the pool it was chosen from,
:func:`scarline.gating.spa.max_t_pvalue`), and DSR and SPA each combine their held-out
p-value with it (Stouffer, weights sqrt(bars)): independent one-sided p-values of disjoint
bars, so each combination is still a level-alpha test, on most of the run's bars instead of
the held-out 30 % alone. Not when the pool evolved before the split (:func:`in_sample` says
why).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

from scarline.agents.qagents import QAgents
from scarline.gating.clusters import cluster_trials, representatives
from scarline.gating.context import GateContext, InSample, Verdict, figure
from scarline.gating.dsr import deflated_sharpe, trial_sharpes_var
from scarline.gating.frozen import bar_returns
from scarline.gating.pbo import pbo_cscv
from scarline.gating.spa import MIN_OBS, market_beta, max_t_pvalues, spa_pvalues
from scarline.stats import STD_EPSILON, sharpe

NO_VARIATION = "no variation in the evaluated returns (the agent did not trade)"
DSR_MIN_OBS = 3
"""Returns DSR needs (a Sharpe, its skew and kurtosis)."""
SPA_BENCHMARKS = ("buy-and-hold (beta-adjusted)", "random-entry mean (beta-adjusted)", "cash")


def _varies(returns: np.ndarray) -> bool:
    return bool(returns.size > 2 and returns.std() > STD_EPSILON)


def too_short(bars: int, need: int) -> str:
    """The reason a test cannot judge ``bars`` evaluated bars (a fail, not a crash: a run
    with a tiny held-out part is bad evidence, not bad input)."""
    return f"{bars} evaluated bars; the test needs at least {need} (a longer held-out part)"


def _combined(p_before: float, bars_before: int, p_after: float, bars_after: int) -> float:
    """One-sided p of two independent one-sided p-values of disjoint bars (Stouffer, weights
    sqrt(bars): with one edge throughout, the t-statistic of all bars)."""
    z = norm.isf(np.clip([p_before, p_after], 1e-12, 1.0 - 1e-12))  # a certain p stays finite
    w = np.sqrt([bars_before, bars_after])
    return float(norm.sf(w @ z / np.hypot(*w)))


def joined_pass(combined_p: float, alpha: float, held_out_sharpe: float) -> bool:
    """DSR's rule once the in-sample record joined it: the combined p holds ``alpha`` and the
    held-out Sharpe is positive. The record may strengthen a held-out edge, never stand in
    for a held-out loss (the second condition can only remove passes: the level holds)."""
    return bool(combined_p <= alpha and held_out_sharpe > 0.0)


def _in_sample_figures(record: InSample) -> Verdict:
    return {
        "bars": [record.first, record.last],
        "pool": record.pool,
        "sharpe": figure(record.sharpe),
        "p_values": {n: figure(p) for n, p in zip(SPA_BENCHMARKS, record.p_values, strict=True)},
    }


def in_sample(ctx: GateContext, k: int) -> InSample | None:
    """Candidate ``k``'s in-sample evidence (computed once, DSR and SPA share it); None
    unless it was chosen in-sample and is judged held out.

    The record is every in-sample bar, exploration included: random actions dilute the
    evidence but cannot fake it. The choice was made among the pool
    :meth:`RunUnderTest.ranking` ranks, so each p-value compares the candidate's t with the
    bootstrap maximum over that pool: valid for the top in-sample return. The benchmarks
    carry each agent's own beta, as in :func:`superior_ability`.

    Only a pool that did not evolve before the split brings this record. Under evolution a
    slot's record is a string of policies, losers' slots refilled with copies of winners,
    and the max-t was measured anti-conservative there: over the 20 evolved random walks of
    ``scripts/gate_noise.py`` the top agent's in-sample p-value (against
    cash) had a median of 0.31 and was below 0.1 five times, where over the 20 unevolved
    random walks of ``scripts/gate_power.py`` its median was 0.52 and it was below 0.1 once
    (uniform: 0.5 and twice). Such a candidate is judged on its held-out record alone."""
    if not ctx.holdout:
        return None
    c = ctx.candidates[k]
    if c.group not in ctx._in_sample:
        ctx._in_sample[c.group] = _in_sample_of_group(ctx, c.group)
    return ctx._in_sample[c.group].get(c.agent)


def _in_sample_of_group(ctx: GateContext, group: int) -> dict[int, InSample]:
    """The in-sample records of every candidate of source group ``group`` (they share the
    benchmarks, so one bootstrap of the pool's maximum serves them all), by agent id."""
    pool, last = ctx.run.pool(), ctx.start - 1
    chosen = [c for c in ctx.candidates if c.group == group and c.agent in pool]
    if not chosen or last < MIN_OBS or ctx.run.evolved(pool):
        return {}
    columns = [int(np.flatnonzero(pool == c.agent)[0]) for c in chosen]
    returns = bar_returns(ctx.run.equity[: ctx.start, pool], 1)  # bars 1 .. start - 1
    base = ctx.baselines(chosen[0])
    market, placebo = base.buy_and_hold_before, base.placebos_before.mean(axis=1)
    betas = np.array([market_beta(r, market) for r in returns.T])
    excess = [  # as superior_ability's benchmarks, each agent at its own beta
        returns - betas * market[:, None],
        returns - placebo[:, None] - (betas - market_beta(placebo, market)) * market[:, None],
        returns,
    ]
    reps = ctx.thresholds.G2.spa_reps
    ps = [
        max_t_pvalues(x, columns, reps, ctx.rng(f"in-sample max-t {name}"))
        for name, x in zip(SPA_BENCHMARKS, excess, strict=True)
    ]
    return {
        c.agent: InSample(
            1, last, int(pool.size), float(sharpe(returns[:, col])[0]), tuple(p[i] for p in ps)
        )
        for i, (c, col) in enumerate(zip(chosen, columns, strict=True))
    }


def _holdout_trials(ctx: GateContext) -> tuple[float, float | None]:
    """``(N, V)`` of the only search the held-out bars saw: the choice among the judged
    candidates (their distinct strategies, and the variance of their Sharpes)."""
    varying = ctx.base[:, ctx.base.std(axis=0) > STD_EPSILON]
    if varying.shape[1] < 2:
        return 1.0, None
    clusters = cluster_trials(varying)
    reps = clusters.varying()
    return float(max(clusters.n_distinct, 1)), (
        trial_sharpes_var(reps) if reps.shape[1] > 1 else None
    )


def deflated(ctx: GateContext) -> list[Verdict]:
    """Deflated Sharpe of each candidate's evaluated returns.

    The trials are the search that the *evaluated bars* took part in. Candidates chosen by
    ``top:K`` (in-sample return) and judged on the held-out part were picked without those
    bars: the search the held-out bars saw is the choice among the K candidates, so N = their
    distinct strategies (1 for ``top:1``). Otherwise (agent ids, which may have been chosen
    by anything, or no split) N = the distinct strategies of the candidate's group (clusters
    of the agents' evaluated returns) x the generations they lived, and V = the variance of
    the clusters' Sharpes. That population deflation is always reported
    (``dsr_population``). Agents that never traded are left out: a constant Sharpe of 0 is
    no draw that could be the maximum, and counting it would only distort V."""
    alpha = ctx.thresholds.G2.alpha
    out: list[Verdict] = []
    held_n, held_v = _holdout_trials(ctx) if ctx.holdout else (0.0, None)
    for k, c in enumerate(ctx.candidates):
        clusters = ctx.clusters(c.group)
        generations = ctx.run.generations(c.group)
        population_n = max(clusters.n_distinct, 1) * generations
        count: Verdict = {
            "selection": "in-sample top:K, judged held out" if ctx.holdout else "population",
            "trials": held_n if ctx.holdout else population_n,
            "agents": clusters.n_trials,
            "generations": generations,
            "clusters": clusters.n_distinct,
            "flat_agents": clusters.n_flat,
            "silhouette": figure(clusters.silhouette),
            "population_trials": population_n,
            "trials_raw": clusters.n_trials * generations,
        }
        bars = ctx.base.shape[0]
        if bars < DSR_MIN_OBS or not _varies(ctx.base[:, k]):
            why = too_short(bars, DSR_MIN_OBS) if bars < DSR_MIN_OBS else NO_VARIATION
            out.append({"sharpe": 0.0, "dsr": 0.0, **count, "error": why, "pass": False})
            continue
        reps = clusters.varying()
        population_v = trial_sharpes_var(reps) if reps.shape[1] > 1 else None
        population = deflated_sharpe(ctx.base[:, k], population_n, population_v)
        res = (
            deflated_sharpe(ctx.base[:, k], n_trials=held_n, trial_sharpes_var=held_v)
            if ctx.holdout
            else population
        )
        verdict: Verdict = {
            "sharpe": figure(res.sharpe),
            "sharpe0": figure(res.sharpe0),
            "dsr": figure(res.dsr),
            "dsr_min": figure(1.0 - alpha),
            "n_obs": res.n_obs,
            **count,
            "trials_var": figure(res.trials_var),
            "dsr_population": figure(population.dsr),
            "skew": figure(res.skew),
            "kurtosis": figure(res.kurtosis),
            "pass": bool(res.dsr >= 1.0 - alpha),
        }
        if (before := in_sample(ctx, k)) is not None:  # 1 - DSR: the held-out one-sided p
            p = _combined(before.p_values[-1], before.n_obs, 1.0 - res.dsr, res.n_obs)
            verdict |= {
                "in_sample": _in_sample_figures(before),
                "combined_p": figure(p),
                "pass": joined_pass(p, alpha, res.sharpe),
            }
        out.append(verdict)
    return out


def distinct_strategies(ctx: GateContext) -> tuple[np.ndarray, dict[str, int]]:
    """``[T - 1, S]`` all-bar returns of the run's distinct strategies, with their count per
    group. A learning group counts as its clusters (found on the evaluated bars, where the
    final policies act greedily; in-sample returns carry exploration noise), each the
    equal-weight average of its members over all bars; every rule agent (the baselines
    included) is itself. Series that never vary are left out: they have no Sharpe to rank.
    A series identical to an earlier one (two rule agents with the same parameters, a
    momentum rule that was long throughout like buy-and-hold) is the same strategy and
    counts once: in CSCV a copy ties with the in-sample winner out of sample and pulls its
    rank to the middle (copies only: PBO = 1, a veto, where nothing was selected)."""
    columns: list[np.ndarray] = []
    owner: list[int] = []
    for index, (rows, policy) in enumerate(ctx.run.groups()):
        returns = bar_returns(ctx.run.equity[:, rows], 1)
        if isinstance(policy, QAgents):
            returns = representatives(returns, ctx.clusters(index).labels)
        returns = returns[:, returns.std(axis=0) > STD_EPSILON]
        owner += [index] * returns.shape[1]
        columns.append(returns)
    performance = np.concatenate(columns, axis=1)
    _, first = np.unique(performance.T, axis=0, return_index=True)
    keep = np.sort(first)
    kept = np.bincount(np.asarray(owner, dtype=np.int64)[keep], minlength=len(columns))
    counts = {f"agents[{index}]": int(n) for index, n in enumerate(kept)}
    return performance[:, keep], counts


def overfit_probability(ctx: GateContext) -> list[Verdict]:
    """PBO by CSCV over the run's distinct strategies (all bars): does picking the in-sample
    best pick an out-of-sample loser? One figure for the run; a veto above ``pbo_max``."""
    th = ctx.thresholds.G2
    ctx.tick("PBO (CSCV) over distinct strategies")
    performance, per_group = distinct_strategies(ctx)
    n_agents = int(ctx.run.equity.shape[1])
    verdict: Verdict = {"agents": n_agents, "strategies": int(performance.shape[1])}
    verdict["per_group"] = per_group
    if performance.shape[1] < 2:
        verdict |= {"pbo": "n/a: fewer than 2 distinct strategies, nothing was selected"}
        verdict["pass"] = True
    elif performance.shape[0] < 2 * th.pbo_blocks:
        verdict["error"] = f"needs >= {2 * th.pbo_blocks} bars, has {performance.shape[0]}"
        verdict["pass"] = False
    else:
        res = pbo_cscv(performance, n_blocks=th.pbo_blocks)
        verdict |= {
            "pbo": figure(res.pbo),
            "splits": res.n_splits,
            "blocks": res.n_blocks,
            "median_logit": figure(np.median(res.logits)),
            "pass": bool(res.pbo <= th.pbo_max),
        }
    return [dict(verdict) for _ in ctx.candidates]


def superior_ability(ctx: GateContext) -> list[Verdict]:
    """Hansen's SPA of the candidate against buy-and-hold and the mean random-entry placebo,
    both carrying the candidate's own market exposure (beta to buy-and-hold, measured on the
    evaluated bars), and cash; the largest of the three p-values must be <= alpha."""
    th = ctx.thresholds.G2
    out: list[Verdict] = []
    for k, c in enumerate(ctx.candidates):
        strategy = ctx.base[:, k]
        if strategy.size < MIN_OBS:
            out.append({"p_value": 1.0, "error": too_short(strategy.size, MIN_OBS), "pass": False})
            continue
        if not _varies(strategy):
            out.append({"p_value": 1.0, "error": NO_VARIATION, "pass": False})
            continue
        base = ctx.baselines(c)
        market, placebo = base.buy_and_hold, base.placebos.mean(axis=1)
        beta, beta_placebo = market_beta(strategy, market), market_beta(placebo, market)
        benchmarks = np.column_stack(
            [beta * market, placebo + (beta - beta_placebo) * market, np.zeros_like(market)]
        )
        ps = spa_pvalues(strategy, benchmarks, reps=th.spa_reps, seed=ctx.thresholds.seed)
        verdict: Verdict = {
            "p_value": figure(max(ps)),
            "p_values": {n: figure(p) for n, p in zip(SPA_BENCHMARKS, ps, strict=True)},
            "beta": figure(beta),
            "placebo_beta": figure(beta_placebo),
            "pass": bool(max(ps) <= th.alpha),
        }
        if (before := in_sample(ctx, k)) is not None:
            combined = [
                _combined(q, before.n_obs, p, strategy.size)
                for q, p in zip(before.p_values, ps, strict=True)
            ]
            verdict |= {
                "in_sample_p_values": _in_sample_figures(before)["p_values"],
                "combined_p_values": {
                    n: figure(p) for n, p in zip(SPA_BENCHMARKS, combined, strict=True)
                },
                "combined_p": figure(max(combined)),
                "pass": bool(max(combined) <= th.alpha),
            }
        out.append(verdict)
    return out


CHECKS = {"dsr": deflated, "pbo": overfit_probability, "spa": superior_ability}
"""The evidence checks, in report order."""


def decision(
    dsr: Verdict, pbo: Verdict, spa: Verdict, alpha: float, pbo_max: float, pbo_veto: bool = True
) -> Verdict:
    """The one evidence decision: DSR >= 1 - alpha and SPA p <= alpha (intersection-union,
    false-pass rate <= alpha), PBO <= ``pbo_max`` a veto when ``pbo_veto``.

    ``pbo_veto`` is off when the candidates were chosen in-sample and judged on the held-out
    bars: PBO estimates how often in-sample selection picks an out-of-sample loser, and here
    the chosen candidate's out-of-sample record is itself the evidence (an overfit choice
    fails DSR and SPA with probability >= 1 - alpha). PBO is then a reported figure; as a
    veto it would fire about half the time on a population that shares one real edge and
    differs only by noise, whose ranking is random by construction.

    With the in-sample record (:func:`in_sample`) DSR's and SPA's ``pass`` are their
    combined p-values' (``combined_p`` <= alpha): still one level-alpha test each, so the
    intersection-union argument is unchanged."""
    failed = [name for name, v in (("dsr", dsr), ("spa", spa)) if v.get("pass") is not True]
    vetoed = pbo_veto and pbo.get("pass") is not True
    pbo_role = f"PBO <= {pbo_max:g} (veto)" if pbo_veto else "PBO reported (judged held out)"
    rule = f"DSR >= {1 - alpha:g} and SPA p <= {alpha:g}"
    combined: Verdict = {}
    if "combined_p" in dsr and "combined_p" in spa:  # the in-sample record joined both
        rule = f"DSR and SPA, each with the in-sample record (Stouffer), p <= {alpha:g}"
        combined = {"dsr_combined_p": dsr["combined_p"], "spa_combined_p": spa["combined_p"]}
    return {
        "rule": f"{rule}; {pbo_role}",
        "false_pass_rate_at_most": alpha,
        "dsr": dsr.get("dsr"),
        "spa_p": spa.get("p_value"),
        **combined,
        "pbo": pbo.get("pbo"),
        "failed": [*failed, *(["pbo"] if vetoed else [])],
        "pass": not failed and not vetoed,
    }

"""G2 Anti-overfit: is the edge real, or what a search over many strategies finds in noise?

Placebo and permutation checks re-run the candidates frozen (see :mod:`scarline.gates.frozen`)
on markets where the information they could exploit is destroyed; the statistics account
for how many strategies were tried. ``docs/gates.md`` explains every pass rule.
"""

from __future__ import annotations

import msgspec
import numpy as np

from scarline.agents.config import QNetGroup
from scarline.agents.qagents import QAgents
from scarline.gates.context import GateContext, Verdict, run_kernel
from scarline.gates.dsr import deflated_sharpe, effective_trials, trial_sharpes_var
from scarline.gates.frozen import Candidate, Play, bar_returns, frozen_run, sharpe
from scarline.gates.pbo import pbo_cscv
from scarline.gates.spa import spa_pvalue
from scarline.gates.transforms import block_permuted, lagged_exog, truncated


def _f(x: float) -> float:
    return float(round(float(x), 6))


def time_shift(ctx: GateContext) -> list[Verdict]:
    """Lookahead, two ways. *Truncation* (Freqtrade's lookahead analysis): cut the data at
    a few bars and re-run — a causal policy's decisions and their inputs (the features
    hash) before the cut cannot change. *Lag*: make
    every exogenous column arrive one bar late — a real, persistent edge survives in part,
    an edge that lives only in the bar it is "known" (a leaked future column) vanishes."""
    th = ctx.thresholds.G2
    t = ctx.market.n_steps
    cuts = sorted({int(c) for c in np.linspace(ctx.start, t, th.truncation_cuts + 2)[1:-1]})
    cuts = [c for c in cuts if 2 <= c < t]
    ctx.tick("time shift: full data")
    full = frozen_run(ctx.config, ctx.market, ctx.plays)
    diverged: list[int | None] = [None] * len(ctx.candidates)
    for cut in cuts:
        ctx.tick(f"time shift: data cut at bar {cut}")
        cut_run = frozen_run(ctx.config, truncated(ctx.market, cut), ctx.plays)
        inputs = full.log.first_input_difference(cut_run.log, cut)
        for k, c in enumerate(ctx.candidates):
            first = full.log.first_difference(cut_run.log, full.rows[k], cut)
            if c.learned and inputs is not None:  # its features differ (rules read closes)
                first = inputs if first is None else min(first, inputs)
            if first is not None and (diverged[k] is None or first < diverged[k]):
                diverged[k] = first
    lagged: np.ndarray | None = None
    if ctx.market.exog_names:
        ctx.tick("time shift: exogenous columns one bar late")
        lagged = sharpe(ctx.returns(market=lagged_exog(ctx.market, 1)))
    out: list[Verdict] = []
    for k, base in enumerate(ctx.base_sharpe):
        verdict: Verdict = {"cuts": cuts, "truncation_identical": diverged[k] is None}
        if diverged[k] is not None:
            verdict["first_divergent_bar"] = diverged[k]
        lag_ok = True
        if lagged is None:
            verdict["lag"] = "n/a: no exogenous columns"
        else:
            verdict["sharpe"], verdict["lagged_sharpe"] = _f(base), _f(lagged[k])
            if base > 0:
                retention = lagged[k] / base
                verdict["lag_retention"] = _f(retention)
                lag_ok = bool(retention >= th.lag_min_retention)
            else:
                verdict["lag_retention"] = "n/a: no edge to shift"
        verdict["pass"] = diverged[k] is None and lag_ok
        out.append(verdict)
    return out


def random_entry(ctx: GateContext) -> list[Verdict]:
    """Beat random timing: the candidate's Sharpe must exceed the (1 - alpha) quantile of
    random-entry placebos trading the same universe with the same sizing."""
    alpha = ctx.thresholds.G2.alpha
    out: list[Verdict] = []
    for k, c in enumerate(ctx.candidates):
        placebo = sharpe(ctx.baselines(c).placebos)
        q = float(np.quantile(placebo, 1 - alpha))
        base = float(ctx.base_sharpe[k])
        out.append(
            {
                "sharpe": _f(base),
                "placebos": int(placebo.size),
                "placebo_median": _f(np.median(placebo)),
                "placebo_quantile": _f(q),
                "percentile": _f((placebo < base).mean()),
                "pass": bool(base > q),
            }
        )
    return out


def block_permutation(ctx: GateContext) -> list[Verdict]:
    """Permutation test: shuffle blocks of the evaluated bars' returns (exogenous columns
    stay in place) and re-run; p = (1 + #{permuted Sharpe >= Sharpe}) / (1 + n)."""
    th = ctx.thresholds.G2
    rng = ctx.rng("block-permutation")
    permuted = np.empty((th.permutations, len(ctx.candidates)))
    for i in range(th.permutations):
        ctx.tick(f"block permutation {i + 1}/{th.permutations}")
        market = block_permuted(ctx.market, th.permutation_block, rng, start=ctx.start)
        permuted[i] = sharpe(ctx.returns(market=market))
    out: list[Verdict] = []
    for k, base in enumerate(ctx.base_sharpe):
        p = (1 + int((permuted[:, k] >= base).sum())) / (1 + th.permutations)
        out.append(
            {
                "sharpe": _f(base),
                "permutations": th.permutations,
                "block": th.permutation_block,
                "permuted_mean": _f(permuted[:, k].mean()),
                "p_value": _f(p),
                "pass": bool(p <= th.alpha),
            }
        )
    return out


def _retrained_shuffled(ctx: GateContext, group: int) -> np.ndarray:
    """Per-bar Sharpes of a whole learning group re-trained on shuffled rewards, then
    evaluated frozen exactly like the candidates."""
    source = ctx.config.agents[group]
    assert isinstance(source, QNetGroup)
    placebo = source.model_copy(
        update={"qnet": source.qnet.model_copy(update={"shuffle_rewards": True})}
    )
    ctx.tick(f"label shuffle: retraining agents[{group}] on shuffled rewards")
    kernel = run_kernel(ctx.config.model_copy(update={"agents": [placebo]}), ctx.market)
    agents = kernel.population.groups[0]
    assert isinstance(agents, QAgents)
    plays = [Play(Candidate.learner(i, group, i, agents)) for i in range(agents.n_agents)]
    ctx.tick("label shuffle: frozen evaluation")
    return sharpe(ctx.returns(plays=plays))


def label_shuffle(ctx: GateContext) -> list[Verdict]:
    """Learned agents only: the same group trained on rewards shuffled across its own
    transitions learns nothing real; the candidate must beat their (1 - alpha) quantile."""
    th = ctx.thresholds.G2
    shuffled: dict[int, np.ndarray] = {}
    out: list[Verdict] = []
    for k, c in enumerate(ctx.candidates):
        if not c.learned:
            out.append({"n/a": "rule agent: nothing was learned", "pass": True})
            continue
        if not th.label_shuffle:
            out.append({"n/a": "disabled in the gates config", "pass": True})
            continue
        if c.group not in shuffled:
            shuffled[c.group] = _retrained_shuffled(ctx, c.group)
        placebo = shuffled[c.group]
        q = float(np.quantile(placebo, 1 - th.alpha))
        base = float(ctx.base_sharpe[k])
        out.append(
            {
                "sharpe": _f(base),
                "shuffled_agents": int(placebo.size),
                "shuffled_median": _f(np.median(placebo)),
                "shuffled_quantile": _f(q),
                "pass": bool(base > q),
            }
        )
    return out


def feature_ablation(ctx: GateContext) -> list[Verdict]:
    """Learned agents only: switch each used feature off (its genome mask bit) and re-run.
    The edge must sit in identifiable information: one feature carries at least
    ``ablation_min_drop`` of the Sharpe."""
    th = ctx.thresholds.G2
    plays: list[Play] = []
    owners: list[tuple[int, str]] = []
    for k, c in enumerate(ctx.candidates):
        if c.genome is None:
            continue
        for f, (name, on) in enumerate(
            zip(c.genome.feature_names, c.genome.feature_mask, strict=True)
        ):
            if on:
                mask = tuple(m and i != f for i, m in enumerate(c.genome.feature_mask))
                plays.append(Play(c, msgspec.structs.replace(c.genome, feature_mask=mask)))
                owners.append((k, name))
    ablated = np.zeros(0)
    if plays:
        ctx.tick(f"feature ablation ({len(plays)} variants)")
        ablated = sharpe(ctx.returns(plays=plays))
    out: list[Verdict] = []
    for k, c in enumerate(ctx.candidates):
        if c.genome is None:
            out.append({"n/a": "rule agent: no features to ablate", "pass": True})
            continue
        base = float(ctx.base_sharpe[k])
        drops = {
            name: base - float(s) for (o, name), s in zip(owners, ablated, strict=True) if o == k
        }
        top = sorted(drops.items(), key=lambda item: -item[1])[:5]
        share = top[0][1] / base if top and base > 0 else 0.0
        out.append(
            {
                "sharpe": _f(base),
                "features": len(drops),
                "top_drops": {name: _f(d) for name, d in top},
                "top_share": _f(share),
                "pass": bool(base > 0 and share >= th.ablation_min_drop),
            }
        )
    return out


NO_VARIATION = "no variation in the evaluated returns (the agent did not trade)"


def _varies(returns: np.ndarray) -> bool:
    return bool(returns.size > 2 and returns.std() > 1e-12)


def _group_returns(ctx: GateContext, group: int) -> np.ndarray:
    rows, _ = ctx.run.groups()[group]
    return bar_returns(ctx.run.equity[:, rows], ctx.start)


def deflated(ctx: GateContext) -> list[Verdict]:
    """Deflated Sharpe of each candidate's evaluated returns, with N = the agents of its
    group x the generations they lived (optionally reduced for correlated trials) and the
    trials' Sharpe variance measured on that group."""
    th = ctx.thresholds.G2
    out: list[Verdict] = []
    for k, c in enumerate(ctx.candidates):
        trials = _group_returns(ctx, c.group)
        generations = ctx.run.generations(c.group)
        raw = trials.shape[1] * generations
        n: float = raw
        if th.dsr_effective_trials:
            varying = trials[:, trials.std(axis=0) > 1e-12]
            n = (effective_trials(varying) if varying.shape[1] > 1 else 1.0) * generations
        count = {
            "agents": int(trials.shape[1]),
            "generations": generations,
            "trials": _f(n),
            "trials_raw": raw,
        }
        if not _varies(ctx.base[:, k]):
            out.append({"sharpe": 0.0, "dsr": 0.0, **count, "error": NO_VARIATION, "pass": False})
            continue
        var = trial_sharpes_var(trials) if trials.shape[1] > 1 else None
        res = deflated_sharpe(ctx.base[:, k], n_trials=max(n, 1.0), trial_sharpes_var=var)
        out.append(
            {
                "sharpe": _f(res.sharpe),
                "sharpe0": _f(res.sharpe0),
                "dsr": _f(res.dsr),
                "n_obs": res.n_obs,
                **count,
                "trials_var": _f(res.trials_var),
                "skew": _f(res.skew),
                "kurtosis": _f(res.kurtosis),
                "pass": bool(res.dsr >= th.dsr_min),
            }
        )
    return out


def overfit_probability(ctx: GateContext) -> list[Verdict]:
    """PBO by CSCV over every agent of the run (all bars): does picking the in-sample best
    pick an out-of-sample loser? One figure for the run, reported with every candidate."""
    th = ctx.thresholds.G2
    performance = bar_returns(ctx.run.equity, 1)
    ctx.tick("PBO (CSCV)")
    verdict: Verdict
    if performance.shape[1] < 2 or performance.shape[0] < 2 * th.pbo_blocks:
        verdict = {
            "error": f"needs >= 2 agents and >= {2 * th.pbo_blocks} bars, "
            f"has {performance.shape[1]} agents and {performance.shape[0]} bars",
            "pass": False,
        }
    else:
        res = pbo_cscv(performance, n_blocks=th.pbo_blocks)
        verdict = {
            "pbo": _f(res.pbo),
            "splits": res.n_splits,
            "blocks": res.n_blocks,
            "strategies": int(performance.shape[1]),
            "median_logit": _f(np.median(res.logits)),
            "pass": bool(res.pbo <= th.pbo_max),
        }
    return [dict(verdict) for _ in ctx.candidates]


def superior_ability(ctx: GateContext) -> list[Verdict]:
    """Hansen's SPA: the candidate against buy-and-hold, the average random-entry placebo
    and cash, each baseline scaled to the candidate's volatility (returns at equal risk: a
    low-exposure edge is not judged against a lucky full-exposure trend); the largest of
    the three p-values must be <= alpha."""
    th = ctx.thresholds.G2
    names = ["buy-and-hold", "random-entry (mean)", "cash"]
    out: list[Verdict] = []
    for k, c in enumerate(ctx.candidates):
        strategy = ctx.base[:, k]
        if not _varies(strategy):
            out.append({"p_value": 1.0, "error": NO_VARIATION, "pass": False})
            continue
        baselines = ctx.baselines(c).matrix()
        std = baselines.std(axis=0)
        scale = np.zeros_like(std)
        np.divide(strategy.std(), std, out=scale, where=std > 1e-12)
        p = spa_pvalue(strategy, baselines * scale, reps=th.spa_reps, seed=ctx.thresholds.seed)
        out.append(
            {
                "p_value": _f(p),
                "baselines": names,
                "baseline_scale": {n: _f(s) for n, s in zip(names, scale, strict=True)},
                "pass": bool(p <= th.alpha),
            }
        )
    return out


CHECKS = {
    "time_shift": time_shift,
    "random_entry": random_entry,
    "block_permutation": block_permutation,
    "label_shuffle": label_shuffle,
    "feature_ablation": feature_ablation,
    "dsr": deflated,
    "pbo": overfit_probability,
    "spa": superior_ability,
}
"""G2's checks, in report order; the gate passes when every one passes."""

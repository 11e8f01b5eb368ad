"""G2 Anti-overfit: is the edge real, or what a search over many strategies finds in noise?

One decision, in two parts (docs/gates.md explains every rule):

* **contracts** — hard failures: lookahead in code (:mod:`scarline.gating.lookahead`) and the
  placebos here (random entry, block-permuted returns, retraining on shuffled rewards), each
  beaten at its ``placebo_quantile`` (the median by default). A placebo contract asks "does
  it beat what chance typically does?"; it is not a second level-``alpha`` test, because
  stacking tests buys no error control the evidence decision does not already give and
  costs power (docs/gates.md);
* **evidence** — DSR and SPA combined into one level-``alpha`` decision, PBO a veto
  (:mod:`scarline.gating.evidence`); a ``top:K`` candidate judged held out adds its
  in-sample record to both, corrected for the choice that picked it (an unevolved pool).

Feature ablation, the lag half-life and the plausibility flags are reported and decide
nothing. Placebo checks re-run the candidates frozen (:mod:`scarline.gating.frozen`) on
markets where the information they could exploit is destroyed.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec
import numpy as np

from scarline.agents.config import QNetGroup
from scarline.config import RunConfig
from scarline.gating import evidence, prefix
from scarline.gating.config import AntiOverfitThresholds
from scarline.gating.context import GateContext, Verdict, figure
from scarline.gating.frozen import Play, bar_returns
from scarline.gating.jobs import FrozenJob, RetrainJob
from scarline.gating.lookahead import time_shift
from scarline.gating.plausibility import plausibility
from scarline.gating.prefix import PermutedJob, prefix_key
from scarline.gating.transforms import block_order
from scarline.market.frame import MarketData
from scarline.report.gate_report import AntiOverfit
from scarline.stats import sharpe


def _beats(candidate: float, quantile: float) -> bool:
    """Strictly above the placebo quantile. A candidate that never traded (a Sharpe of exactly
    0: no variation) beats nothing, even placebos whose median loses."""
    return bool(candidate != 0.0 and candidate > quantile)


def random_entry(ctx: GateContext) -> list[Verdict]:
    """Beat random timing: the candidate's Sharpe must exceed the ``placebo_quantile`` of
    random-entry placebos trading the same universe with the same sizing."""
    level = ctx.thresholds.G2.placebo_quantile
    out: list[Verdict] = []
    for k, c in enumerate(ctx.candidates):
        placebo = sharpe(ctx.baselines(c).placebos)
        q = float(np.quantile(placebo, level))
        base = float(ctx.base_sharpe[k])
        out.append(
            {
                "sharpe": figure(base),
                "placebos": int(placebo.size),
                "placebo_median": figure(np.median(placebo)),
                "placebo_quantile": figure(q),
                "percentile": figure((placebo < base).mean()),
                "pass": _beats(base, q),
            }
        )
    return out


def permutation_jobs(ctx: GateContext, reuse: bool = True) -> dict[str, PermutedJob]:
    """One job per block permutation, in draw order; all share the real market's rows
    before ``start``, stepped once per process (:mod:`scarline.gating.prefix`)."""
    th = ctx.thresholds.G2
    rng = ctx.rng("block-permutation")
    plays = tuple(ctx.plays)
    key = prefix_key(ctx.config, ctx.market, ctx.plays, ctx.start, ctx.schema)
    block = th.permutation_block
    return {
        f"permutation:{i}": PermutedJob(
            key,
            ctx.config,
            ctx.market,
            plays,
            ctx.start,
            block,
            block_order(ctx.market, block, rng, ctx.start),
            reuse,
            ctx.schema,
        )
        for i in range(th.permutations)
    }


def block_permutation(ctx: GateContext) -> list[Verdict]:
    """Shuffle blocks of the evaluated bars' returns (exogenous columns stay in place) and
    re-run: the candidate must beat the ``placebo_quantile`` of the permuted Sharpes. The
    permutation p = (1 + #{permuted Sharpe >= Sharpe}) / (1 + n) is reported beside it."""
    th = ctx.thresholds.G2
    jobs = permutation_jobs(ctx)
    note = f"block permutations ({th.permutations}, {ctx.executor.name} x{ctx.executor.workers})"
    runs = ctx.results(jobs, note)
    prefix.forget()  # this process's copy of the shared prefix, if it stepped one
    permuted = np.stack([sharpe(bar_returns(runs[name], ctx.start)) for name in jobs])
    out: list[Verdict] = []
    for k, base in enumerate(ctx.base_sharpe):
        p = (1 + int((permuted[:, k] >= base).sum())) / (1 + th.permutations)
        q = float(np.quantile(permuted[:, k], th.placebo_quantile))
        out.append(
            {
                "sharpe": figure(base),
                "permutations": th.permutations,
                "block": th.permutation_block,
                "permuted_mean": figure(permuted[:, k].mean()),
                "permuted_quantile": figure(q),
                "p_value": figure(p),
                "pass": _beats(base, q),
            }
        )
    return out


def shuffle_jobs(ctx: GateContext) -> dict[str, RetrainJob]:
    """Per learned candidate group (when enabled): the whole group re-trained on shuffled
    rewards."""
    groups = {c.group for c in ctx.candidates if c.learned}
    return shuffle_jobs_of(ctx.config, ctx.market, groups, ctx.thresholds.G2, ctx.schema)


def shuffle_jobs_of(
    config: RunConfig,
    market: MarketData,
    groups: Iterable[int],
    th: AntiOverfitThresholds,
    schema: int,
) -> dict[str, RetrainJob]:
    """:func:`shuffle_jobs` of the learning groups ``groups`` of ``config`` (a run recorded
    under event ``schema``): they need no candidate, only which groups the candidates come
    from, so they too can start while the run is replayed
    (:func:`scarline.gating.plan.replay_starting`)."""
    if not th.label_shuffle:
        return {}
    jobs: dict[str, RetrainJob] = {}
    for group in sorted(groups):
        source = config.agents[group]
        assert isinstance(source, QNetGroup)
        placebo = source.model_copy(
            update={"qnet": source.qnet.model_copy(update={"shuffle_rewards": True})}
        )
        shuffled = config.model_copy(update={"agents": [placebo]})
        jobs[f"shuffled:{group}"] = RetrainJob(shuffled, market, group, config, schema)
    return jobs


def _retrained_shuffled(ctx: GateContext, group: int) -> np.ndarray:
    """Per-bar Sharpes of a whole learning group re-trained on shuffled rewards, then
    evaluated frozen exactly like the candidates (both in one job)."""
    name = f"shuffled:{group}"
    note = f"label shuffle: retraining agents[{group}] on shuffled rewards"
    (returns,) = ctx.frozen_returns({name: shuffle_jobs(ctx)[name]}, note).values()
    return sharpe(returns)


def label_shuffle(ctx: GateContext) -> list[Verdict]:
    """Learned agents only: the same group trained on rewards shuffled across its own
    transitions learns nothing real; the candidate must beat their ``placebo_quantile``."""
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
        q = float(np.quantile(placebo, th.placebo_quantile))
        base = float(ctx.base_sharpe[k])
        out.append(
            {
                "sharpe": figure(base),
                "shuffled_agents": int(placebo.size),
                "shuffled_median": figure(np.median(placebo)),
                "shuffled_quantile": figure(q),
                "pass": _beats(base, q),
            }
        )
    return out


def _ablated(ctx: GateContext) -> tuple[list[Play], list[tuple[int, str]]]:
    """Every used feature of every learned candidate switched off in turn: the plays and,
    per play, its candidate and feature."""
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
    return plays, owners


def ablation_jobs(ctx: GateContext) -> dict[str, FrozenJob]:
    """One batched frozen run of every ablated variant (none without learned candidates)."""
    plays, _ = _ablated(ctx)
    return {"ablation": ctx.frozen_job(plays=plays)} if plays else {}


def feature_ablation(ctx: GateContext) -> list[Verdict]:
    """Learned agents only: switch each used feature off (its genome mask bit) and re-run.
    Informative: which feature carries the edge (the largest drop in Sharpe), and how much
    of it."""
    plays, owners = _ablated(ctx)
    ablated = np.zeros(0)
    if plays:
        note = f"feature ablation ({len(plays)} variants)"
        ablated = sharpe(ctx.frozen_returns(ablation_jobs(ctx), note)["ablation"])
    out: list[Verdict] = []
    for k, c in enumerate(ctx.candidates):
        if c.genome is None:
            out.append({"n/a": "rule agent: no features to ablate"})
            continue
        base = float(ctx.base_sharpe[k])
        drops = {
            name: base - float(s) for (o, name), s in zip(owners, ablated, strict=True) if o == k
        }
        top = sorted(drops.items(), key=lambda item: -item[1])[:5]
        verdict: Verdict = {"sharpe": figure(base), "features": len(drops)}
        verdict["top_drops"] = {name: figure(d) for name, d in top}
        if top and base > 0 and top[0][1] > 0:
            verdict["carrier"] = top[0][0]
            verdict["carrier_share"] = figure(top[0][1] / base)
        else:
            verdict["carrier"] = "n/a: no positive edge that a single feature carries"
        out.append(verdict)
    return out


CONTRACTS = {
    "time_shift": time_shift,
    "random_entry": random_entry,
    "block_permutation": block_permutation,
    "label_shuffle": label_shuffle,
}
"""Hard failures: each must pass."""
INFORMATIVE = {"feature_ablation": feature_ablation, "plausibility": plausibility}
"""Reported figures; they carry no ``pass``."""
CHECKS = {**CONTRACTS, **evidence.CHECKS, **INFORMATIVE}
"""G2's checks, in report order."""
WORK_ORDER = (*evidence.CHECKS, *CONTRACTS, *INFORMATIVE)
"""The order they are computed in: the evidence needs no re-run but the candidates' own
frozen one (the first of the batch), so its statistics (DSR's clustering, PBO, SPA: ~3 s on
``make run``'s run) are worked out while the contracts' re-runs are still running, not after."""
SUMMARY = ("contracts", "evidence", "flags")
"""Keys after the checks in a G2 verdict (``pass`` comes first, as in every gate's)."""


def anti_overfit(ctx: GateContext) -> list[AntiOverfit]:
    """G2 per candidate: every check's figures, then ``contracts`` (all contracts pass),
    ``evidence`` (the one statistical decision), the flags raised, and ``pass`` = both."""
    results = {name: CHECKS[name](ctx) for name in WORK_ORDER}
    th = ctx.thresholds.G2
    out: list[AntiOverfit] = []
    for k in range(len(ctx.candidates)):
        verdict: Verdict = {name: results[name][k] for name in CHECKS}
        broken = [n for n in CONTRACTS if results[n][k]["pass"] is not True]
        proof = evidence.decision(
            results["dsr"][k],
            results["pbo"][k],
            results["spa"][k],
            th.alpha,
            th.pbo_max,
            pbo_veto=not ctx.holdout,
        )
        flags = results["plausibility"][k]["flags"]
        verdict["contracts"] = {"failed": broken, "pass": not broken}
        verdict["evidence"] = proof
        verdict["flags"] = list(flags)  # type: ignore[call-overload]
        verdict["pass"] = bool(not broken and proof["pass"])
        out.append(msgspec.convert(verdict, type=AntiOverfit))
    return out

"""G3 Robustness: does the edge survive other periods, higher costs, every regime and small
changes to the policy itself? ``docs/gates.md`` explains every pass rule."""

from __future__ import annotations

import msgspec
import numpy as np

from scarline.config import RunConfig
from scarline.events import Array
from scarline.evolution.genome import Genome
from scarline.features.price import log_prices, log_return
from scarline.features.window import window_mean
from scarline.gating.config import RobustnessThresholds
from scarline.gating.context import GateContext, Verdict, figure
from scarline.gating.frozen import Play, bar_returns, total_return
from scarline.gating.jobs import FrozenJob, KernelJob
from scarline.market.frame import MarketData
from scarline.regime.hmm import REGIME_NAMES
from scarline.regime.stage import market_regimes
from scarline.stats import sharpe

VOL_NAMES = ("low-vol", "mid-vol", "high-vol")
VOL_WINDOW = 20


def _figures(returns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return sharpe(returns), total_return(returns)


def _folds(th: RobustnessThresholds, t: int) -> tuple[int, int]:
    """``(train, test)`` bars of each walk-forward fold of ``t`` bars."""
    train = int(t * th.walk_forward_train_share)
    return train, (t - train) // th.walk_forward_folds


def fold_jobs_of(
    config: RunConfig, market: MarketData, th: RobustnessThresholds, schema: int
) -> dict[str, KernelJob]:
    """One whole run per walk-forward fold (none when the bars are too few) under event
    ``schema``'s rules (the run's), each keeping every agent's equity: nothing here depends
    on the candidates, so the folds can start while the run is still being replayed
    (:func:`scarline.gating.plan.replay_starting`)."""
    train, test = _folds(th, market.n_steps)
    if train < 2 or test < 2:
        return {}
    evaluation = config.evaluation.model_copy(update={"oos_fraction": test / (train + test)})
    cfg = config.model_copy(update={"evaluation": evaluation, "report": False})
    return {
        f"fold:{i}": KernelJob(cfg, market.slice(i * test, i * test + train + test), None, schema)
        for i in range(th.walk_forward_folds)
    }


def fold_jobs(ctx: GateContext) -> dict[str, KernelJob]:
    """:func:`fold_jobs_of` the run under test."""
    return fold_jobs_of(ctx.config, ctx.market, ctx.thresholds.G3, ctx.schema)


def walk_forward(ctx: GateContext) -> list[Verdict]:
    """Rolling train/test: re-run the whole run config on a window of ``train`` bars
    followed by ``test`` bars (learning agents learn and explore on the first part only,
    as ``evaluation.oos_fraction`` does), sliding by ``test`` bars; each candidate's agent
    id is scored on every test part."""
    th = ctx.thresholds.G3
    t = ctx.market.n_steps
    train, test = _folds(th, t)
    jobs = fold_jobs(ctx)
    if not jobs:
        return [
            {"error": f"{t} bars are too few for {th.walk_forward_folds} folds", "pass": False}
            for _ in ctx.candidates
        ]
    agents = [c.agent for c in ctx.candidates]
    runs = ctx.results(jobs, f"walk-forward folds ({th.walk_forward_folds})")
    folds: list[dict[str, object]] = []
    sharpes = np.zeros((th.walk_forward_folds, len(agents)))
    returns = np.zeros_like(sharpes)
    for i in range(th.walk_forward_folds):
        lo = i * test
        sharpes[i], returns[i] = _figures(bar_returns(runs[f"fold:{i}"][:, agents], train))
        folds.append({"train": [lo, lo + train], "test": [lo + train, lo + train + test]})
    out: list[Verdict] = []
    for k in range(len(agents)):
        positive = float((returns[:, k] > 0).mean())
        out.append(
            {
                "folds": [
                    f | {"sharpe": figure(sharpes[i, k]), "return": figure(returns[i, k])}
                    for i, f in enumerate(folds)
                ],
                "positive_share": figure(positive),
                "mean_sharpe": figure(sharpes[:, k].mean()),
                "pass": bool(positive >= th.walk_forward_min_positive and sharpes[:, k].mean() > 0),
            }
        )
    return out


def _with_execution(config: RunConfig, **changes: object) -> RunConfig:
    execution = config.execution
    for key, value in changes.items():
        part = getattr(execution, key)
        execution = execution.model_copy(update={key: part.model_copy(update=value)})
    return config.model_copy(update={"execution": execution})


def _fee_bps(ctx: GateContext) -> float:
    th = ctx.thresholds.G3
    return max(ctx.config.execution.fees.bps * th.fees_factor, th.fees_floor_bps)


def cost_jobs(ctx: GateContext) -> dict[str, FrozenJob]:
    """The candidates frozen under higher fees and under each extra slippage."""
    th = ctx.thresholds.G3
    fees = ctx.config.execution.fees
    changed = {"bps": _fee_bps(ctx), "minimum": fees.minimum * th.fees_factor}
    jobs = {"fees": ctx.frozen_job(config=_with_execution(ctx.config, fees=changed))}
    base_bps = ctx.config.execution.slippage.fixed_bps
    for extra in th.slippage_bps:
        cfg = _with_execution(ctx.config, slippage={"fixed_bps": base_bps + extra})
        jobs[f"slippage:{extra!r}"] = ctx.frozen_job(config=cfg)
    return jobs


def fees_x2(ctx: GateContext) -> list[Verdict]:
    """Cost sensitivity: fees x ``fees_factor`` (at least ``fees_floor_bps``: doubling zero
    proves nothing); the candidate must still make money."""
    th = ctx.thresholds.G3
    fees = ctx.config.execution.fees
    bps = _fee_bps(ctx)
    returns = ctx.frozen_returns(cost_jobs(ctx), f"fees x{th.fees_factor:g} and slippage")
    s, r = _figures(returns["fees"])
    base_s, base_r = _figures(ctx.base)
    return [
        {
            "fee_bps": figure(bps),
            "run_fee_bps": figure(fees.bps),
            "sharpe": figure(s[k]),
            "return": figure(r[k]),
            "base_sharpe": figure(base_s[k]),
            "base_return": figure(base_r[k]),
            "pass": bool(r[k] > 0),
        }
        for k in range(len(ctx.candidates))
    ]


def slippage(ctx: GateContext) -> list[Verdict]:
    """Slippage sweep: +X bps on every fill; still profitable at every point of the sweep up
    to ``slippage_pass_bps``. A sweep with no point at or below it judged nothing and fails
    with that reason (``all`` of nothing used to pass)."""
    th = ctx.thresholds.G3
    returns = ctx.frozen_returns(cost_jobs(ctx), "slippage sweep")
    sweep = [(extra, *_figures(returns[f"slippage:{extra!r}"])) for extra in th.slippage_bps]
    out: list[Verdict] = []
    for k in range(len(ctx.candidates)):
        needed = [r[k] > 0 for extra, _, r in sweep if extra <= th.slippage_pass_bps]
        out.append(
            {
                "sweep": [
                    {"extra_bps": extra, "sharpe": figure(s[k]), "return": figure(r[k])}
                    for extra, s, r in sweep
                ],
                "pass_bps": th.slippage_pass_bps,
                "pass": bool(needed and all(needed)),
            }
        )
        if not needed:
            out[-1]["error"] = (
                f"no slippage_bps point is at or below slippage_pass_bps "
                f"({th.slippage_pass_bps:g}): nothing was judged"
            )
    return out


def _regime_labels(ctx: GateContext) -> tuple[np.ndarray, tuple[str, ...], str]:
    """Per bar: the run's committed HMM regime when ``[regime.hmm]`` is on, else terciles
    of the trailing realized volatility of the universe (cut-offs from the bars before
    the evaluated part, or all bars without a split)."""
    regimes = market_regimes(ctx.market, ctx.config.regime)
    if regimes.path is not None:
        return regimes.path.labels, REGIME_NAMES, "hmm"
    r = log_return(log_prices(ctx.market.prices("close")), 1)
    sq = np.where(np.isfinite(r), r**2, 0.0).sum(axis=1) / np.maximum(np.isfinite(r).sum(axis=1), 1)
    # trailing mean over VOL_WINDOW bars; the first bars' windows are padded with zeros
    padded = np.concatenate([np.zeros(VOL_WINDOW - 1), sq])
    vol = np.sqrt(window_mean(padded, VOL_WINDOW)[VOL_WINDOW - 1 :])
    ref = vol[: ctx.start] if ctx.start > VOL_WINDOW else vol
    cuts = np.quantile(ref, [1 / 3, 2 / 3])
    return np.searchsorted(cuts, vol), VOL_NAMES, "realized volatility terciles"


def regime_sliced(ctx: GateContext) -> list[Verdict]:
    """The evaluated returns per regime; the worst regime (with enough bars) keeps a
    per-bar Sharpe of at least ``regime_min_sharpe``. When no regime has enough bars nothing
    was judged, and the check fails with that reason."""
    th = ctx.thresholds.G3
    labels, names, source = _regime_labels(ctx)
    labels = labels[ctx.start : ctx.start + ctx.base.shape[0]]
    out: list[Verdict] = []
    for k in range(len(ctx.candidates)):
        slices: dict[str, object] = {}
        worst = np.inf
        for code, name in enumerate(names):
            r = ctx.base[labels == code, k]
            s = float(sharpe(r[:, None])[0]) if r.size >= 2 else 0.0
            slices[name] = {
                "bars": int(r.size),
                "sharpe": figure(s),
                "return": figure(np.prod(1 + r) - 1),
            }
            if r.size >= th.regime_min_bars:
                worst = min(worst, s)
        verdict: Verdict = {
            "source": source,
            "regimes": slices,
            "worst_sharpe": figure(worst) if np.isfinite(worst) else None,
            "pass": bool(np.isfinite(worst) and worst >= th.regime_min_sharpe),
        }
        if not np.isfinite(worst):  # no regime was judged: no evidence, not a pass
            verdict["error"] = (
                f"no regime has {th.regime_min_bars} evaluated bars (regime_min_bars); "
                f"the evaluated part has {labels.size}"
            )
        out.append(verdict)
    return out


def perturbed(genome: Genome, scale: float, rng: np.random.Generator) -> Genome:
    """``genome`` with Gaussian noise of ``scale`` x each weight tensor's std added."""
    weights = []
    for array in genome.weights:
        w = array.numpy()
        noise = rng.standard_normal(w.shape) * scale * float(w.std())
        weights.append(Array.of((w + noise).astype(w.dtype)))
    return msgspec.structs.replace(genome, weights=tuple(weights))


def perturbation_jobs(ctx: GateContext) -> dict[str, FrozenJob]:
    """One batched frozen run of ``perturbations`` noisy copies of each learned candidate
    (drawn from the check's own generator: the same copies every time)."""
    th = ctx.thresholds.G3
    rng = ctx.rng("perturbation")
    plays = [
        Play(c, perturbed(c.genome, th.perturbation_scale, rng))
        for c in ctx.candidates
        if c.genome is not None
        for _ in range(th.perturbations)
    ]
    return {"perturbation": ctx.frozen_job(plays=plays)} if plays else {}


def perturbation(ctx: GateContext) -> list[Verdict]:
    """Learned agents only: the median Sharpe of ``perturbations`` copies with slightly
    noisy weights keeps ``perturbation_min_retention`` of the Sharpe (an edge on a knife's
    edge of parameter space is a fitted accident)."""
    th = ctx.thresholds.G3
    jobs = perturbation_jobs(ctx)
    scores = np.zeros(0)
    if jobs:
        n = len(jobs["perturbation"].plays)
        note = f"parameter perturbations ({n} variants)"
        scores = sharpe(ctx.frozen_returns(jobs, note)["perturbation"])
    out: list[Verdict] = []
    i = 0
    for k, c in enumerate(ctx.candidates):
        if c.genome is None:
            out.append({"n/a": "rule agent: parameters are the config", "pass": True})
            continue
        mine, i = scores[i : i + th.perturbations], i + th.perturbations
        base = float(ctx.base_sharpe[k])
        retention = float(np.median(mine)) / base if base > 0 else 0.0
        out.append(
            {
                "sharpe": figure(base),
                "copies": th.perturbations,
                "scale": th.perturbation_scale,
                "median_sharpe": figure(np.median(mine)),
                "positive_share": figure((mine > 0).mean()),
                "retention": figure(retention),
                "pass": bool(base > 0 and retention >= th.perturbation_min_retention),
            }
        )
    return out


CHECKS = {
    "walk_forward": walk_forward,
    "fees_x2": fees_x2,
    "slippage": slippage,
    "regime_sliced": regime_sliced,
    "perturbation": perturbation,
}
"""G3's checks, in report order; the gate passes when every one passes."""

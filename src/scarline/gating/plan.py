"""Every independent kernel run the wanted gates need, gathered into one batch.

Run one after another, a gate's runs leave workers idle at the end of every check (three
slippage variants on two workers, then one fee run...). Named up front, they go to the
executor together, longest first, and each check then finds its results by name
(:meth:`scarline.gating.context.GateContext.results`): the same results, in less time.
The label shuffle's frozen evaluation rides in its retraining job (it needs the retrained
agents), so nothing waits for the batch. The walk-forward folds and the label shuffle's
retraining need neither the replayed kernel nor the candidates: :func:`replay_starting`
starts them while the run is replayed (G1), on an executor with workers, so the replay no
longer leaves them idle.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from scarline.agents.config import QNetGroup
from scarline.config import RunConfig
from scarline.gating import anti_overfit, lookahead, robustness
from scarline.gating.config import GatesConfig
from scarline.gating.context import GateContext
from scarline.gating.executor import GateExecutor
from scarline.gating.jobs import Job, run_job
from scarline.gating.subject import RunUnderTest, chosen_in_sample, load_run_under_test
from scarline.market.frame import MarketData

Started = dict[str, Callable[[], Any]]
"""Runs already started, by job name: each call returns its result."""


def independent_runs(ctx: GateContext, wanted: set[str]) -> dict[str, Job]:
    """The named jobs of G2 and G3 (those wanted), whole runs with learning first."""
    g2, g3 = "G2" in wanted, "G3" in wanted
    jobs: dict[str, Job] = {}
    if g2:
        jobs |= anti_overfit.shuffle_jobs(ctx)
    if g3:
        jobs |= robustness.fold_jobs(ctx)
    if g2 or g3:
        jobs["frozen"] = ctx.frozen_job(log=True)
    if g2:
        jobs |= lookahead.truncation_jobs(ctx)
        jobs |= lookahead.lag_jobs(ctx)
        jobs |= ctx.baseline_jobs()
        jobs |= anti_overfit.ablation_jobs(ctx)
    if g3:
        jobs |= robustness.cost_jobs(ctx)
        jobs |= robustness.perturbation_jobs(ctx)
    if g2:
        jobs |= anti_overfit.permutation_jobs(ctx)
    return jobs


def run_ahead(ctx: GateContext, wanted: set[str]) -> None:
    """Start :func:`independent_runs` in one batch on the context's executor; the checks
    collect them, and this process is free meanwhile (G0 reads the data then)."""
    ex = ctx.executor
    jobs = independent_runs(ctx, wanted)
    ctx.start_runs(jobs, f"{len(jobs)} independent runs ({ex.name} x{ex.workers})")


def replay_starting(
    run_dir: Path,
    thresholds: GatesConfig,
    wanted: set[str],
    executor: GateExecutor,
    agents: list[str] | None = None,
) -> tuple[RunUnderTest, Started]:
    """Replay the run (G1) and, once its config, market and schema are read from the WAL and
    before its kernel runs, start the runs that need nothing else on ``executor``: the
    walk-forward folds (G3), and the label shuffle's retraining (G2) when the candidates
    ``agents`` will come from the one learning group there is (every item ``top:K``: the
    ranking's pool is the living learners; were none alive, the run started is not used).
    The runs are the very jobs the checks name, built from the replay's own config, market
    and schema, so their results are the ones the batch would compute
    (:meth:`GateContext.adopt`); on ``serial`` they run when asked for, as before."""
    started: Started = {}

    def start(config: RunConfig, market: MarketData, schema: int) -> None:
        jobs: dict[str, Job] = {}
        if "G2" in wanted and chosen_in_sample(agents or []):
            learners = [i for i, g in enumerate(config.agents) if isinstance(g, QNetGroup)]
            if len(learners) == 1:  # the longest run first
                g2 = thresholds.G2
                jobs |= anti_overfit.shuffle_jobs_of(config, market, learners, g2, schema)
        if "G3" in wanted:
            jobs |= robustness.fold_jobs_of(config, market, thresholds.G3, schema)
        if jobs:
            calls = executor.submit(run_job, list(jobs.values()))
            started.update(zip(jobs, calls, strict=True))

    try:
        if wanted & {"G2", "G3"}:
            executor.start()  # its workers load their modules while the WAL is read
        return load_run_under_test(run_dir, on_market=start), started
    except BaseException:
        executor.close()  # nothing will collect the started runs
        raise

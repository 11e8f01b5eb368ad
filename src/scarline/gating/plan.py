"""Every independent kernel run the wanted gates need, gathered into one batch.

Run one after another, a gate's runs leave workers idle at the end of every check (three
slippage variants on two workers, then one fee run...). Named up front, they go to the
executor together, longest first, and each check then finds its results by name
(:meth:`scarline.gating.context.GateContext.results`): the same results, in less time.
Only the frozen evaluation of the shuffled-reward agents waits, for their retraining.
"""

from __future__ import annotations

from scarline.gating import anti_overfit, lookahead, robustness
from scarline.gating.context import GateContext
from scarline.gating.jobs import Job


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
    """Run :func:`independent_runs` in one batch on the context's executor."""
    jobs = independent_runs(ctx, wanted)
    if jobs:
        ex = ctx.executor
        ctx.results(jobs, f"{len(jobs)} independent runs ({ex.name} x{ex.workers})")

"""The gates' independent kernel runs as picklable jobs: plain data with a ``run`` method,
run through the module-level :func:`run_job`, so any executor
(:mod:`scarline.gating.executor`) can run them where it likes and the results are the same
wherever they ran. Each job carries the event schema its kernels run under (the recorded
run's, :mod:`scarline.gating.frozen`): a worker process has nothing else to read it from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from scarline.agents.qagents import QAgents
from scarline.config import RunConfig
from scarline.events import SCHEMA_VERSION
from scarline.gating.frozen import Candidate, DecisionLog, FrozenRun, Play, frozen_run, run_kernel
from scarline.market.frame import MarketData


class Job(Protocol):
    def run(self) -> Any: ...


def run_job(job: Job) -> Any:
    """What every executor maps: the job's own run."""
    return job.run()


@dataclass(frozen=True, eq=False)
class FrozenJob:
    """``plays`` frozen on ``market`` under ``config`` and event ``schema``'s rules
    (:mod:`scarline.gating.frozen`); ``log``: keep the decision log (the truncation test)."""

    config: RunConfig
    market: MarketData
    plays: tuple[Play, ...]
    log: bool = False
    schema: int = SCHEMA_VERSION

    def run(self) -> FrozenRun:
        if not self.plays:
            empty = np.zeros((self.market.n_steps, 0))
            return FrozenRun(empty, [], DecisionLog(False))
        plays = list(self.plays)
        return frozen_run(self.config, self.market, plays, record=self.log, schema=self.schema)


@dataclass(frozen=True, eq=False)
class KernelJob:
    """A whole run of ``config`` on ``market`` (learning and all) under event ``schema``'s
    rules; ``columns``: the agent rows whose equity comes back (``float64[T, K]``; None:
    every agent's)."""

    config: RunConfig
    market: MarketData
    columns: tuple[int, ...] | None = None
    schema: int = SCHEMA_VERSION

    def run(self) -> np.ndarray:
        kernel = run_kernel(self.config, self.market, self.schema)
        equity = kernel.recorder.equity
        assert equity is not None
        return (equity if self.columns is None else equity[:, list(self.columns)]).astype(
            np.float64
        )


@dataclass(frozen=True, eq=False)
class RetrainJob:
    """A whole run of ``config``, whose only group is a learning one standing in for the
    run's group ``group``; its agents as they end, as candidates of that group, then run
    frozen on ``market`` under ``evaluation`` (the run's config) exactly as
    :meth:`scarline.gating.context.GateContext.frozen_job` would.

    The frozen evaluation needs the retrained agents, so it is part of this job rather than
    a job of its own: run after the batch it would leave every other worker idle (one run
    of a whole group), in this job it overlaps the batch's other runs. Both run under event
    ``schema``'s rules."""

    config: RunConfig
    market: MarketData
    group: int
    evaluation: RunConfig
    schema: int = SCHEMA_VERSION

    def retrain(self) -> list[Candidate]:
        """The retrained agents as candidates of the run's group ``group``."""
        kernel = run_kernel(self.config, self.market, self.schema)
        agents = kernel.population.groups[0]
        assert isinstance(agents, QAgents)
        return [Candidate.learner(i, self.group, i, agents) for i in range(agents.n_agents)]

    def run(self) -> FrozenRun:
        plays = tuple(Play(c) for c in self.retrain())
        return FrozenJob(self.evaluation, self.market, plays, schema=self.schema).run()

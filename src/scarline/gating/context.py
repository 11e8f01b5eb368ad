"""What every gate check shares: the run under test, the candidates, the thresholds, the
frozen evaluation on the real market (computed once) and the baselines.

Each check is a function ``(GateContext) -> list[dict]``: one JSON-ready verdict per
candidate (figures plus ``"pass"``), in candidate order. The kernel runs a check needs are
named jobs (:mod:`scarline.gating.jobs`) run through the context's executor and kept by name,
so the runner can start every independent run of the wanted gates in one batch
(:mod:`scarline.gating.plan`) and each check then finds its results ready.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from scarline.agents.config import BuyAndHoldGroup, QNetGroup, RandomEntryGroup
from scarline.config import RunConfig
from scarline.gating.clusters import Clusters, cluster_trials
from scarline.gating.config import GatesConfig
from scarline.gating.executor import GateExecutor, SerialExecutor
from scarline.gating.frozen import Candidate, FrozenRun, Play, bar_returns, frozen_equity
from scarline.gating.jobs import FrozenJob, Job, KernelJob, run_job
from scarline.gating.subject import RunUnderTest
from scarline.market.frame import MarketData
from scarline.stats import sharpe

Verdict = dict[str, object]


def figure(x: float) -> float:
    """A figure as ``gates.json`` records it: a plain float, 6 decimals."""
    return float(round(float(x), 6))


@dataclass(frozen=True)
class Baselines:
    """Per candidate source group: buy-and-hold, random-entry placebos and cash (zeros),
    as per-bar returns over the evaluated bars, and the same over the bars before them
    (bars 1 .. start - 1: the in-sample part of a run with a split)."""

    buy_and_hold: np.ndarray  # [W]
    placebos: np.ndarray  # [W, P]
    buy_and_hold_before: np.ndarray  # [start - 1]
    placebos_before: np.ndarray  # [start - 1, P]

    def matrix(self) -> np.ndarray:
        """``[W, 3]``: buy-and-hold, the average placebo, cash."""
        zeros = np.zeros_like(self.buy_and_hold)
        return np.column_stack([self.buy_and_hold, self.placebos.mean(axis=1), zeros])


@dataclass(frozen=True)
class InSample:
    """A candidate's in-sample record as evidence (:func:`scarline.gating.evidence.in_sample`):
    bars ``first..last``, the pool it was chosen among, its Sharpe there and one p-value per
    SPA benchmark, each corrected for the ``top:K`` choice."""

    first: int
    last: int
    pool: int
    sharpe: float
    p_values: tuple[float, ...]

    @property
    def n_obs(self) -> int:
        return self.last - self.first + 1


@dataclass(eq=False)
class GateContext:
    run: RunUnderTest
    candidates: list[Candidate]
    thresholds: GatesConfig
    tick: Callable[[str], None] = field(default=lambda _msg: None)
    # the candidates were chosen on in-sample bars only and are judged on held-out bars:
    # the only search the evaluated bars saw is the choice among the candidates themselves
    holdout: bool = False
    executor: GateExecutor = field(default_factory=SerialExecutor)
    _clusters: dict[int, Clusters] = field(default_factory=dict, init=False, repr=False)
    _results: dict[str, Any] = field(default_factory=dict, init=False, repr=False)
    _started: dict[str, Callable[[], Any]] = field(default_factory=dict, init=False, repr=False)
    # per source group, by agent id: candidates' in-sample records (evidence.in_sample)
    _in_sample: dict[int, dict[int, InSample]] = field(default_factory=dict, init=False, repr=False)

    @property
    def plays(self) -> list[Play]:
        return [Play(c) for c in self.candidates]

    @property
    def config(self) -> RunConfig:
        return self.run.config

    @property
    def market(self) -> MarketData:
        return self.run.market

    @property
    def start(self) -> int:
        return self.run.start

    @property
    def schema(self) -> int:
        """The event schema every re-run here runs under: the recorded run's."""
        return self.run.schema

    def rng(self, name: str) -> np.random.Generator:
        """A generator for one check, from the thresholds' seed and the check's name."""
        key = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")
        return np.random.default_rng([self.thresholds.seed, key])

    def results(self, jobs: Mapping[str, Job], note: str | None = None) -> dict[str, Any]:
        """Each named job's result: those not run yet run now, together, on the executor
        (``note``: the progress message; default one naming the batch)."""
        missing = {name: job for name, job in jobs.items() if name not in self._results}
        if missing:
            ex = self.executor
            self.tick(note or f"{len(missing)} independent runs ({ex.name} x{ex.workers})")
            rest = {name: job for name, job in missing.items() if name not in self._started}
            done = ex.map(run_job, list(rest.values()))
            self._results.update(zip(rest, done, strict=True))
            for name in missing:
                if name not in rest:
                    self._results[name] = self._started.pop(name)()
        return {name: self._results[name] for name in jobs}

    def start_runs(self, jobs: Mapping[str, Job], note: str) -> None:
        """Start the named jobs not run or started yet on the executor and return at once;
        :meth:`results` collects them (``serial`` runs each then)."""
        fresh = {n: j for n, j in jobs.items() if n not in self._results and n not in self._started}
        if fresh:
            self.tick(note)
            calls = self.executor.submit(run_job, list(fresh.values()))
            self._started.update(zip(fresh, calls, strict=True))

    def adopt(self, started: Mapping[str, Callable[[], Any]]) -> None:
        """Runs started before this context existed (:func:`scarline.gating.plan.replay_starting`:
        while the run was replayed), by the names their jobs have here; :meth:`results`
        takes their results instead of running them again."""
        self._started.update(started)

    def frozen_job(
        self,
        plays: list[Play] | None = None,
        market: MarketData | None = None,
        config: RunConfig | None = None,
        log: bool = False,
    ) -> FrozenJob:
        """The frozen run of ``plays`` (default: the candidates) on ``market`` under
        ``config`` (defaults: the run's), under the run's schema."""
        return FrozenJob(
            config or self.config,
            market or self.market,
            tuple(self.plays if plays is None else plays),
            log,
            self.schema,
        )

    def frozen_returns(
        self, jobs: Mapping[str, Job], note: str | None = None
    ) -> dict[str, np.ndarray]:
        """``[W, K]`` per-bar returns over the evaluated bars of each named job whose result
        is a :class:`FrozenRun` (a frozen job, or a retraining then evaluated frozen)."""
        runs = self.results(jobs, note)
        return {name: bar_returns(run.equity, self.start) for name, run in runs.items()}

    def returns(
        self,
        plays: list[Play] | None = None,
        market: MarketData | None = None,
        config: RunConfig | None = None,
        start: int | None = None,
    ) -> np.ndarray:
        """``[W, K]`` per-bar returns over the evaluated bars of ``plays`` (default: the
        candidates) run frozen on ``market`` under ``config`` (defaults: the run's)."""
        equity = frozen_equity(
            config or self.config,
            market or self.market,
            self.plays if plays is None else plays,
            self.schema,
        )
        return bar_returns(equity, self.start if start is None else start)

    @cached_property
    def frozen(self) -> FrozenRun:
        """The candidates frozen on the real market, with their decision log: the reference
        everywhere (the truncation test compares its log with the cut runs')."""
        return self.results({"frozen": self.frozen_job(log=True)}, "frozen evaluation")["frozen"]

    @cached_property
    def base_equity(self) -> np.ndarray:
        """``[T, K]`` the candidates' equity frozen on the real market."""
        return self.frozen.equity

    @cached_property
    def base(self) -> np.ndarray:
        return bar_returns(self.base_equity, self.start)

    @cached_property
    def base_sharpe(self) -> np.ndarray:
        return sharpe(self.base)

    def baseline_jobs(self) -> dict[str, Job]:
        """Per candidate source group: one run of buy-and-hold and the random-entry placebos
        trading its universe with its sizing."""
        jobs: dict[str, Job] = {}
        n = self.thresholds.G2.placebo_agents
        for group in sorted({c.group for c in self.candidates}):
            source = self.config.agents[group]
            # a learned agent with a negative action level can short: so do its placebos
            shorts = isinstance(source, QNetGroup) and min(source.qnet.actions) < 0
            sizing, allow_short = source.sizing, source.allow_short or shorts
            groups = [
                BuyAndHoldGroup(sizing=sizing, allow_short=allow_short),
                RandomEntryGroup(count=n, sizing=sizing, allow_short=allow_short),
            ]
            cfg = self.config.model_copy(
                update={
                    "agents": groups,
                    "evaluation": self.config.evaluation.model_copy(update={"oos_fraction": 0.0}),
                    "report": False,
                }
            )
            jobs[f"baselines:{group}"] = KernelJob(cfg, self.market, schema=self.schema)
        return jobs

    @cached_property
    def _baselines(self) -> dict[int, Baselines]:
        out: dict[int, Baselines] = {}
        cut = max(self.start, 1) - 1  # row of the first evaluated bar
        for name, equity in self.results(self.baseline_jobs(), "baselines").items():
            r = bar_returns(equity, 1)
            out[int(name.split(":")[1])] = Baselines(
                buy_and_hold=r[cut:, 0],
                placebos=r[cut:, 1:],
                buy_and_hold_before=r[:cut, 0],
                placebos_before=r[:cut, 1:],
            )
        return out

    def baselines(self, candidate: Candidate) -> Baselines:
        return self._baselines[candidate.group]

    def clusters(self, group: int) -> Clusters:
        """The distinct strategies among a group's agents, clustered on their evaluated
        returns (computed once per group; the DSR and PBO share them)."""
        if group not in self._clusters:
            rows, _ = self.run.groups()[group]
            returns = bar_returns(self.run.equity[:, rows], self.start)
            self._clusters[group] = cluster_trials(returns)
        return self._clusters[group]

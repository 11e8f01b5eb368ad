"""The run under test: replayed once, with every agent's equity, and the agents to judge.

The gates never trust what a run directory says about itself: they re-execute it from its
WAL (that replay *is* G1) and read the final state of that kernel — learned genomes, equity
paths, who is alive — instead of files that could have been edited.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from scarline.agents.policy import Policy
from scarline.agents.qagents import QAgents
from scarline.config import RunConfig
from scarline.errors import ScarlineError
from scarline.gating.frozen import Candidate
from scarline.journal.manifest import read_manifest
from scarline.market.frame import MarketData
from scarline.replayer import Replayed, replay
from scarline.rundir import RunDir
from scarline.session import is_agent_id


class GateInputError(ScarlineError):
    """The run or the ``--agents`` selection cannot be gated (the message says why)."""

    exit_code = 2


@dataclass(eq=False)
class RunUnderTest:
    """A replayed run: its config, the market it saw (from its WAL) and its final kernel."""

    run_dir: Path
    replayed: Replayed

    @property
    def config(self) -> RunConfig:
        return self.replayed.config

    @property
    def market(self) -> MarketData:
        return self.replayed.market

    @property
    def schema(self) -> int:
        """The event schema the run was recorded with (its ``SessionStart``'s, which the
        replay checked against the manifest and ran): every re-run of its candidates runs
        these rules, so a gate compares the recorded market with markets judged alike."""
        return self.replayed.kernel.schema_version

    @property
    def split(self) -> int | None:
        return self.config.evaluation.split_step(self.replayed.result.steps)

    @property
    def start(self) -> int:
        """First evaluated bar: the out-of-sample part, or bar 1 without a split."""
        return self.split if self.split is not None else 1

    @cached_property
    def equity(self) -> np.ndarray:
        """``float64[T, N]`` every agent's equity over the run (cash units; converted once,
        read by several checks)."""
        equity = self.replayed.kernel.recorder.equity
        assert equity is not None
        return equity.astype(np.float64)

    def groups(self) -> list[tuple[slice, Policy]]:
        """``(rows, policy group)`` of every configured group, in config order."""
        population = self.replayed.kernel.population
        starts = np.cumsum([0, *(g.n_agents for g in population.groups)])
        return [
            (slice(int(starts[i]), int(starts[i + 1])), g) for i, g in enumerate(population.groups)
        ]

    def generations(self, group: int) -> int:
        """Generations a group lived through: 1 + its life cycles before the split."""
        _, policy = self.groups()[group]
        if not isinstance(policy, QAgents) or policy.evolver is None:
            return 1
        end = self.split if self.split is not None else self.replayed.result.steps
        return 1 + sum(1 for t in range(end) if policy.evolver.due(t))

    def evolved(self, agents: np.ndarray) -> bool:
        """Whether any of ``agents``' groups went through a life cycle before the split."""
        groups = self.groups()
        return any(
            self.generations(i) > 1
            for i, (rows, _) in enumerate(groups)
            if ((agents >= rows.start) & (agents < rows.stop)).any()
        )

    def candidate(self, agent: int) -> Candidate:
        n = self.replayed.kernel.population.n_agents
        if not 0 <= agent < n:
            raise GateInputError(f"{self.run_dir}: no agent {agent} (the run has {n} agents)")
        for index, (rows, policy) in enumerate(self.groups()):
            if rows.start <= agent < rows.stop:
                row = agent - rows.start
                if isinstance(policy, QAgents):
                    return Candidate.learner(agent, index, row, policy)
                return Candidate(agent=agent, kind=str(policy.name), group=index, row=row)
        raise AssertionError("unreachable: agent ids cover the groups")  # pragma: no cover

    def pool(self) -> np.ndarray:
        """The agents :meth:`ranking` chooses among: the living learning agents, or every
        living agent when no learner lives."""
        kinds = np.array(self.replayed.kernel.population.kinds)
        alive = self.replayed.kernel.life.alive
        pool = np.flatnonzero((kinds == QAgents.name) & alive)
        return pool if pool.size else np.flatnonzero(alive)

    def ranking(self) -> np.ndarray:
        """Living agents, best in-sample return first (learning agents only, if any): the
        choice a researcher makes without looking at the out-of-sample part."""
        pool = self.pool()
        end = (self.split if self.split is not None else self.replayed.result.steps) - 1
        score = self.equity[end, pool] / np.maximum(self.equity[0, pool], 1.0)
        return pool[np.argsort(-score, kind="stable")]


_TOP = re.compile(r"top:([0-9]+)")


def parse_agents(spec: list[str]) -> list[tuple[bool, int]]:
    """``--agents`` items (``["top:K"]``, ``["3", "17"]`` or ``["3,17"]``; none: ``top:1``) as
    ``(is_top, K or agent id)``: their syntax is checked before the run is replayed."""
    items: list[tuple[bool, int]] = []
    for item in (part.strip() for entry in spec or ["top:1"] for part in entry.split(",")):
        if m := _TOP.fullmatch(item):
            k = int(m.group(1))
            if k < 1:
                raise GateInputError("--agents top:K needs K >= 1")
            items.append((True, k))
        elif is_agent_id(item):
            items.append((False, int(item)))
        else:
            raise GateInputError(f"--agents: {item!r} is neither top:K nor an agent id")
    return items


def select(run: RunUnderTest, spec: list[str]) -> list[Candidate]:
    """:func:`parse_agents` ``spec`` → candidates, in that order (duplicates once)."""
    agents: list[int] = []
    for top, n in parse_agents(spec):
        if top:
            agents.extend(int(a) for a in run.ranking()[:n])
        else:
            agents.append(n)
    return [run.candidate(a) for a in dict.fromkeys(agents)]  # first mention wins


def chosen_in_sample(spec: list[str]) -> bool:
    """Whether every candidate of ``spec`` comes from ``top:K`` (the in-sample ranking):
    then no out-of-sample figure took part in choosing them. Agent ids may have been picked
    by looking at anything, the out-of-sample part included."""
    parts = [part.strip() for entry in spec or ["top:1"] for part in entry.split(",")]
    return all(_TOP.fullmatch(part) for part in parts if part)


def load_run_under_test(
    run_dir: Path, on_market: Callable[[RunConfig, MarketData, int], None] | None = None
) -> RunUnderTest:
    """Replay ``run_dir`` (keeping equity); a WAL or manifest problem is a clear error.
    ``on_market``: see :func:`scarline.replayer.replay`."""
    run_dir = Path(run_dir)
    if not RunDir(run_dir).manifest.is_file():
        raise GateInputError(f"{run_dir}: no {RunDir.MANIFEST} (not a finished run directory)")
    try:
        sealed = read_manifest(run_dir).sealed_after_crash
        if sealed is not None and not sealed.session_ended:
            raise GateInputError(
                f"{run_dir}: sealed after a crash over a prefix of the run (`scarline wal "
                "seal`): its held-out split would be cut from the prefix, over bars the "
                "agents learned on, and its input is not the data's; gates judge finished "
                "runs (run it again)"
            )
        replayed = replay(run_dir, keep_equity=True, on_market=on_market)
    except GateInputError:
        raise
    except ScarlineError as err:  # a run that cannot be replayed is bad input, not a failed gate
        raise GateInputError(str(err)) from None
    return RunUnderTest(run_dir, replayed)

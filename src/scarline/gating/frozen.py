"""Candidates and their frozen evaluation: the one way every gate scores a policy, and the
one harness that runs a kernel without writing anything (:func:`run_kernel`).

A candidate is one agent of a finished run: for a learning agent its final genome (weights
and genes, taken from the replayed kernel) on the instrument it traded; for a rule agent its
group and row. :func:`frozen_equity` runs any number of such policies — the same ones on a
placebo market, with doubled fees, perturbed weights, ablated features — through the full
kernel (costs, risk, accounting), greedy from the first bar, nothing learning or evolving.
All learned policies of one source group share one batched network population, so a gate
costs one kernel run per market or cost variant, not one per agent.

Every kernel here runs the rules of one event ``schema`` (``scarline.events``): a gate
re-running a recorded run's candidates passes the schema that run was recorded with, so
its permuted, placebo and cost-variant markets are judged under the very risk rules and
network arithmetic the recorded market was; a fresh candidate (no recorded run) takes the
current :data:`~scarline.events.SCHEMA_VERSION`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scarline.agents.config import QNetGroup
from scarline.agents.qagents import QAgents
from scarline.assembly import kernel_for
from scarline.config import RunConfig
from scarline.errors import ScarlineError
from scarline.events import REPLAYABLE_SCHEMAS, SCHEMA_VERSION, Decision, Event
from scarline.evolution.genome import Genome, policy_hash
from scarline.kernel import Kernel
from scarline.market.frame import MarketData
from scarline.operator import ReplayOperator
from scarline.session import Journal, SessionIds
from scarline.stats import period_returns


@dataclass(frozen=True)
class Candidate:
    """Agent ``agent`` of the run: ``group`` (index in ``config.agents``) and ``row`` in it."""

    agent: int
    kind: str
    group: int
    row: int
    instrument: int | None = None  # learned agents trade one instrument
    genome: Genome | None = None  # learned agents: the final genome
    policy_hash: str | None = None

    @property
    def learned(self) -> bool:
        return self.genome is not None

    @classmethod
    def learner(cls, agent: int, group: int, row: int, agents: QAgents) -> Candidate:
        """Row ``row`` of a learning group as it is now (its genome and instrument)."""
        genome = agents.genome(row)
        return cls(
            agent=agent,
            kind=agents.name,
            group=group,
            row=row,
            instrument=int(agents.instrument[row]),
            genome=genome,
            policy_hash=policy_hash(genome),
        )


@dataclass(frozen=True)
class Play:
    """One policy to evaluate: a candidate, optionally with another genome (perturbed,
    ablated, retrained) in place of its own."""

    candidate: Candidate
    genome: Genome | None = None

    @property
    def policy(self) -> Genome | None:
        return self.genome if self.genome is not None else self.candidate.genome


EVALUATION_IDS = SessionIds("gates", "g")
"""The ids of every kernel run here (nothing is written, so they only need to be fixed)."""


class CountingJournal:
    """A journal that only numbers records: no gate reads a re-run's WAL head, so nothing is
    encoded or hashed (that cost ~8 % of a frozen run). Its head is empty. It says it
    ``discards_records``, so the kernel does not even build the per-step ones (bars,
    decisions, risk checks, orders, fills: ~20 % of a small frozen run's step); the
    :class:`DecisionLog` that reads decisions does not."""

    __slots__ = ("next_seq",)
    discards_records = True

    def __init__(self) -> None:
        self.next_seq = 0

    def append(self, event: Event, ts: int) -> int:
        seq = self.next_seq
        self.next_seq = seq + 1
        return seq

    @property
    def head(self) -> str:
        return ""


def traded_regimes(config: RunConfig) -> RunConfig:
    """``config`` with the HMM off when nothing trades on it (no group has regime heads and
    the router is off): then the regime only labels journal records no gate reads, and its
    rolling refits (seconds per run) change no equity."""
    regime = config.regime
    heads = any(isinstance(g, QNetGroup) and g.qnet.regime_heads for g in config.agents)
    if not regime.hmm.enabled or heads or regime.router.enabled:
        return config
    hmm = regime.hmm.model_copy(update={"enabled": False})
    return config.model_copy(update={"regime": regime.model_copy(update={"hmm": hmm})})


class SchemaRefused(ScarlineError):
    """A re-run asked for rules this code does not execute (the schema is not replayable)."""

    exit_code = 2


def rerun_schema(schema: int) -> int:
    """``schema`` if this code runs its rules (:data:`~scarline.events.REPLAYABLE_SCHEMAS`):
    re-running a candidate under other rules than its run's would judge another policy."""
    if schema not in REPLAYABLE_SCHEMAS:
        known = ", ".join(str(v) for v in REPLAYABLE_SCHEMAS)
        raise SchemaRefused(
            f"cannot re-run under event schema {schema}: this scarline runs schemas {known} "
            "(see docs/wal.md, 'Schema versions')"
        )
    return schema


def unrecorded_kernel(
    config: RunConfig,
    market: MarketData,
    journal: Journal | None = None,
    schema: int = SCHEMA_VERSION,
) -> Kernel:
    """A kernel for ``config`` on ``market`` that writes nothing (``journal``, default a
    :class:`CountingJournal`), computes no regime nothing trades on (:func:`traded_regimes`),
    that no operator input ever kills, and that runs the rules of event ``schema``."""
    sink = journal if journal is not None else CountingJournal()
    return kernel_for(
        traded_regimes(config),
        market,
        EVALUATION_IDS,
        sink,
        ReplayOperator([]),
        schema_version=rerun_schema(schema),
    )


def run_kernel(config: RunConfig, market: MarketData, schema: int = SCHEMA_VERSION) -> Kernel:
    """Run ``config`` on ``market`` without writing anything (a gate's re-run, a study's
    run): learning, evolution and all, as ``scarline run`` would, minus the files; under the
    rules of event ``schema`` (a recorded run's, for a gate)."""
    kernel = unrecorded_kernel(config, market, schema=schema)
    kernel.run()
    return kernel


def frozen_config(config: RunConfig, plays: list[Play]) -> tuple[RunConfig, list[tuple[int, int]]]:
    """The evaluation config and, per play, its ``(group, row)`` there.

    Learned plays of one source group become one non-learning, non-evolving group holding
    exactly them; each rule group a play needs is copied once (rule agents are deterministic
    functions of the market, so their own rows are reused).
    """
    groups: list = []
    learned: dict[int, int] = {}  # source group -> eval group
    rules: dict[int, int] = {}
    counts: dict[int, int] = {}
    where: list[tuple[int, int]] = []
    for play in plays:
        c = play.candidate
        if play.policy is not None:
            if c.group not in learned:
                learned[c.group] = len(groups)
                groups.append(None)  # filled once the count is known
                counts[c.group] = 0
            where.append((learned[c.group], counts[c.group]))
            counts[c.group] += 1
        else:
            if c.group not in rules:
                rules[c.group] = len(groups)
                groups.append(config.agents[c.group])
            where.append((rules[c.group], c.row))
    for source, index in learned.items():
        group = config.agents[source]
        assert isinstance(group, QNetGroup)
        groups[index] = group.model_copy(
            update={
                "count": counts[source],
                "learn": False,
                "evolution": group.evolution.model_copy(update={"enabled": False}),
            }
        )
    evaluation = config.evaluation.model_copy(update={"oos_fraction": 0.0})
    cfg = config.model_copy(update={"agents": groups, "evaluation": evaluation, "report": False})
    return cfg, where


class DecisionLog:
    """A counting journal that also keeps, per step, what each agent decided (its changed
    cells) and the hash of the inputs: the signals and indicator values the truncation test
    compares."""

    def __init__(self, record: bool = True) -> None:
        self.record = record
        self.inner = CountingJournal()
        self.cells: dict[tuple[int, int], bytes] = {}  # (step, agent) -> its changed cells
        self.inputs: dict[int, str] = {}  # step -> features_hash

    def append(self, event: Event, ts: int) -> int:
        if self.record and isinstance(event, Decision) and event.instrument is not None:
            agents, inst = event.agents.numpy(), event.instrument.numpy()
            actions, targets = event.actions.numpy(), event.target_qty.numpy()
            for k in np.unique(agents):
                cells = agents == k
                key = (event.step, int(k))
                self.cells[key] = (
                    inst[cells].tobytes() + actions[cells].tobytes() + targets[cells].tobytes()
                )
            self.inputs[event.step] = event.features_hash
        return self.inner.append(event, ts)

    @property
    def head(self) -> str:
        return self.inner.head

    def first_difference(self, other: DecisionLog, agent: int, before: int) -> int | None:
        """The first step < ``before`` where ``agent``'s decision differs (or, with
        ``inputs``, the decision inputs do) between the two logs; None if none."""
        for step in range(before):
            if self.cells.get((step, agent)) != other.cells.get((step, agent)):
                return step
        return None

    def first_input_difference(self, other: DecisionLog, before: int) -> int | None:
        for step in range(before):
            if self.inputs.get(step) != other.inputs.get(step):
                return step
        return None


@dataclass(frozen=True, eq=False)
class FrozenRun:
    """Equity ``float64[T, len(plays)]``, each play's agent row in the kernel, the log."""

    equity: np.ndarray
    rows: list[int]
    log: DecisionLog


def frozen_equity(
    config: RunConfig, market: MarketData, plays: list[Play], schema: int = SCHEMA_VERSION
) -> np.ndarray:
    """``float64[T, len(plays)]`` equity of every play on ``market`` under ``config``'s
    execution, risk and regime settings and event ``schema``'s rules, greedy from bar 0."""
    if not plays:
        return np.zeros((market.n_steps, 0))
    return frozen_run(config, market, plays, record=False, schema=schema).equity


def frozen_kernel(
    config: RunConfig,
    market: MarketData,
    plays: list[Play],
    journal: Journal | None = None,
    schema: int = SCHEMA_VERSION,
) -> tuple[Kernel, list[int]]:
    """The frozen kernel of ``plays`` on ``market`` under event ``schema``'s rules (not yet
    run) and each play's agent row in it."""
    cfg, where = frozen_config(config, plays)
    kernel = unrecorded_kernel(cfg, market, journal, schema)
    population = kernel.population
    for index, group in enumerate(population.groups):
        if not isinstance(group, QAgents):
            continue
        mine = [(p, row) for p, (g, row) in zip(plays, where, strict=True) if g == index]
        mine.sort(key=lambda item: item[1])
        genomes = [p.policy for p, _ in mine]
        instruments = np.array([p.candidate.instrument or 0 for p, _ in mine], dtype=np.int64)
        group.load_genomes([g for g in genomes if g is not None], instruments)
        group.freeze_at(0)
    starts = np.cumsum([0, *(g.n_agents for g in population.groups)])
    return kernel, [int(starts[g]) + row for g, row in where]


def play_equity(kernel: Kernel, columns: list[int]) -> np.ndarray:
    """``float64[T, K]``: the equity of a finished frozen kernel's play rows."""
    assert kernel.recorder.equity is not None
    return kernel.recorder.equity[:, columns].astype(np.float64)


def frozen_run(
    config: RunConfig,
    market: MarketData,
    plays: list[Play],
    record: bool = True,
    schema: int = SCHEMA_VERSION,
) -> FrozenRun:
    """:func:`frozen_equity` with the decision log (for the truncation test; with
    ``record=False`` the log stays empty: recording costs a little per decided agent)."""
    log = DecisionLog(record)
    kernel, columns = frozen_kernel(config, market, plays, log if record else log.inner, schema)
    kernel.run()
    return FrozenRun(play_equity(kernel, columns), columns, log)


def bar_returns(equity: np.ndarray, start: int) -> np.ndarray:
    """``float64[T - start, K]`` returns of the bars ``start..T-1`` (bar t's return is
    :func:`scarline.stats.period_return` from bar t-1; 0 where undefined, e.g. after ruin,
    so the gates' series compound and have no gaps)."""
    start = max(start, 1)
    return period_returns(equity[start - 1 :], undefined=0.0)


def total_return(returns: np.ndarray) -> np.ndarray:
    """Compounded return of each column of per-bar returns."""
    return np.prod(1.0 + returns, axis=0) - 1.0

"""Trust is real: recorded (WAL, diary, lineage, report) and, when configured, used as a
capital weight or as a preference in evolution's selection."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pyarrow.parquet as pq
import pytest
from list_journal import ListJournal

from scarline.assembly import kernel_for
from scarline.config import RunConfig
from scarline.events import Decision
from scarline.evolution.config import EvolutionConfig
from scarline.evolution.evolver import Evolver
from scarline.evolution.lineage import read_lineage
from scarline.evolution.trust import capital_weight, relative_trust, trusted_key, weigh
from scarline.journal import read_records
from scarline.kernel import Kernel
from scarline.market.io import write_market
from scarline.market.stream import normalized
from scarline.market.synthetic import SynthSpec, generate
from scarline.operator import ReplayOperator
from scarline.replayer import replay_run
from scarline.rng import SeedTree
from scarline.rundir import RunDir
from scarline.runner import execute_run, load_run_market
from scarline.session import SessionIds

HOLD = {"kind": "buy-and-hold", "sizing": {"mode": "fraction", "fraction": 1.0}}
CRASH = {"source": "sp500", "start": "2007-06-01", "end": "2009-06-30"}
QNET = {"hidden": [8], "warmup_steps": 16, "train_every": 4}


def test_capital_weight_is_relative_trust_clipped_and_rounded() -> None:
    trust = np.array([0.0, 0.1, 0.2, 0.3, 0.5, 0.9])
    assert relative_trust(trust).tolist() == [0.0, 0.2, 0.4, 0.6, 1.0, 1.0]
    assert capital_weight(trust, 4).tolist() == [0.0, 0.25, 0.5, 0.5, 1.0, 1.0]
    assert capital_weight(trust, 1).tolist() == [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]
    out = weigh(np.array([[-1, 0], [1, -1]], dtype=np.int8), np.array([0.0, 0.5]))
    assert out.dtype == np.float32 and out.tolist() == [[0.0, 0.0], [0.5, -0.5]]
    assert not np.signbit(out[0]).any()  # no -0.0: decisions are compared bit for bit


def test_trusted_key_orders_like_fitness_at_full_trust_and_sinks_the_distrusted() -> None:
    fitness = np.array([0.3, -1.0, np.nan, 0.3, 2.0])
    key = trusted_key(fitness, np.ones(5))
    assert np.isnan(key[2])
    assert key[[1, 0, 3, 4]].tolist() == [1.0, 2.0, 2.0, 4.0]  # ties share a rank
    key = trusted_key(fitness, np.array([1.0, 1.0, 1.0, 1.0, 0.0]))
    assert key[4] == 0.0 and np.nanargmin(key) == 4  # the fittest, distrusted, ranks last


def _parents(prefer: bool) -> tuple[np.ndarray, np.ndarray]:
    """One tournament cycle over 64 agents, the fittest half distrusted."""
    n = 64
    cfg = EvolutionConfig(enabled=True, every=10, min_age=0, birth_fraction=0.25)
    evolver = Evolver(cfg, n, 252.0, SeedTree(1), 0)
    fitness = np.arange(n, dtype=np.float64)
    evolver.fitness = lambda tracker, alive: fitness  # type: ignore[method-assign]
    if prefer:
        evolver.prefer(np.where(np.arange(n) >= n // 2, 0.0, 1.0))
    chosen = evolver.choose(SimpleNamespace(age=np.full(n, 100)), np.ones(n, dtype=bool))
    assert chosen.fitness is fitness  # the recorded fitness is the plain one
    return chosen.parents, chosen.slots


def test_selection_prefers_trusted_parents_and_culls_the_distrusted() -> None:
    parents, slots = _parents(prefer=False)
    assert (parents >= 32).mean() > 0.9 and (slots < 32).all()  # fitness alone
    parents, slots = _parents(prefer=True)
    assert (parents < 32).mean() > 0.9 and (slots >= 32).all()


def _run(scars: dict[str, object], seed: int = 0) -> tuple[Kernel, ListJournal]:
    cfg = RunConfig(seed=seed, data=CRASH, agents=[HOLD], scars=scars, report=False)
    journal = ListJournal()
    market = load_run_market(cfg)
    kernel = kernel_for(cfg, market, SessionIds("t", "s"), journal, ReplayOperator([]))
    kernel.run()
    return kernel, journal


def test_capital_shrinks_a_distrusted_agents_exposure_and_off_changes_nothing() -> None:
    plain, plain_journal = _run({})
    inert, _ = _run({"trust_levels": 2})  # trust_weight "none": the levels do nothing
    capital, journal = _run({"trust_weight": "capital"})
    assert inert.trace.hexdigest() == plain.trace.hexdigest()
    # through the 2008 crash buy-and-hold loses trust: it is given less capital
    decisions = journal.of(Decision)
    actions = np.concatenate([d.actions.numpy() for d in decisions])
    trust = np.concatenate([d.trust.numpy() for d in decisions])
    assert actions.min() < 1.0 and set(actions.tolist()) <= {0.0, 0.25, 0.5, 0.75, 1.0}
    assert np.array_equal(actions, capital_weight(trust, 4).astype(np.float32))
    bottom = [k.recorder.equity[:, 0].min() for k in (plain, capital)]
    assert bottom[1] > bottom[0]  # less exposed in the fall: a shallower bottom
    plain_trust = np.concatenate([d.trust.numpy() for d in plain_journal.of(Decision)])
    assert ((plain_trust >= 0) & (plain_trust <= 1)).all()  # recorded with or without use


@pytest.fixture(scope="module")
def evolving(tmp_path_factory: pytest.TempPathFactory):
    group = {
        "kind": "q-network",
        "count": 8,
        "qnet": QNET,
        "evolution": {"enabled": True, "every": 50, "min_age": 50},
    }
    cfg = RunConfig(
        seed=2,
        agents=[group, {"kind": "random-entry", "count": 2}],
        scars={"trust_weight": "selection"},
        report=False,
    )
    path = tmp_path_factory.mktemp("data") / "synth.csv"
    write_market(normalized(generate(SynthSpec(n_steps=300, seed=3))), path)
    cfg = cfg.with_overrides(**{"data.source": str(path)})
    return execute_run(cfg, run_id="trust", out_dir=tmp_path_factory.mktemp("runs"))


def test_trust_is_in_the_wal_the_diary_the_lineage_and_the_agents(evolving) -> None:
    run_dir = evolving.run_dir
    wal = [r.data.trust.numpy() for r in read_records(run_dir / "wal", kinds=("Decision",))]
    wal_trust = np.concatenate([t for t in wal if t.size])
    diary = pq.read_table(run_dir / RunDir.DIARY, columns=["trust"]).column("trust").to_numpy()
    assert np.array_equal(np.sort(diary), np.sort(wal_trust))
    lineage = read_lineage(run_dir / "lineage.parquet").to_pandas()
    assert lineage.trust.between(0, 1).all() and (lineage.death_step >= 0).any()
    agents = {a["id"]: a["trust"] for a in evolving.to_json()["agents"]}
    assert all(0 <= t <= 1 for t in agents.values())


def test_runs_with_trust_in_use_replay_with_parity(evolving, tmp_path: Path) -> None:
    result = replay_run(evolving.run_dir)  # selection, with evolution
    assert result.parity and result.wal_head_replayed == evolving.wal_head
    cfg = RunConfig(data=CRASH, agents=[HOLD], scars={"trust_weight": "capital"}, report=False)
    summary = execute_run(cfg, run_id="capital", out_dir=tmp_path)
    result = replay_run(summary.run_dir)
    assert result.parity and result.wal_head_replayed == summary.wal_head

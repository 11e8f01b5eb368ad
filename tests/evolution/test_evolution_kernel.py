"""Evolution inside the kernel: births are journaled and match the lineage, a run replays,
and selection keeps a change of execution topology when the market rewards it."""

import pandas as pd
import pytest

from scarline.assembly import kernel_for
from scarline.config import RunConfig
from scarline.events import Births, Mutations
from scarline.evolution.genome import decode_genome
from scarline.evolution.lineage import read_lineage
from scarline.evolution.vault import Vault
from scarline.journal import HashOnlyWal, read_records
from scarline.market.stream import normalized
from scarline.market.synthetic import SynthSpec, generate
from scarline.operator import ReplayOperator
from scarline.replayer import replay_run
from scarline.runner import RunSummary, execute_run
from scarline.session import SessionIds

pytestmark = pytest.mark.slow

COMPACT = {"return_windows": [1], "vol_windows": [20], "momentum_windows": [20]}
QNET = {"warmup_steps": 32, "train_every": 2, "gamma": 0.0, "lr": 3e-4}


def _group(n: int, every: int, **evolution: object) -> dict[str, object]:
    evo = {"enabled": True, "every": every, "min_age": every, **evolution}
    return {"kind": "q-network", "count": n, "qnet": QNET, "features": COMPACT, "evolution": evo}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> RunSummary:
    cfg = RunConfig(
        seed=4,
        data={"source": "sp500-20", "start": "2019-01-01"},
        agents=[_group(24, 60), {"kind": "random-entry", "count": 4}],
        execution={"fees": {"bps": 1.0}, "slippage": {"fixed_bps": 1.0}},
        evaluation={"oos_fraction": 0.3},
        report=False,
    )
    return execute_run(cfg, run_id="evo", out_dir=tmp_path_factory.mktemp("evo"))


def test_births_in_the_wal_match_the_lineage(run: RunSummary) -> None:
    lineage = read_lineage(run.run_dir / "lineage.parquet").to_pandas().set_index("agent_id")
    births = [r.data for r in read_records(run.run_dir / "wal", kinds=("Births",))]
    mutations = [r.data for r in read_records(run.run_dir / "wal", kinds=("Mutations",))]
    assert births and all(isinstance(b, Births) for b in births)
    assert {m.operator for m in mutations if isinstance(m, Mutations)} >= {"weights"}
    for event in births:
        assert isinstance(event, Births)
        assert event.step % 60 == 0
        ids = event.agent_id.numpy()
        rows = lineage.loc[ids]
        assert (rows.birth_step == event.step).all()
        assert (rows.slot.to_numpy() == event.agent.numpy()).all()
        assert (rows.parent_id.to_numpy() == event.parent_id.numpy()).all()
        assert list(rows.genome_hash) == event.genome_hash
        parents = lineage.loc[event.parent_id.numpy()]
        assert (rows.generation.to_numpy() == parents.generation.to_numpy() + 1).all()
        culled = lineage.loc[event.culled.numpy()]
        assert (culled.death_step == event.step).all() and (culled.death_cause == "culled").all()
    # no slot ever holds two living agents; founders are 0..N-1 in their slots
    alive = lineage[lineage.death_step == -1]
    assert alive.slot.is_unique
    founders = lineage[lineage.parent_id == -1]
    assert (founders.index.to_numpy() == founders.slot.to_numpy()).all()
    assert len(founders) == 24


def test_every_genome_in_the_lineage_is_in_the_vault(run: RunSummary) -> None:
    lineage = read_lineage(run.run_dir / "lineage.parquet").to_pandas()
    vault = Vault(run.run_dir / "vault")
    vault.verify()
    hashes = set(lineage.genome_hash) | set(lineage.final_hash)
    assert hashes <= set(vault.hashes())
    assert run.best_policy is not None and run.best_policy[1] in hashes
    best = lineage[lineage.agent_id == run.best_policy[0]]
    assert len(best) == 1 and int(best.death_step.iloc[0]) == -1


def test_an_evolving_run_replays_with_parity(run: RunSummary) -> None:
    result = replay_run(run.run_dir)
    assert result.parity and result.wal_head_replayed == run.wal_head


def _limit_share(slippage_bps: float) -> tuple[float, pd.DataFrame]:
    """Evolve 32 agents for 1500 bars; the share of limit-entry agents alive at the end."""
    market = normalized(generate(SynthSpec(n_steps=1500, n_instruments=4, seed=3, planted_ic=0.1)))
    store: dict[str, bytes] = {}

    def sink(items: list[tuple[bytes, str]]) -> None:
        store.update((h, data) for data, h in items)

    cfg = RunConfig(
        seed=3,
        agents=[_group(32, 100, rates={"swap_topology": 0.3})],
        execution={"slippage": {"fixed_bps": slippage_bps}},
    )
    ids, wal = SessionIds("topo", "s"), HashOnlyWal("topo")
    kernel = kernel_for(cfg, market, ids, wal, ReplayOperator([]), genome_sink=sink)
    kernel.run()
    census = kernel.population.census
    assert census is not None
    census.finish(market.n_steps - 1, kernel.life.alive, kernel.life.scars, kernel.life.trust)
    table = census.book.table().to_pandas()
    table["entry"] = [decode_genome(store[h]).entry for h in table.genome_hash]
    entry_of = table.set_index("agent_id").entry
    table["parent_entry"] = table.parent_id.map(entry_of)
    living = table[table.death_step == -1]
    return float((living.entry == "limit").mean()), table


def test_selection_keeps_a_topology_change_the_market_rewards() -> None:
    # market orders pay 30 bps of slippage, limit entries (maker fills) pay none
    share_costly, table = _limit_share(30.0)
    share_free, _ = _limit_share(0.0)
    swapped = table[(table.entry == "limit") & (table.parent_entry == "market")]
    assert len(swapped) > 0  # spawned: founders are all market-entry
    before_last = swapped[swapped.birth_step < table.birth_step.max()]
    assert len(before_last) > 0 and before_last.fitness.notna().all()  # scored by a later cycle
    kept = table[(table.entry == "limit") & (table.parent_entry == "limit")]
    assert len(kept) > 0  # kept: limit-entry agents were selected as parents
    assert share_costly > 0.5
    assert share_costly > share_free  # the cost, not drift, made the difference

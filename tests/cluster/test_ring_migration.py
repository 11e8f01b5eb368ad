"""Ring migration between in-process islands: the right genomes move, intact, into the right
slots, journaled as births; ids stay unique across islands; a run is a function of its seed."""

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from island_helpers import EVERY, MIGRANTS, NOW, K, Spy, lineage_bytes, small_config

from scarline.cluster.evolve import EVOLVE_FILE, EvolveSummary, execute_evolve
from scarline.events import Births
from scarline.evolution.lineage import ancestry, read_lineage
from scarline.evolution.migration import ISLAND_ID_STRIDE
from scarline.evolution.vault import Vault
from scarline.journal import read_records
from scarline.replayer import replay_run

pytestmark = pytest.mark.slow


def _tables(summary: EvolveSummary) -> list[pd.DataFrame]:
    return [read_lineage(r.run_dir / "lineage.parquet").to_pandas() for r in summary.islands]


def test_migrations_follow_the_schedule(spied: tuple[EvolveSummary, Spy]) -> None:
    summary, spy = spied
    split = round(summary.islands[0].steps * 0.7)  # oos_fraction = 0.3: no life cycle after
    # M = 1: every life cycle but the first (nobody is scored before it), up to the split
    assert summary.migration_steps == list(range(2 * EVERY, split, EVERY))
    assert sorted(spy.before) == summary.migration_steps
    assert len(summary.migrations) == K * len(summary.migration_steps)
    assert all(m.target == (m.source + 1) % K for m in summary.migrations)


def test_each_island_sends_its_top_agents_intact(spied: tuple[EvolveSummary, Spy]) -> None:
    summary, spy = spied
    tables = _tables(summary)
    for mig in summary.migrations:
        shot = spy.before[mig.step][mig.source]
        scored = [s for s in range(shot.alive.size) if shot.alive[s]]
        scored = [s for s in scored if np.isfinite(shot.fitness[s])]
        best = sorted(scored, key=lambda s: (-shot.fitness[s], s))[:MIGRANTS]
        origin = [int(shot.agent_ids[s]) for s in best]
        assert mig.origin_ids == origin and len(origin) == MIGRANTS

        target = tables[mig.target]
        arrived = target[(target.birth_step == mig.step) & target.parent_id.isin(origin)]
        arrived = arrived.set_index("parent_id").loc[origin]
        # the immigrant IS the origin agent's genome at the migration step (no mutation)
        assert list(arrived.genome_hash) == [shot.hashes[i] for i in origin]
        assert list(arrived.genome_hash) == mig.genome_hashes
        assert list(arrived.agent_id) == mig.agent_ids
        assert list(arrived.generation) == [shot.generation[i] + 1 for i in origin]
        assert (arrived.island == mig.target).all()
        assert set(mig.genome_hashes) <= set(
            Vault(summary.islands[mig.target].run_dir / "vault").hashes()
        )


def test_immigrants_replace_the_worst_living_not_the_newborns(
    spied: tuple[EvolveSummary, Spy],
) -> None:
    summary, spy = spied
    tables = _tables(summary)
    for mig in summary.migrations:
        k, step = mig.target, mig.step
        table = tables[k]
        born = table[table.birth_step == step]
        foreign = born.parent_id // ISLAND_ID_STRIDE != k
        immigrants, natives = born[foreign], born[~foreign]
        assert set(immigrants.slot).isdisjoint(natives.slot)
        displaced = table[(table.death_step == step) & table.slot.isin(immigrants.slot)]
        assert len(displaced) == len(immigrants) and (displaced.death_cause == "culled").all()
        # everyone left standing after the cycle scored at least as well as the displaced
        after = min(stop for stop in spy.fitness_after if stop > step)
        survivors = spy.fitness_after[after][k]
        assert displaced.fitness.max() <= np.nanmin(survivors)

        births = [
            r.data
            for r in read_records(summary.islands[k].run_dir / "wal", kinds=("Births",))
            if isinstance(r.data, Births) and r.data.step == step
        ]
        journaled = [b for b in births if set(b.agent_id.numpy()) == set(immigrants.agent_id)]
        (event,) = journaled
        order = immigrants.set_index("agent_id").loc[event.agent_id.numpy()]
        assert list(event.parent_id.numpy()) == list(order.parent_id)
        assert list(event.agent.numpy()) == list(order.slot)
        assert event.genome_hash == list(order.genome_hash)
        assert set(event.culled.numpy()) == set(displaced.agent_id)


def test_lineage_ids_are_unique_across_islands(spied: tuple[EvolveSummary, Spy]) -> None:
    summary, _ = spied
    tables = _tables(summary)
    for k, table in enumerate(tables):
        assert (table.agent_id // ISLAND_ID_STRIDE == k).all() and (table.island == k).all()
        founders = table[table.parent_id == -1]
        assert (founders.agent_id == k * ISLAND_ID_STRIDE + founders.slot).all()
    every = pd.concat(tables)
    assert every.agent_id.is_unique
    assert every.parent_id[every.parent_id >= 0].isin(every.agent_id).all()
    # across islands the tree is whole: an immigrant's ancestry reaches a founder elsewhere
    joined = pa.Table.from_pandas(every, preserve_index=False)
    immigrant = int(tables[1][tables[1].parent_id // ISLAND_ID_STRIDE == 0].agent_id.iloc[0])
    chain = ancestry(joined, immigrant)
    assert chain[-1] < ISLAND_ID_STRIDE and every.set_index("agent_id").parent_id[chain[-1]] == -1
    # on its own island's table the chain stops at the immigrant
    own = read_lineage(summary.islands[1].run_dir / "lineage.parquet")
    assert ancestry(own, immigrant) == [immigrant]


def test_evolve_json_names_the_best_policy_across_islands(
    spied: tuple[EvolveSummary, Spy],
) -> None:
    summary, _ = spied
    record = json.loads((summary.run_dir / EVOLVE_FILE).read_text())
    assert record == summary.record()
    fits = [r["best_fitness"] for r in record["islands"]]
    best = record["best"]
    assert best["island"] == int(np.argmax(fits)) and best["fitness"] == max(fits)
    island = summary.islands[best["island"]]
    table = _tables(summary)[best["island"]].set_index("agent_id")
    assert table.death_step[best["lineage_id"]] == -1
    assert best["policy_hash"] == table.final_hash[best["lineage_id"]]
    assert best["policy_hash"] in Vault(island.run_dir / "vault")
    assert summary.to_json()["best_policy_hash"] == best["policy_hash"]


def test_an_island_replays_alone_with_parity(spied: tuple[EvolveSummary, Spy]) -> None:
    summary, _ = spied
    island = summary.islands[1]
    result = replay_run(island.run_dir)
    assert result.parity and result.wal_head_replayed == island.wal_head


def test_two_in_process_runs_are_identical(
    spied: tuple[EvolveSummary, Spy], tmp_path_factory: pytest.TempPathFactory
) -> None:
    first, _ = spied
    again = execute_evolve(
        small_config(),
        islands=K,
        migrate_every=1,
        migrants=MIGRANTS,
        out_dir=tmp_path_factory.mktemp("again"),
        evolve_id="evo",
        now=NOW,
    )
    assert lineage_bytes(again.run_dir) == lineage_bytes(first.run_dir)
    assert [r.decision_trace_hash for r in again.islands] == [
        r.decision_trace_hash for r in first.islands
    ]
    assert [r.wal_head for r in again.islands] == [r.wal_head for r in first.islands]
    assert again.record() == first.record()
    # islands differ from each other (own seeds), not between runs
    assert len({r.decision_trace_hash for r in first.islands}) == K

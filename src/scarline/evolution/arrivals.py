"""Immigrants as an island's run directory recorded them, so the island replays alone.

An island run's lineage names its island (``island`` column) and every immigrant: a row
whose parent id is in another island's id range, born at a migration step in the slot it
took.
Its genome is in the island's vault (the census stored it on arrival). Admitting the same
genomes, in the same order (ids were handed out in arrival order), at the same steps makes
the replayed kernel place them exactly where the run did.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from scarline.events import Births
from scarline.evolution.census import Census
from scarline.evolution.lineage import NO_PARENT, read_lineage
from scarline.evolution.migration import Immigrant, island_of
from scarline.evolution.vault import Vault
from scarline.journal import read_records
from scarline.rundir import RunDir

Recorded = dict[int, list[tuple[int, Immigrant]]]
"""Per migration step, ``(slot, immigrant)`` in arrival order."""


def recorded_arrivals(run_dir: Path, *, from_wal: bool = False) -> tuple[int, Recorded]:
    """The run's island (0 without a lineage) and the immigrants it received; ``from_wal``:
    read them from the WAL's ``Births`` when there is no lineage (an island interrupted
    mid-run and sealed: the lineage is written at the end)."""
    path = RunDir(run_dir).lineage
    if not path.is_file():
        return wal_arrivals(run_dir) if from_wal else (0, {})
    table = read_lineage(path)
    if table.num_rows == 0:
        return 0, {}
    island = int(table.column("island").to_numpy()[0])
    parents = table.column("parent_id").to_numpy()
    ids = table.column("agent_id").to_numpy()
    rows = np.flatnonzero((parents != NO_PARENT) & (island_of(parents) != island_of(ids)))
    if rows.size == 0:
        return island, {}
    rows = rows[np.argsort(ids[rows], kind="stable")]
    steps = table.column("birth_step").to_numpy()
    slots = table.column("slot").to_numpy()
    generations = table.column("generation").to_numpy()
    hashes = table.column("genome_hash").to_pylist()
    vault = Vault(RunDir(run_dir).vault)
    out: Recorded = {}
    for i in rows.tolist():
        immigrant = Immigrant(
            origin_island=int(island_of(parents[i])),
            origin_id=int(parents[i]),
            generation=int(generations[i]) - 1,
            fitness=float("nan"),  # not recorded on this island; selection never reads it
            genome=vault.get(hashes[i]),
            policy_hash=hashes[i],
        )
        out.setdefault(int(steps[i]), []).append((int(slots[i]), immigrant))
    return island, out


def wal_arrivals(run_dir: Path) -> tuple[int, Recorded]:
    """:func:`recorded_arrivals` from the WAL alone: the island is the one the first newborn's
    id names (none born: no id was journaled, so any island replays the same), an immigrant a
    newborn whose parent id is another island's. Its generation is not journaled and is
    never journaled on replay either, so it is left 0."""
    island: int | None = None
    vault = Vault(RunDir(run_dir).vault)
    out: Recorded = {}
    for rec in read_records(RunDir(run_dir).wal, kinds=("Births",)):
        births = rec.data
        assert isinstance(births, Births)
        ids, parents = births.agent_id.numpy(), births.parent_id.numpy()
        slots = births.agent.numpy()
        if island is None and ids.size:
            island = int(island_of(ids[:1])[0])
        for i in np.flatnonzero((parents != NO_PARENT) & (island_of(parents) != island_of(ids))):
            immigrant = Immigrant(
                origin_island=int(island_of(parents[i : i + 1])[0]),
                origin_id=int(parents[i]),
                generation=0,
                fitness=float("nan"),
                genome=vault.get(births.genome_hash[i]),
                policy_hash=births.genome_hash[i],
            )
            out.setdefault(int(births.step), []).append((int(slots[i]), immigrant))
    return island or 0, out


def admit_recorded(census: Census, recorded: Recorded) -> None:
    """Queue every recorded immigrant with the group that owns its slot."""
    for step, arrivals in sorted(recorded.items()):
        parcels = [
            [m for slot, m in arrivals if rows.start <= slot < rows.stop]
            for rows, _ in census.groups
        ]
        census.admit(step, parcels)

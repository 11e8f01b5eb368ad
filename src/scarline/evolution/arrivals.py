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

from scarline.evolution.census import Census
from scarline.evolution.lineage import NO_PARENT, read_lineage
from scarline.evolution.migration import Immigrant, island_of
from scarline.evolution.vault import Vault
from scarline.rundir import RunDir

Recorded = dict[int, list[tuple[int, Immigrant]]]
"""Per migration step, ``(slot, immigrant)`` in arrival order."""


def recorded_arrivals(run_dir: Path) -> tuple[int, Recorded]:
    """The run's island (0 without a lineage) and the immigrants it received."""
    path = RunDir(run_dir).lineage
    if not path.is_file():
        return 0, {}
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


def admit_recorded(census: Census, recorded: Recorded) -> None:
    """Queue every recorded immigrant with the group that owns its slot."""
    for step, arrivals in sorted(recorded.items()):
        parcels = [
            [m for slot, m in arrivals if rows.start <= slot < rows.stop]
            for rows, _ in census.groups
        ]
        census.admit(step, parcels)

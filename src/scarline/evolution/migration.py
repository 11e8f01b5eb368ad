"""Migration between islands, as one evolving group sees it: who leaves, who makes room.

An island exports copies of its best scored living agents (by the census' last fitness,
ties by slot) and, at the life cycle of the migration step, the receiving group puts the
immigrants into the slots of its worst living agents that were not born in that cycle. The
genome travels as its canonical bytes with its policy hash, so it crosses processes (Ray)
unchanged and the receiver can check it arrived intact.

Lineage ids must stay unique across islands: island ``k`` numbers its agents from
``k × ISLAND_ID_STRIDE``, so an immigrant's parent id also names the island it came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from scarline.evolution.genome import Genome

ISLAND_ID_STRIDE = 10**9
"""Island ``k``'s lineage ids are ``k × ISLAND_ID_STRIDE + 0, 1, …``."""


def island_of(agent_ids: np.ndarray) -> np.ndarray:
    """The island each lineage id was born on."""
    return np.asarray(agent_ids, dtype=np.int64) // ISLAND_ID_STRIDE


@dataclass(frozen=True)
class Immigrant:
    """A copy of one agent on its way to another island (plain data: picklable)."""

    origin_island: int
    origin_id: int  # lineage id on the origin island: the immigrant's parent id
    generation: int  # the origin agent's generation (the immigrant's is one more)
    fitness: float  # the origin's last fitness on its own island
    genome: bytes  # canonical genome bytes (encode_genome)
    policy_hash: str


@dataclass(frozen=True, eq=False)
class Arrivals:
    """Immigrants placed in one cycle, in the group's local rows."""

    slots: np.ndarray  # int64[K] rows that now hold immigrants
    immigrants: list[Immigrant]  # one per slot, same order
    retired: list[Genome] = field(default_factory=list)  # the displaced, as they left


def emigrant_rows(fitness: np.ndarray, alive: np.ndarray, m: int) -> np.ndarray:
    """The ``m`` best scored living rows, best first; ties go to the lower row."""
    rows = np.flatnonzero(alive & np.isfinite(fitness))
    order = np.lexsort((rows, -fitness[rows]))
    return rows[order[:m]].astype(np.int64)


def displaced_rows(
    fitness: np.ndarray, alive: np.ndarray, newborn: np.ndarray, k: int
) -> np.ndarray:
    """The ``k`` worst living rows not born in this cycle, worst first; ties go to the lower
    row. An unscored living row (NaN) counts as the worst."""
    rows = np.flatnonzero(alive & ~newborn)
    key = np.where(np.isfinite(fitness[rows]), fitness[rows], -np.inf)
    order = np.lexsort((rows, key))
    return rows[order[:k]].astype(np.int64)

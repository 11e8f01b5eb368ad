"""Who lives in which slot, and the lineage of everyone who ever did.

The kernel's arrays are indexed by *slot* (row); an agent is a lineage id that occupies one
slot from its birth to its death. The census hands out ids (founders 0..N-1 in slot order,
then increasing), keeps the :class:`~scarline.evolution.lineage.LineageBook`, and hashes every
genome it records — at birth, at death and at the run's end — handing the canonical bytes to
a sink (the run's vault) so any policy hash in the lineage can be rebuilt.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from scarline.evolution.evolver import Births
from scarline.evolution.genome import Genome, encode_genome, policy_hash
from scarline.evolution.lineage import LineageBook

GenomeSink = Callable[[list[tuple[bytes, str]]], None]
"""Receives ``(canonical bytes, policy hash)`` pairs, e.g. :meth:`Vault.put_many`."""


class EvolvingGroup:
    """What the census needs of an evolving group (QAgents satisfies it)."""

    births: Births | None

    def genome(self, i: int) -> Genome: ...


@dataclass(frozen=True, eq=False)
class BirthRecord:
    """One group's births in population terms (slots are global rows)."""

    step: int
    offset: int  # the group's first row: global slot = offset + local row
    slots: np.ndarray
    agent_ids: np.ndarray
    parent_ids: np.ndarray
    genome_hashes: list[str]
    culled_ids: np.ndarray
    births: Births


class Census:
    def __init__(
        self,
        n_agents: int,
        groups: Sequence[tuple[slice, EvolvingGroup]],
        sink: GenomeSink | None = None,
    ) -> None:
        self.agent_ids = np.arange(n_agents, dtype=np.int64)
        self.fitness = np.full(n_agents, np.nan)  # the last life cycle's score per slot
        self.book = LineageBook()
        self.groups = list(groups)
        self._sink = sink
        self._next_id = n_agents
        for rows, group in self.groups:
            slots = np.arange(rows.start, rows.stop, dtype=np.int64)
            hashes = self._hash([group.genome(i) for i in range(slots.size)])
            self.book.found(self.agent_ids[slots], slots, hashes, 0)
        self._evolving = np.zeros(n_agents, dtype=bool)
        for rows, _ in self.groups:
            self._evolving[rows] = True

    def _hash(self, genomes: list[Genome]) -> list[str]:
        data = [encode_genome(g) for g in genomes]
        hashes = [policy_hash(g) for g in genomes]
        if self._sink is not None and data:
            self._sink(list(zip(data, hashes, strict=True)))
        return hashes

    def take_births(self, scars: np.ndarray) -> list[BirthRecord]:
        """Record every group's pending births (closing the culled) and return them."""
        records = []
        for rows, group in self.groups:
            births, group.births = group.births, None
            if births is None:
                continue
            chosen = births.selection
            self.fitness[rows] = chosen.fitness
            slots = rows.start + chosen.slots
            parent_ids = self.agent_ids[rows.start + chosen.parents]
            culled = slots[chosen.culled]
            culled_ids = self.agent_ids[culled].copy()
            if culled.size:
                self.book.died(
                    culled_ids,
                    births.step,
                    "culled",
                    self._hash(births.retired),
                    self.fitness[culled],
                    scars[culled],
                )
            ids = np.arange(self._next_id, self._next_id + slots.size, dtype=np.int64)
            self._next_id += slots.size
            self.agent_ids[slots] = ids
            self.fitness[slots] = np.nan  # newborns are not scored yet
            local = chosen.slots.tolist()
            hashes = self._hash([group.genome(i) for i in local])
            self.book.born(ids, parent_ids, slots, hashes, births.step)
            records.append(
                BirthRecord(
                    births.step, rows.start, slots, ids, parent_ids, hashes, culled_ids, births
                )
            )
        return records

    def ruined(self, step: int, slots: np.ndarray, scars: np.ndarray) -> None:
        """Close the record of agents of evolving groups ruined at ``step``."""
        slots = slots[self._evolving[slots]]
        if slots.size == 0:
            return
        genomes = [self._genome(int(s)) for s in slots]
        self.book.died(
            self.agent_ids[slots],
            step,
            "ruin",
            self._hash(genomes),
            self.fitness[slots],
            scars[slots],
        )

    def finish(self, step: int, alive: np.ndarray, scars: np.ndarray) -> None:
        """Record the living at the run's end with their final genomes."""
        slots = np.flatnonzero(alive & self._evolving)
        genomes = [self._genome(int(s)) for s in slots]
        self.book.finish(
            self.agent_ids[slots], step, self._hash(genomes), self.fitness[slots], scars[slots]
        )

    def final_hash_of_slot(self, slot: int) -> str:
        """The policy hash of the genome in ``slot`` now."""
        return policy_hash(self._genome(slot))

    def _genome(self, slot: int) -> Genome:
        for rows, group in self.groups:
            if rows.start <= slot < rows.stop:
                return group.genome(slot - rows.start)
        raise KeyError(f"slot {slot} is not in an evolving group")

"""Who lives in which slot, and the lineage of everyone who ever did.

The kernel's arrays are indexed by *slot* (row); an agent is a lineage id that occupies one
slot from its birth to its death. The census hands out ids (founders 0..N-1 in slot order,
then increasing), keeps the :class:`~scarline.evolution.lineage.LineageBook`, and hashes every
genome it records — at birth, at death and at the run's end — handing the canonical bytes to
a sink (the run's vault) so any policy hash in the lineage can be rebuilt.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from scarline.evolution.evolver import Births
from scarline.evolution.genome import Genome, encode_genome, hash_of_encoded, policy_hash
from scarline.evolution.lineage import LineageError
from scarline.evolution.lineage_book import LineageBook
from scarline.evolution.migration import Arrivals, Immigrant, emigrant_rows

GenomeSink = Callable[[list[tuple[bytes, str]]], None]
"""Receives ``(canonical bytes, policy hash)`` pairs, e.g. :meth:`Vault.put_many`."""


class EvolvingGroup(Protocol):
    """What the census needs of an evolving group (QAgents satisfies it)."""

    births: Births | None

    def genome(self, i: int) -> Genome: ...

    def genomes(self, rows: list[int]) -> list[Genome]: ...

    def admit(self, step: int, immigrants: list[Immigrant]) -> None: ...


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
    """``id_base`` and ``island`` keep lineage ids unique across islands (founders are
    ``id_base + slot``) and fill the lineage's ``island`` column."""

    def __init__(
        self,
        n_agents: int,
        groups: Sequence[tuple[slice, EvolvingGroup]],
        sink: GenomeSink | None = None,
        *,
        id_base: int = 0,
        island: int = 0,
    ) -> None:
        self.agent_ids = id_base + np.arange(n_agents, dtype=np.int64)
        self.fitness = np.full(n_agents, np.nan)  # the last life cycle's score per slot
        self.book = LineageBook()
        self.groups = list(groups)
        self.island = island
        self._sink = sink
        self._next_id = id_base + n_agents
        for rows, group in self.groups:
            slots = np.arange(rows.start, rows.stop, dtype=np.int64)
            hashes = self._hash(group.genomes(list(range(slots.size))))
            self.book.found(self.agent_ids[slots], slots, hashes, 0, island)
        self._evolving = np.zeros(n_agents, dtype=bool)
        for rows, _ in self.groups:
            self._evolving[rows] = True

    def _hash(self, genomes: list[Genome]) -> list[str]:
        data = [encode_genome(g) for g in genomes]
        hashes = [hash_of_encoded(d) for d in data]
        if self._sink is not None and data:
            self._sink(list(zip(data, hashes, strict=True)))
        return hashes

    def take_births(self, scars: np.ndarray, trust: np.ndarray) -> list[BirthRecord]:
        """Record every group's pending births (closing the culled with their scars and
        trust, ``[N]`` each) and return them."""
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
                    trust[culled],
                )
            ids = np.arange(self._next_id, self._next_id + slots.size, dtype=np.int64)
            self._next_id += slots.size
            self.agent_ids[slots] = ids
            self.fitness[slots] = np.nan  # newborns are not scored yet
            local = chosen.slots.tolist()
            hashes = self._hash(group.genomes(local))
            self.book.born(ids, parent_ids, slots, hashes, births.step, self.island)
            records.append(
                BirthRecord(
                    births.step, rows.start, slots, ids, parent_ids, hashes, culled_ids, births
                )
            )
            if births.arrivals is not None:
                records.append(self._arrive(rows, group, births, births.arrivals, scars, trust))
        return records

    def _arrive(
        self,
        rows: slice,
        group: EvolvingGroup,
        births: Births,
        arrivals: Arrivals,
        scars: np.ndarray,
        trust: np.ndarray,
    ) -> BirthRecord:
        """Immigrants as a second birth record of the cycle (no mutations): the displaced
        die "culled", each immigrant's parent is its origin agent on the other island."""
        slots = rows.start + arrivals.slots
        displaced = self.agent_ids[slots].copy()
        self.book.died(
            displaced,
            births.step,
            "culled",
            self._hash(arrivals.retired),
            self.fitness[slots],
            scars[slots],
            trust[slots],
        )
        ids = np.arange(self._next_id, self._next_id + slots.size, dtype=np.int64)
        self._next_id += slots.size
        self.agent_ids[slots] = ids
        self.fitness[slots] = np.nan
        hashes = self._hash(group.genomes(arrivals.slots.tolist()))
        sent = [m.policy_hash for m in arrivals.immigrants]
        if hashes != sent:
            raise LineageError(f"step {births.step}: immigrant genomes changed in transit")
        origin = np.array([m.origin_id for m in arrivals.immigrants], dtype=np.int64)
        generation = np.array([m.generation for m in arrivals.immigrants], dtype=np.int64)
        self.book.arrived(ids, origin, generation, slots, hashes, births.step, self.island)
        return BirthRecord(
            births.step,
            rows.start,
            slots,
            ids,
            origin,
            hashes,
            displaced,
            replace(births, mutations=[]),
        )

    def emigrants(self, alive: np.ndarray, m: int) -> list[list[Immigrant]]:
        """Per evolving group, copies of its ``m`` best scored living agents (last fitness;
        ties by slot), best first."""
        out = []
        for rows, group in self.groups:
            local = emigrant_rows(self.fitness[rows], alive[rows], m)
            slots = rows.start + local
            ids = self.agent_ids[slots]
            generations = self.book.generation_of(ids) if ids.size else ids
            genomes = group.genomes(local.tolist())
            out.append(
                [
                    Immigrant(
                        origin_island=self.island,
                        origin_id=int(ids[j]),
                        generation=int(generations[j]),
                        fitness=float(self.fitness[slots[j]]),
                        genome=encode_genome(g),
                        policy_hash=policy_hash(g),
                    )
                    for j, g in enumerate(genomes)
                ]
            )
        return out

    def admit(self, step: int, parcels: Sequence[list[Immigrant]]) -> None:
        """Hand each evolving group its immigrants for the life cycle of ``step``."""
        if len(parcels) != len(self.groups):
            raise ValueError(f"{len(parcels)} parcels of immigrants for {len(self.groups)} groups")
        for (_, group), parcel in zip(self.groups, parcels, strict=True):
            if parcel:
                group.admit(step, parcel)

    def ruined(self, step: int, slots: np.ndarray, scars: np.ndarray, trust: np.ndarray) -> None:
        """Close the record of agents of evolving groups ruined at ``step``; ``trust[k]`` is
        slot ``slots[k]``'s trust at its death."""
        mine = self._evolving[slots]
        slots, trust = slots[mine], trust[mine]
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
            trust,
        )

    def finish(self, step: int, alive: np.ndarray, scars: np.ndarray, trust: np.ndarray) -> None:
        """Record the living at the run's end with their final genomes, scars and trust."""
        slots = np.flatnonzero(alive & self._evolving)
        genomes = [self._genome(int(s)) for s in slots]
        self.book.finish(
            self.agent_ids[slots],
            step,
            self._hash(genomes),
            self.fitness[slots],
            scars[slots],
            trust[slots],
        )

    def final_hash_of_slot(self, slot: int) -> str:
        """The policy hash of the genome in ``slot`` now."""
        return policy_hash(self._genome(slot))

    def _genome(self, slot: int) -> Genome:
        for rows, group in self.groups:
            if rows.start <= slot < rows.stop:
                return group.genome(slot - rows.start)
        raise KeyError(f"slot {slot} is not in an evolving group")

"""One island: a normal run directory whose kernel advances in segments between migrations.

The same object lives in the driver (in-process executor) or inside a Ray actor; everything
that crosses its boundary (specs, immigrants, reports) is plain picklable data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from scarline.config import RunConfig
from scarline.evolution.lineage import NO_PARENT
from scarline.evolution.migration import Immigrant, island_of
from scarline.kernel import Kernel
from scarline.market.frame import MarketData
from scarline.rng import SeedTree
from scarline.rundir import island_dir_name
from scarline.runner import OpenRun, RunSummary, create_run

Parcel = list[list[Immigrant]]
"""One island's migrants: a list per evolving group (groups match across islands)."""


def island_seed(seed: int, island: int) -> int:
    """Island ``island``'s root seed, derived from the config's by name (63 bits)."""
    return SeedTree(seed).int_seed(f"islands/{island}")


def island_dir(island: int) -> str:
    return island_dir_name(island)


@dataclass(frozen=True)
class IslandSpec:
    """What it takes to open island ``island``: its config (with the island's seed) and
    where its run directory goes (``<evolve dir>/island-<k>``)."""

    config: RunConfig
    island: int
    run_id: str
    evolve_dir: Path
    now: datetime


@dataclass(frozen=True)
class Arrival:
    """An immigrant as the receiving island's lineage recorded it."""

    step: int
    agent_id: int
    parent_id: int
    genome_hash: str


@dataclass(frozen=True)
class IslandReport:
    """A finished island, in plain data for the evolve summary."""

    island: int
    seed: int
    run_id: str
    run_dir: Path
    steps: int
    decision_trace_hash: str
    wal_head: str
    best_lineage_id: int | None
    best_policy_hash: str | None
    best_fitness: float | None
    arrivals: list[Arrival]

    def to_json(self) -> dict[str, object]:
        return {
            "island": self.island,
            "seed": self.seed,
            "run_id": self.run_id,
            "run_dir": str(self.run_dir),
            "steps": self.steps,
            "decision_trace_hash": self.decision_trace_hash,
            "wal_head": self.wal_head,
            "best_lineage_id": self.best_lineage_id,
            "best_policy_hash": self.best_policy_hash,
            "best_fitness": self.best_fitness,
        }


class Island:
    """An open island run: ``advance`` to a step, trade migrants, then ``finish``."""

    def __init__(self, spec: IslandSpec, market: MarketData | None = None) -> None:
        self.spec = spec
        self._run: OpenRun = create_run(
            spec.config,
            run_id=spec.run_id,
            out_dir=spec.evolve_dir,
            dir_name=island_dir(spec.island),
            now=spec.now,
            market=market,
            island=spec.island,
        )
        self._done = False
        try:
            self._run.kernel.begin()
        except BaseException:
            self.abort()
            raise
        self.position = 0  # the next step to run

    @property
    def kernel(self) -> Kernel:
        return self._run.kernel

    @property
    def n_steps(self) -> int:
        return self._run.market.n_steps

    def advance(self, stop: int) -> int:
        """Run steps ``position .. stop - 1``; returns the new position."""
        self._run.kernel.run_steps(self.position, stop)
        self.position = stop
        return stop

    def emigrants(self, m: int) -> Parcel:
        """Copies of the ``m`` best scored living agents of each evolving group."""
        kernel = self._run.kernel
        census = kernel.population.census
        assert census is not None, "islands need an evolving group"
        return census.emigrants(kernel.life.alive, m)

    def admit(self, step: int, parcel: Parcel) -> None:
        """Immigrants for the life cycle at ``step`` (the next step this island runs)."""
        if step != self.position:
            raise ValueError(f"island {self.spec.island}: admit at {step}, now at {self.position}")
        census = self._run.kernel.population.census
        assert census is not None, "islands need an evolving group"
        census.admit(step, parcel)

    def finish(self) -> IslandReport:
        """End the session and write the run directory (manifests, lineage, vault …)."""
        kernel = self._run.kernel
        result = kernel.end()
        self._done = True
        summary = self._run.close(result)
        return self._report(summary)

    def abort(self) -> None:
        """Close the WAL of an unfinished island (no manifest: the run did not complete)."""
        if not self._done:
            self._done = True
            self._run.abort()

    def _report(self, summary: RunSummary) -> IslandReport:
        census = self._run.kernel.population.census
        assert census is not None, "islands need an evolving group"
        best_id, best_hash, best_fit = None, None, None
        if summary.best_policy is not None:
            best_id, best_hash = summary.best_policy
            slot = int(np.flatnonzero(census.agent_ids == best_id)[0])
            best_fit = float(census.fitness[slot])
        table = census.book.table()
        parents = table.column("parent_id").to_numpy()
        foreign = (parents != NO_PARENT) & (island_of(parents) != self.spec.island)
        rows = np.flatnonzero(foreign)
        ids = table.column("agent_id").to_numpy()
        steps = table.column("birth_step").to_numpy()
        hashes = table.column("genome_hash").to_pylist()
        arrivals = [
            Arrival(int(steps[i]), int(ids[i]), int(parents[i]), hashes[i]) for i in rows.tolist()
        ]
        return IslandReport(
            island=self.spec.island,
            seed=self.spec.config.seed,
            run_id=summary.run_id,
            run_dir=summary.run_dir,
            steps=summary.steps,
            decision_trace_hash=summary.decision_trace_hash,
            wal_head=summary.wal_head,
            best_lineage_id=best_id,
            best_policy_hash=best_hash,
            best_fitness=best_fit,
            arrivals=arrivals,
        )

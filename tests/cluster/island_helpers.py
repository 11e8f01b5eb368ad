"""A small island setup shared by the cluster tests, and an executor that spies on it."""

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from scarline.cluster.inprocess import InProcessExecutor
from scarline.config import RunConfig
from scarline.evolution.genome import policy_hash

NOW = datetime(2026, 1, 1, tzinfo=UTC)
EVERY = 50
K, M, MIGRANTS = 3, 1, 2


def small_config(seed: int = 7, **overrides: object) -> RunConfig:
    """sp500-20 from 2019 (~1000 bars), 16 evolving Q-agents, a life cycle every 50 bars."""
    group = {
        "kind": "q-network",
        "count": 16,
        "qnet": {"hidden": [16], "warmup_steps": 32, "train_every": 2},
        "features": {"return_windows": [1], "vol_windows": [20], "momentum_windows": [20]},
        "evolution": {"enabled": True, "every": EVERY, "min_age": EVERY},
    }
    raw: dict[str, object] = {
        "seed": seed,
        "data": {"source": "sp500-20", "start": "2019-01-01"},
        "agents": [group],
        "evaluation": {"oos_fraction": 0.3},
        "report": False,
    }
    return RunConfig.model_validate(raw | overrides)


@dataclass
class Snapshot:
    """One island just before a migration step, seen from outside the executor."""

    alive: np.ndarray
    fitness: np.ndarray
    agent_ids: np.ndarray
    generation: dict[int, int]
    hashes: dict[int, str]  # lineage id -> policy hash of its genome now


class Spy(InProcessExecutor):
    """The in-process executor, recording every island before migrations and after steps."""

    def __init__(self) -> None:
        super().__init__()
        self.before: dict[int, list[Snapshot]] = {}  # migration step -> per island
        self.fitness_after: dict[int, list[np.ndarray]] = {}  # segment end -> per island

    def advance(self, stop: int) -> None:
        super().advance(stop)
        self.fitness_after[stop] = [i.kernel.population.census.fitness.copy() for i in self.islands]

    def emigrants(self, m: int):  # type: ignore[no-untyped-def]
        step = self.islands[0].position
        shots = []
        for island in self.islands:
            census, alive = island.kernel.population.census, island.kernel.life.alive
            ((rows, group),) = census.groups
            living = np.flatnonzero(alive)
            ids = census.agent_ids[living]
            shots.append(
                Snapshot(
                    alive=alive.copy(),
                    fitness=census.fitness.copy(),
                    agent_ids=census.agent_ids.copy(),
                    generation=dict(
                        zip(ids.tolist(), census.book.generation_of(ids).tolist(), strict=True)
                    ),
                    hashes={
                        int(census.agent_ids[s]): policy_hash(group.genome(int(s) - rows.start))
                        for s in living
                    },
                )
            )
        self.before[step] = shots
        return super().emigrants(m)


def lineage_bytes(run_dir: Path) -> list[bytes]:
    return [(d / "lineage.parquet").read_bytes() for d in sorted(run_dir.glob("island-*"))]

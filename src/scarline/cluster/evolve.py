"""``scarline evolve``: K islands of one config, ring migration, one evolve directory.

Island ``k`` is the config with its own seed (derived from ``config.seed`` and ``k``) in
its own run directory ``<out>/<evolve_id>/island-<k>/``. The islands advance in lockstep
segments; at every migration step island ``k`` sends copies of its best ``m`` scored living
agents to island ``(k + 1) mod K``, which puts them in place of its worst living agents at
that step's life cycle. ``evolve.json`` records the islands, every migration and the best
policy across islands (by last fitness).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from scarline.admission import admit_run_input
from scarline.agents.config import QNetGroup
from scarline.cluster.executor import EXECUTORS, ExecutorError, IslandExecutor, IslandFailed
from scarline.cluster.inprocess import InProcessExecutor
from scarline.cluster.island import IslandReport, IslandSpec, Parcel, island_dir, island_seed
from scarline.cluster.schedule import Schedule
from scarline.config import RunConfig, config_hash
from scarline.errors import ConfigError, ScarlineError
from scarline.rundir import island_run_id
from scarline.runner import absolute_paths, load_run_market
from scarline.safe_write import replace_file
from scarline.session import MAX_RUN_ID, RunIdError, check_run_id, make_run_id, run_dir_in

EVOLVE_FILE = "evolve.json"


class EvolveError(ScarlineError):
    """Island options that cannot work (a usage error: exit 2)."""

    exit_code = 2


@dataclass(frozen=True)
class Migration:
    """One ring hop at one step: who left ``source`` and who they became on ``target``."""

    step: int
    source: int
    target: int
    origin_ids: list[int]
    genome_hashes: list[str]
    fitness: list[float]
    agent_ids: list[int]  # the immigrants' ids on the target island, same order

    def to_json(self) -> dict[str, object]:
        return {
            "step": self.step,
            "from": self.source,
            "to": self.target,
            "origin_ids": self.origin_ids,
            "agent_ids": self.agent_ids,
            "genome_hashes": self.genome_hashes,
            "fitness": self.fitness,
        }


@dataclass(frozen=True)
class EvolveSummary:
    evolve_id: str
    run_dir: Path
    executor: str
    config_hash: str
    seed: int
    every: int
    migrate_every: int
    migrants: int
    migration_steps: list[int]
    islands: list[IslandReport]
    migrations: list[Migration]

    def best(self) -> IslandReport | None:
        """The island whose best living agent has the best last fitness (ties: lower k)."""
        scored = [r for r in self.islands if r.best_fitness is not None]
        return max(scored, key=lambda r: (r.best_fitness, -r.island), default=None)

    def to_json(self) -> dict[str, object]:
        """What ``--json`` prints."""
        best = self.best()
        return {
            "evolve_id": self.evolve_id,
            "run_dir": str(self.run_dir),
            "executor": self.executor,
            "islands": [
                {
                    "island": r.island,
                    "run_dir": str(r.run_dir),
                    "decision_trace_hash": r.decision_trace_hash,
                    "best_policy_hash": r.best_policy_hash,
                }
                for r in self.islands
            ],
            "migrations": len(self.migrations),
            "best_island": None if best is None else best.island,
            "best_lineage_id": None if best is None else best.best_lineage_id,
            "best_policy_hash": None if best is None else best.best_policy_hash,
        }

    def record(self) -> dict[str, object]:
        """``evolve.json``: deterministic for a seed (paths relative to the evolve dir)."""
        best = self.best()
        islands = []
        for r in self.islands:
            entry = r.to_json()
            entry["run_dir"] = r.run_dir.name
            islands.append(entry)
        return {
            "evolve_id": self.evolve_id,
            "config_hash": self.config_hash,
            "seed": self.seed,
            "n_islands": len(self.islands),
            "topology": "ring",
            "every": self.every,
            "migrate_every": self.migrate_every,
            "migrants": self.migrants,
            "migration_steps": self.migration_steps,
            "islands": islands,
            "migrations": [m.to_json() for m in self.migrations],
            "best": None
            if best is None
            else {
                "island": best.island,
                "lineage_id": best.best_lineage_id,
                "policy_hash": best.best_policy_hash,
                "fitness": best.best_fitness,
            },
        }


def evolution_every(config: RunConfig, migrants: int) -> int:
    """The evolving groups' common ``evolution.every``; checks ``migrants`` fits them."""
    groups = [g for g in config.agents if isinstance(g, QNetGroup) and g.evolution.enabled]
    if not groups:
        raise ConfigError(
            "islands need an evolving group: set [agents.evolution] enabled = true on a "
            "q-network group"
        )
    every = {g.evolution.every for g in groups}
    if len(every) > 1:
        raise ConfigError(
            f"agents: evolving groups have different evolution.every {sorted(every)}; "
            "islands migrate at one life-cycle period"
        )
    smallest = min(g.count for g in groups)
    if migrants >= smallest:
        raise EvolveError(
            f"--migrants {migrants} must be less than the smallest evolving group ({smallest})"
        )
    return every.pop()


def executor_for(name: str, n_islands: int) -> IslandExecutor:
    """The executor called ``name`` (``inprocess`` or ``ray``)."""
    if name == "inprocess":
        return InProcessExecutor()
    if name == "ray":  # imported only when asked for: Ray is an optional extra
        from scarline.cluster.ray_executor import RayExecutor

        return RayExecutor(n_islands)
    raise ExecutorError(f"unknown executor {name!r}, expected one of {', '.join(EXECUTORS)}")


def _check_options(islands: int, executor: str, migrate_every: int, migrants: int) -> None:
    if islands < 1:
        raise EvolveError(f"--islands must be >= 1, got {islands}")
    if executor not in EXECUTORS:
        raise EvolveError(f"--executor must be one of {', '.join(EXECUTORS)}, got {executor!r}")
    if migrate_every < 0:
        raise EvolveError(f"--migrate-every must be >= 0 (0: never), got {migrate_every}")
    if migrants < 1:
        raise EvolveError(f"--migrants must be >= 1, got {migrants}")


def _check_island_ids(evolve_id: str, islands: int) -> None:
    """Every island's run id (``<evolve_id>-island-<k>``) is a valid run id, checked before
    the evolve directory is made: the longest is up to 12 characters longer than the id."""
    longest = island_run_id(evolve_id, islands - 1)
    try:
        check_run_id(longest)
    except RunIdError:
        room = MAX_RUN_ID - (len(longest) - len(evolve_id))
        raise EvolveError(
            f"--evolve-id: {len(evolve_id)} characters leave no room for the island run ids "
            f"({longest[:24]}…, {len(longest)} characters); at most {room} with {islands} islands"
        ) from None


def execute_evolve(
    config: RunConfig,
    *,
    islands: int,
    executor: str | IslandExecutor = "inprocess",
    migrate_every: int = 1,
    migrants: int = 2,
    out_dir: Path | None = None,
    evolve_id: str | None = None,
    now: datetime | None = None,
    on_start: Callable[[int], None] | None = None,
    on_advance: Callable[[int], None] | None = None,
) -> EvolveSummary:
    """Evolve ``islands`` arenas of ``config`` and write ``<out_dir>/<evolve_id>/``.

    ``executor`` is a name (``inprocess``, ``ray``) or an executor object; ``on_start`` gets
    the total work (steps × islands), ``on_advance`` each segment's.
    """
    _check_options(
        islands, executor if isinstance(executor, str) else executor.name, migrate_every, migrants
    )
    config = absolute_paths(config)  # the islands record it so: one hash for all
    every = evolution_every(config, migrants)
    if evolve_id is not None:
        run_dir_in(Path(out_dir or config.out_dir), evolve_id)
    admit_run_input(config)  # G0 errors (and refused warnings) stop it before any directory
    market = load_run_market(config)
    cfg_hash = config_hash(config)
    stamp = now or datetime.now(UTC)
    evolve_id = evolve_id or f"{make_run_id(stamp, market.name, cfg_hash)}-x{islands}"
    _check_island_ids(evolve_id, islands)
    # an unusable executor (Ray missing) fails before anything is written
    runner = executor_for(executor, islands) if isinstance(executor, str) else executor
    evolve_dir = run_dir_in(Path(out_dir or config.out_dir), evolve_id)
    if evolve_dir.exists() and any(evolve_dir.iterdir()):
        raise ScarlineError(f"{evolve_dir}: evolve directory already exists and is not empty")
    evolve_dir.mkdir(parents=True, exist_ok=True)

    n = market.n_steps
    schedule = Schedule(
        n, every, migrate_every if islands > 1 else 0, config.evaluation.split_step(n)
    )
    specs = [
        IslandSpec(
            config.with_overrides(seed=island_seed(config.seed, k)),
            k,
            island_run_id(evolve_id, k),
            evolve_dir,
            stamp,
        )
        for k in range(islands)
    ]
    migration_at = set(schedule.migration_steps())
    sent: list[tuple[int, int, Parcel]] = []  # (step, source island, parcel)
    try:
        runner.start(specs, market)
        if on_start is not None:
            on_start(n * islands)
        position = 0
        for stop in schedule.boundaries():
            runner.advance(stop)
            if on_advance is not None:
                on_advance((stop - position) * islands)
            position = stop
            if stop in migration_at:
                parcels = runner.emigrants(migrants)
                # ring: island k receives what island k - 1 sent
                runner.admit(stop, [parcels[(k - 1) % islands] for k in range(islands)])
                sent.extend((stop, k, parcel) for k, parcel in enumerate(parcels))
        reports = runner.finish()
    except IslandFailed as err:
        err.stopped_in(evolve_dir, island_dir(err.island))
        raise
    finally:
        runner.close()

    summary = EvolveSummary(
        evolve_id=evolve_id,
        run_dir=evolve_dir,
        executor=runner.name,
        config_hash=cfg_hash,
        seed=config.seed,
        every=every,
        migrate_every=schedule.migrate_every,
        migrants=migrants,
        migration_steps=schedule.migration_steps(),
        islands=reports,
        migrations=[_migration(step, k, parcel, reports) for step, k, parcel in sent],
    )
    _write_json(evolve_dir / EVOLVE_FILE, summary.record())
    return summary


def _migration(step: int, source: int, parcel: Parcel, reports: list[IslandReport]) -> Migration:
    target = (source + 1) % len(reports)
    migrants = [m for group in parcel for m in group]
    arrived = {a.parent_id: a.agent_id for a in reports[target].arrivals if a.step == step}
    return Migration(
        step=step,
        source=source,
        target=target,
        origin_ids=[m.origin_id for m in migrants],
        genome_hashes=[m.policy_hash for m in migrants],
        fitness=[m.fitness for m in migrants],
        agent_ids=[arrived.get(m.origin_id, -1) for m in migrants],  # -1: no room for it
    )


def _write_json(path: Path, obj: dict[str, object]) -> None:
    replace_file(path, (json.dumps(obj, indent=2) + "\n").encode("utf-8"))

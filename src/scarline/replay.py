"""``scarline replay``: re-execute a run from its WAL and config snapshot alone.

The dataset is not read again: the market is rebuilt from the WAL's Bar/Quote events.
The WAL must verify first (a tampered log proves nothing). Parity means the replayed
decision trace hash equals the manifest's; the replayed WAL head (computed without
writing) is reported too, and equals the original when every journaled event matches.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scarline.assembly import kernel_for
from scarline.config import RunConfig, config_hash, load_config
from scarline.engine import Kernel, SessionIds
from scarline.errors import WalError
from scarline.events import SCHEMA_VERSION, Bar, KillSwitch, Quote, SessionStart
from scarline.evolution.arrivals import admit_recorded, recorded_arrivals
from scarline.journal import HashOnlyWal, read_records, verify
from scarline.journal.manifest import RunManifest, read_manifest
from scarline.market.frame import MarketData
from scarline.market.stream import market_from_events
from scarline.operator import ReplayOperator


@dataclass(frozen=True)
class ReplayResult:
    parity: bool
    original: str
    replayed: str
    wal_head_original: str
    wal_head_replayed: str
    steps: int
    config_matches_manifest: bool


@dataclass(frozen=True, eq=False)
class Replayed:
    """A replay with its kernel in its final state (the gates read equity and genomes)."""

    result: ReplayResult
    kernel: Kernel
    market: MarketData
    config: RunConfig
    manifest: RunManifest


def check_schema(run_dir: Path, manifest: RunManifest) -> None:
    """A run is replayed only by code of its event schema: between schemas a config key or
    an event changed meaning, so re-executing would not be the run that was recorded."""
    if manifest.schema_version != SCHEMA_VERSION:
        raise WalError(
            f"{run_dir}: the event schema changed: this run was written with schema "
            f"{manifest.schema_version}, this scarline replays schema {SCHEMA_VERSION} "
            "(see docs/wal.md, 'Schema versions'); re-run its config.toml with this version, "
            "or replay it with the scarline that wrote it"
        )


def replay_run(run_dir: Path) -> ReplayResult:
    return replay(run_dir).result


def replay(run_dir: Path, keep_equity: bool = False) -> Replayed:
    """Re-execute the run; ``keep_equity`` keeps every agent's equity path in the kernel's
    recorder."""
    manifest = read_manifest(run_dir)
    check_schema(run_dir, manifest)
    wal_dir = run_dir / "wal"
    report = verify(wal_dir, manifest.run_id, expected_head=manifest.wal_head)
    if not report.ok:
        bad = report.first_bad
        where = (
            f"segment {bad.segment}, seq {bad.seq} (line {bad.line}): {bad.reason}" if bad else ""
        )
        raise WalError(f"refusing to replay {run_dir}: WAL check failed at {where}")
    config = load_config(run_dir / "config.toml")

    start: SessionStart | None = None
    market_events: list[tuple[int, Bar | Quote]] = []
    kills: list[KillSwitch] = []
    for rec in read_records(wal_dir, kinds=("SessionStart", "Bar", "Quote", "KillSwitch")):
        if isinstance(rec.data, SessionStart):
            if start is not None:
                break  # one session per run for now
            start = rec.data
        elif isinstance(rec.data, KillSwitch):
            kills.append(rec.data)
        else:
            market_events.append((rec.ts, rec.data))
    if start is None:
        raise WalError(f"{wal_dir}: no SessionStart record; nothing to replay")
    market = market_from_events(start, market_events)
    ids = SessionIds(start.run_id, start.session_id)
    sink = HashOnlyWal(manifest.run_id)
    island, arrivals = recorded_arrivals(run_dir)  # an island of `scarline evolve`
    kernel = kernel_for(
        config, market, ids, sink, ReplayOperator(kills), keep_equity=keep_equity, island=island
    )
    if arrivals and kernel.population.census is not None:
        admit_recorded(kernel.population.census, arrivals)
    result = kernel.run()
    replayed = ReplayResult(
        parity=result.decision_trace_hash == manifest.decision_trace_hash,
        original=manifest.decision_trace_hash,
        replayed=result.decision_trace_hash,
        wal_head_original=manifest.wal_head,
        wal_head_replayed=result.wal_head,
        steps=result.steps,
        config_matches_manifest=config_hash(config) == manifest.config_hash,
    )
    return Replayed(replayed, kernel, market, config, manifest)

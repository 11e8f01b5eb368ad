"""``scarline replay``: re-execute a run from its WAL and config snapshot alone.

The dataset is not read again: the market is rebuilt from the WAL's Bar/Quote events.
The WAL must verify first (a tampered log proves nothing). Parity means the replayed WAL
equals the original record by record — the same ``h`` at every seq, so the same head — and
the replayed decision trace hash equals the manifest's. The trace alone is not enough: an
edited, re-chained WAL whose edit changes no decision (a fill price, a fee) would pass it.
The first differing record is named by seq, kind and field. A run sealed after a crash
(``scarline wal seal``) without a ``SessionEnd`` is compared over its sealed prefix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from scarline.agents.strategy_loader import changed_sources, unrecorded_strategy
from scarline.assembly import kernel_for
from scarline.config import RunConfig, load_config, snapshot_matches
from scarline.errors import ScarlineError, WalError
from scarline.events import (
    REPLAYABLE_SCHEMAS,
    SCHEMA_VERSION,
    Bar,
    DataFault,
    DataWarnings,
    FeedGap,
    FeedInput,
    FeedOutage,
    KillSwitch,
    OperatorFlag,
    PolicySwap,
    QuietRun,
    Quote,
    SessionStart,
)
from scarline.evolution.arrivals import admit_recorded, recorded_arrivals
from scarline.evolution.genome import Genome
from scarline.evolution.rebuild import load_genome_from_vault
from scarline.journal import read_records
from scarline.journal.compare import ComparingWal, Mismatch
from scarline.journal.manifest import RunManifest, read_manifest
from scarline.journal.quiet_run import market_rows
from scarline.journal.verify import verify_as_recorded
from scarline.kernel import Kernel
from scarline.market.frame import MarketData
from scarline.market.stream import market_from_events
from scarline.operator import ReplayOperator, Swap
from scarline.rundir import RunDir
from scarline.runner import load_run_market
from scarline.session import SessionIds

FEED_KINDS = ("DataFault", "FeedGap", "FeedOutage", "OperatorFlag", "PolicySwap")


def swapped_genome(run_dir: Path, swap: PolicySwap) -> Genome | None:
    """The genome a policy swap installed, from the run's vault (checked by sha256)."""
    if not swap.policy_hash:
        return None
    return load_genome_from_vault(run_dir, swap.policy_hash)[1]


def session_steps(config: RunConfig, market: MarketData) -> int | None:
    """The length of the session a sealed prefix ``market`` was cut from, when its
    out-of-sample split matters and the config's data still starts with that prefix: the
    run froze its learners and stopped evolving at the split of its whole session, not of
    the steps journaled before it stopped. None otherwise (the prefix's own length)."""
    if config.evaluation.oos_fraction == 0.0 or config.profile != "sim":
        return None
    try:
        full = load_run_market(config)
    except ScarlineError:  # the data is gone or changed: nothing better than the prefix
        return None
    if full.n_steps < market.n_steps:
        return None
    return full.n_steps if _starts_with(full, market) else None


def _starts_with(full: MarketData, market: MarketData) -> bool:
    """Whether ``full`` begins with ``market``. Its last step may be torn: a process killed
    between two instruments' bars of one step (kill -9 of an island's worker) leaves the
    later bars out of the WAL, so that step counts by its timestamp alone."""
    n = market.n_steps
    if _same(full.slice(0, n), market):
        return True
    whole = n - 1
    return bool(
        whole > 0
        and full.timestamps[whole] == market.timestamps[whole]
        and _same(full.slice(0, whole), market.slice(0, whole))
    )


def _same(a: MarketData, b: MarketData) -> bool:
    return replace(a, calendar=b.calendar).content_hash() == b.content_hash()


@dataclass(frozen=True)
class ReplayResult:
    """``parity``: no record differs and (unless sealed over a prefix) the decision trace
    is the manifest's. ``records``: original records compared; ``extra_records``: replayed
    records past a sealed prefix (not compared); ``mismatch``: the first differing record."""

    parity: bool
    original: str
    replayed: str
    wal_head_original: str
    wal_head_replayed: str
    steps: int
    config_matches_manifest: bool
    records: int = 0
    mismatch: Mismatch | None = None
    sealed_prefix: bool = False
    extra_records: int = 0

    def describe(self) -> str:
        """One line: what parity covered, or the first record that differs."""
        if self.mismatch is not None:
            return f"first differing record: {self.mismatch.describe()}"
        if self.original != self.replayed and not self.sealed_prefix:
            return f"decision trace {self.replayed} != manifest {self.original}"
        scope = "the sealed prefix of " if self.sealed_prefix else ""
        return f"{scope}{self.records} records equal"


@dataclass(frozen=True, eq=False)
class Replayed:
    """A replay with its kernel in its final state (the gates read equity and genomes)."""

    result: ReplayResult
    kernel: Kernel
    market: MarketData
    config: RunConfig
    manifest: RunManifest


def check_schema(run_dir: Path, manifest: RunManifest) -> None:
    """A run is replayed only by code of its event schema (or one that only added kinds,
    ``REPLAYABLE_SCHEMAS``): otherwise a config key, an event or the arithmetic behind a
    journaled figure changed, and re-executing would not be the run that was recorded."""
    if manifest.schema_version not in REPLAYABLE_SCHEMAS:
        older = ", ".join(str(v) for v in REPLAYABLE_SCHEMAS if v != SCHEMA_VERSION)
        also = f" (and {older})" if older else ""
        raise WalError(
            f"{run_dir}: the event schema changed: this run was written with schema "
            f"{manifest.schema_version}, this scarline replays schema {SCHEMA_VERSION}{also} "
            "(see docs/wal.md, 'Schema versions'); re-run its config.toml with this version, "
            "or replay it with the scarline that wrote it"
        )


def check_session(
    run_dir: Path, start: SessionStart, market: MarketData, manifest: RunManifest
) -> None:
    """The WAL's session is the one its manifest names: run id, config hash, schema, and the
    market its records hold (instruments, bars, quotes: ``data_hash``). Replay journals
    these inputs again as it read them, so an edited and re-chained ``SessionStart`` (or
    bar) would otherwise replay with parity; a manifest rewritten to match breaks its
    signature instead (docs/wal.md)."""
    recorded = {
        "run id": (start.run_id, manifest.run_id),
        "config hash": (start.config_hash, manifest.config_hash),
        "schema": (start.schema_version, manifest.schema_version),
    }
    for what, (in_wal, in_manifest) in recorded.items():
        if in_wal != in_manifest:
            raise WalError(
                f"refusing to replay {run_dir}: the WAL's SessionStart names {what} "
                f"{in_wal!r}, the manifest {in_manifest!r}"
            )
    held = market.content_hash()
    if held != manifest.data_hash:
        raise WalError(
            f"refusing to replay {run_dir}: the market the WAL holds (instruments, bars, "
            f"quotes) hashes to {held}, the manifest names {manifest.data_hash}"
        )


def replay_run(run_dir: Path) -> ReplayResult:
    return replay(run_dir).result


def replay(
    run_dir: Path,
    keep_equity: bool = False,
    on_market: Callable[[RunConfig, MarketData, int], None] | None = None,
) -> Replayed:
    """Re-execute the run; ``keep_equity`` keeps every agent's equity path in the kernel's
    recorder. ``on_market`` is told the config, the market rebuilt from the WAL and the
    event schema the run was recorded with before the kernel runs (the gates start re-runs
    that need nothing else meanwhile, under that schema's rules)."""
    manifest = read_manifest(run_dir)
    check_schema(run_dir, manifest)
    paths = RunDir(run_dir)
    wal_dir = paths.wal
    report = verify_as_recorded(wal_dir, manifest)
    if not report.ok:
        bad = report.first_bad
        where = (
            f"segment {bad.segment}, seq {bad.seq} (line {bad.line}): {bad.reason}" if bad else ""
        )
        raise WalError(f"refusing to replay {run_dir}: WAL check failed at {where}")
    config = load_config(paths.config)
    changed = changed_sources(manifest.strategy_sources)
    changed = changed or unrecorded_strategy(config.agents, manifest.strategy_sources)
    if changed is not None:
        raise WalError(
            f"refusing to replay {run_dir}: {changed}; replay re-imports user strategies, so "
            "it would not re-execute the run that was recorded (restore the file, or re-run)"
        )

    start: SessionStart | None = None
    market_events: list[tuple[int, Bar | Quote]] = []
    kills: list[KillSwitch] = []
    feed: list[FeedInput] = []  # a live session's faults, gaps, outages: journaled again
    swaps: list[Swap] = []  # a live session's policy swaps: applied again
    warned: DataWarnings | None = None  # the input's G0 warnings: journaled again as recorded
    kinds = ("SessionStart", "DataWarnings", "Bar", "Quote", "QuietRun", "KillSwitch", *FEED_KINDS)
    for rec in read_records(wal_dir, kinds=kinds):
        if isinstance(rec.data, SessionStart):
            if start is not None:
                break  # one session per run for now
            start = rec.data
        elif isinstance(rec.data, KillSwitch):
            kills.append(rec.data)
        elif isinstance(rec.data, DataFault | FeedGap | FeedOutage | OperatorFlag):
            feed.append(rec.data)
        elif isinstance(rec.data, PolicySwap):
            swaps.append((rec.data, swapped_genome(run_dir, rec.data)))
        elif isinstance(rec.data, DataWarnings):
            warned = warned or rec.data
        elif isinstance(rec.data, Bar | Quote):
            market_events.append((rec.ts, rec.data))
        elif isinstance(rec.data, QuietRun):  # the only other kind read: its rows' bars
            market_events += market_rows(rec.data)
    if start is None:
        raise WalError(f"{wal_dir}: no SessionStart record; nothing to replay")
    market = replace(market_from_events(start, market_events), calendar=config.calendar)
    check_session(run_dir, start, market, manifest)
    if on_market is not None:
        on_market(config, market, start.schema_version)
    ids = SessionIds(start.run_id, start.session_id)
    sealed = manifest.sealed_after_crash
    prefix = sealed is not None and not sealed.session_ended
    sink = ComparingWal(wal_dir, manifest.run_id, allow_extra=prefix)
    try:
        # an island of `scarline evolve` (sealed mid-run: no lineage yet, the WAL says)
        island, arrivals = recorded_arrivals(run_dir, from_wal=prefix)
        kernel = kernel_for(
            config,
            market,
            ids,
            sink,
            ReplayOperator(kills, feed, swaps),
            keep_equity=keep_equity,
            island=island,
            data_warnings=warned,
            schema_version=start.schema_version,
            recorded_config_hash=start.config_hash,
            session_steps=session_steps(config, market) if prefix else None,
        )
        if arrivals and kernel.population.census is not None:
            admit_recorded(kernel.population.census, arrivals)
        result = kernel.run()
        mismatch = sink.finish()
    finally:
        sink.close()
    trace_ok = prefix or result.decision_trace_hash == manifest.decision_trace_hash
    replayed = ReplayResult(
        parity=mismatch is None and trace_ok,
        original=manifest.decision_trace_hash,
        replayed=result.decision_trace_hash,
        wal_head_original=manifest.wal_head,
        wal_head_replayed=sink.compared_head if prefix else result.wal_head,
        steps=result.steps,
        config_matches_manifest=snapshot_matches(
            config,
            paths.config_json.read_bytes() if paths.config_json.is_file() else None,
            manifest.config_hash,
        ),
        records=sink.compared,
        mismatch=mismatch,
        sealed_prefix=prefix,
        extra_records=sink.extra,
    )
    return Replayed(replayed, kernel, market, config, manifest)

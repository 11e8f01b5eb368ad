"""Finishing a run that stopped before writing its manifest (``scarline wal seal``).

A run writes its manifest last, so a crash, ``kill -9`` or power loss mid-run — or after
the WAL closed but before the manifest — leaves a WAL that replay, the gates and the ledger
refuse as unfinished. The WAL alone is enough to finish it: sealing checks the chain, cuts
only a torn last line (never a complete one: that would be tampering), and writes a manifest
from the records, marked ``sealed_after_crash``, whose head and counts bind exactly the
records kept. Replay of a sealed run then proves parity over that prefix.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from scarline.errors import WalError
from scarline.events import Bar, QuietRun, Quote, SessionEnd, SessionStart
from scarline.journal.lock import DirLock
from scarline.journal.manifest import CrashSeal, RunManifest, segment_entries, write_json
from scarline.journal.quiet_run import market_rows
from scarline.journal.reader import read_records
from scarline.journal.recovery import Recovery, repair
from scarline.journal.segments import list_segments
from scarline.journal.signature import sign_run_files
from scarline.market.frame import MarketData
from scarline.market.stream import market_from_events
from scarline.provenance import code_hash, environment
from scarline.rundir import RunDir

SealStatus = Literal["sealed", "finished", "empty"]


@dataclass(frozen=True)
class SealResult:
    """What sealing did: ``sealed`` (a manifest was written), ``finished`` (the run already
    has one; nothing changed) or ``empty`` (nothing journaled worth replaying; no manifest)."""

    status: SealStatus
    run_dir: str
    run_id: str
    records: int = 0
    head: str = ""
    steps: int = 0
    session_ended: bool = False
    truncated: Recovery | None = None
    reason: str = ""


def seal_run(run_dir: Path, run_id: str, *, now: datetime | None = None) -> SealResult:
    """Write ``run_dir/manifest.json`` from the WAL alone, after cutting a torn last line.

    Raises :class:`WalError` when the WAL is another run's, is corrupt or tampered with
    anywhere (a complete bad last record included: named by seq), or is still open by a
    writer (the run is alive).
    """
    where = str(run_dir)
    paths = RunDir(run_dir)
    if paths.manifest.is_file():
        return SealResult("finished", where, run_id, reason="the run already has a manifest")
    wal_dir = paths.wal
    if not wal_dir.is_dir() or not list_segments(wal_dir):
        return SealResult("empty", where, run_id, reason="no WAL segment: nothing was journaled")
    with DirLock(wal_dir):
        found, dropped = repair(wal_dir, run_id)
        if found.records == 0:
            return _empty(where, run_id, dropped, "the WAL holds no complete record")
        start, end, market = _session(wal_dir)
        if market is None:
            return _empty(where, run_id, dropped, "the WAL holds no market step (no Bar record)")
        stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
        manifest = RunManifest(
            run_id=run_id,
            session_id=start.session_id,
            config_hash=start.config_hash,
            code_hash=code_hash(),
            seed=start.seed,
            schema_version=start.schema_version,
            wal_segments=segment_entries(wal_dir),
            wal_head=found.head.hex(),
            wal_records=found.records,
            decision_trace_hash=end.decision_trace_hash if end is not None else "",
            steps=end.steps if end is not None else market.n_steps,
            agents=0,  # not known from the WAL alone
            data_hash=market.content_hash(),
            created_at=stamp,
            environment=environment(),
            sealed_after_crash=CrashSeal(
                sealed_at=stamp,
                session_ended=end is not None,
                truncated_seq=None if dropped is None else dropped.seq,
                truncated_bytes=0 if dropped is None else dropped.dropped_bytes,
            ),
        )
        write_json(paths.manifest, manifest)
        sign_run_files(run_dir)  # sealed manifests are signed too (and refused by the ledger)
    return SealResult(
        "sealed",
        where,
        run_id,
        records=found.records,
        head=manifest.wal_head,
        steps=manifest.steps,
        session_ended=end is not None,
        truncated=dropped,
    )


def _empty(where: str, run_id: str, dropped: Recovery | None, reason: str) -> SealResult:
    return SealResult("empty", where, run_id, truncated=dropped, reason=reason)


def _session(wal_dir: Path) -> tuple[SessionStart, SessionEnd | None, MarketData | None]:
    """The SessionStart, the SessionEnd (if the kernel got that far) and the market the
    journaled bars make (``None`` without any)."""
    start: SessionStart | None = None
    end: SessionEnd | None = None
    market_events: list[tuple[int, Bar | Quote]] = []
    kinds = ("SessionStart", "SessionEnd", "Bar", "Quote", "QuietRun")
    for rec in read_records(wal_dir, kinds=kinds):
        data = rec.data
        if start is None:
            if not isinstance(data, SessionStart) or rec.seq != 0:
                raise WalError(f"{wal_dir}: the first record is not a SessionStart")
            start = data
        elif isinstance(data, SessionEnd):
            end = data
        elif isinstance(data, Bar | Quote):
            market_events.append((rec.ts, data))
        elif isinstance(data, QuietRun):
            market_events += market_rows(data)
    if start is None:
        raise WalError(f"{wal_dir}: no SessionStart record")
    if not any(isinstance(e, Bar) for _, e in market_events):
        return start, end, None
    return start, end, market_from_events(start, market_events)

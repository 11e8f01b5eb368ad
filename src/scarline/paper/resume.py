"""``scarline paper --resume RUN_DIR``: rebuild a stopped or crashed session from its WAL.

Crash-only: nothing but the WAL (and the config snapshot) is trusted. Opening the WAL for
writing truncates a torn last line and locks the directory (a second process is refused).
The kernel is rebuilt and re-executes every recorded step from the journaled bars, faults,
gaps, outages and kills; each record it journals must equal the WAL's at the same seq
(:class:`~scarline.journal.resume.ResumingJournal`), so nothing is written twice, and once
the recorded records run out the same hash chain goes on live. The feed resumes after the
last bar each symbol had (what the downtime missed comes as a backfill, checked like any
bar: late bars are stale faults), and the bad-print check starts from the last good close.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from scarline.assembly import kernel_for
from scarline.config import RunConfig, load_config
from scarline.errors import WalError
from scarline.events import (
    REPLAYABLE_SCHEMAS,
    Bar,
    DataFault,
    FeedGap,
    FeedInput,
    FeedOutage,
    KillSwitch,
    OperatorFlag,
    PolicySwap,
    Quote,
    SessionEnd,
    SessionStart,
)
from scarline.evolution.vault import Vault
from scarline.evolution.vault_writer import VaultWriter
from scarline.instrument import ticks_to_decimal
from scarline.journal import WalWriter, read_records
from scarline.journal.resume import ResumingJournal
from scarline.market.frame import MarketData
from scarline.market.stream import market_from_events
from scarline.operator import LiveOperator, ReplayOperator, Swap
from scarline.paper.session import PaperError, PaperOptions, PaperSession
from scarline.replayer import swapped_genome
from scarline.rundir import RunDir
from scarline.runner import OpenRun
from scarline.session import SessionIds

_KINDS = (
    "SessionStart",
    "SessionEnd",
    "Bar",
    "Quote",
    "KillSwitch",
    "DataFault",
    "OperatorFlag",
    "FeedGap",
    "FeedOutage",
    "PolicySwap",
)


class ResumeOperator:
    """The recorded kills and feed records up to step ``live_from``, the live operator
    (kill flag, feed queue) from then on."""

    def __init__(self, recorded: ReplayOperator, live: LiveOperator, live_from: int) -> None:
        self._recorded, self._live, self._from = recorded, live, live_from

    def poll(self, step: int) -> KillSwitch | None:
        return self._recorded.poll(step) if step < self._from else self._live.poll(step)

    def feed_inputs(self, step: int) -> Sequence[FeedInput]:
        if step < self._from:
            return self._recorded.feed_inputs(step)
        return self._live.feed_inputs(step)

    def policy_swaps(self, step: int) -> Sequence[Swap]:
        if step < self._from:
            return self._recorded.policy_swaps(step)
        return self._live.policy_swaps(step)

    def quiet_until(self, step: int, stop: int) -> int:
        if step < self._from:
            return self._recorded.quiet_until(step, min(stop, self._from))
        return self._live.quiet_until(step, stop)


def resume_session(run_dir: Path, options: PaperOptions | None = None) -> PaperSession:
    """A session that continues ``run_dir``: kernel rebuilt and re-executed, WAL open."""
    options = options or PaperOptions()
    paths = RunDir(run_dir)
    if paths.manifest.is_file():
        raise PaperError(f"{run_dir}: the session was closed ({RunDir.MANIFEST} exists)")
    if not paths.config.is_file() or not paths.wal.is_dir():
        raise PaperError(f"{run_dir}: not a paper session (no config.toml or wal/)")
    config = load_config(paths.config)
    first = next(iter(read_records(paths.wal, kinds=("SessionStart",))), None)
    if first is None or not isinstance(first.data, SessionStart):
        raise WalError(f"{paths.wal}: no SessionStart record; nothing to resume")
    start = first.data
    ids = SessionIds(start.run_id, start.session_id)
    wal = WalWriter(
        paths.wal,
        ids.run_id,
        segment_bytes=config.wal.segment_bytes,
        fsync=config.wal.fsync,
        fsync_every=config.wal.fsync_every,
    )  # truncates a torn tail, locks the directory
    try:
        return _rebuild(run_dir, config, ids, wal, options)
    except BaseException:
        wal.close()
        raise


def _rebuild(
    run_dir: Path, config: RunConfig, ids: SessionIds, wal: WalWriter, options: PaperOptions
) -> PaperSession:
    paths = RunDir(run_dir)
    start: SessionStart | None = None
    market_events: list[tuple[int, Bar | Quote]] = []
    kills: list[KillSwitch] = []
    feed: list[FeedInput] = []
    swaps: list[PolicySwap] = []
    for rec in read_records(paths.wal, kinds=_KINDS):
        data = rec.data
        if isinstance(data, SessionEnd):
            raise PaperError(f"{run_dir}: the session ended; `scarline wal seal` closes it")
        if isinstance(data, SessionStart):
            start = start or data
        elif isinstance(data, Bar | Quote):
            market_events.append((rec.ts, data))
        elif isinstance(data, KillSwitch):
            kills.append(data)
        elif isinstance(data, DataFault | FeedGap | FeedOutage | OperatorFlag):
            feed.append(data)
        elif isinstance(data, PolicySwap):
            swaps.append(data)
    assert start is not None
    if start.schema_version not in REPLAYABLE_SCHEMAS:
        raise PaperError(
            f"{run_dir}: the session was recorded with schema {start.schema_version}, which "
            f"this scarline does not re-execute ({', '.join(map(str, REPLAYABLE_SCHEMAS))})"
        )
    market = market_from_events(start, market_events)
    steps = market.n_steps
    if steps == 0:
        raise PaperError(f"{run_dir}: no bar was journaled; start a new session instead")
    held = _held(market, feed)
    session = PaperSession(config, options, ids=ids, after=held, recorded=market.instruments)
    market = replace(market, calendar=config.calendar, meta=dict(session.book.meta))
    queue = session.queue
    for record in feed:
        if record.step >= steps:  # journaled at the step the crash cut short: again there
            queue.add(record)
    recorded = [(s, swapped_genome(run_dir, s)) for s in swaps]
    for swap in recorded:
        if swap[0].step >= steps:
            queue.add_swap(swap)
    operator = ResumeOperator(
        ReplayOperator(
            kills,
            [r for r in feed if r.step < steps],
            [s for s in recorded if s[0].step < steps],
        ),
        LiveOperator(
            ids,
            config_kill=config.risk.kill,
            run_dir=run_dir,
            runs_root=run_dir.parent,
            every=1,
            feed=queue,
        ),
        steps,
    )
    journal = ResumingJournal(paths.wal, ids.run_id, wal)
    vault = VaultWriter(Vault(paths.vault))
    try:
        # the schema the session began with: its steps so far are re-executed as recorded
        kernel = kernel_for(
            config, market, ids, journal, operator, schema_version=start.schema_version
        )
        kernel.begin()
        kernel.run_steps(0, steps)
    except BaseException:
        journal.close()
        vault.close()
        raise
    run = OpenRun(config, market, run_dir, ids, datetime.now(UTC), wal, vault, kernel)
    session.book.load(market)
    session.steps = steps
    _seed_checks(session, market)
    session.attach(run)
    if session.policies is not None:
        session.policies.restore(swaps)
    return session


def _held(market: MarketData, feed: list[FeedInput]) -> dict[str, int]:
    """Per symbol, the venue open time of the last bar the session dealt with: traded on
    (a Bar) or refused (a DataFault). A gap ends at a bar that was one of these."""
    held: dict[str, int] = {}
    for m, spec in enumerate(market.instruments):
        rows = market.valid[:, m].nonzero()[0]
        if rows.size:
            held[spec.symbol] = int(market.timestamps[rows[-1]])
    for record in feed:
        if isinstance(record, DataFault):
            held[record.symbol] = max(held.get(record.symbol, record.bar_ts), record.bar_ts)
    return held


def _seed_checks(session: PaperSession, market: MarketData) -> None:
    """The bad-print check goes on from each symbol's last good close."""
    for m, spec in enumerate(market.instruments):
        rows = market.valid[:, m].nonzero()[0]
        if rows.size:
            t = int(rows[-1])
            close = ticks_to_decimal(int(market.close[t, m]), spec)
            session.checks.seed(spec.symbol, int(market.timestamps[t]), str(close))

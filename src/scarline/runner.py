"""``scarline run``: turn a config into a run directory (the unit of evidence).

Order matters: the config snapshot is written first, then the WAL as the kernel runs,
then the session and run manifests, which bind the WAL segments' sha256 and head and the
decision trace hash. A crash mid-run leaves a WAL without a manifest, never the reverse
(``scarline wal seal`` finishes such a run from its WAL alone: :mod:`scarline.journal.seal`).
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import numpy as np
import structlog

from scarline.admission import admit_run_input, check_market
from scarline.agents.strategy_loader import strategy_sources
from scarline.assembly import kernel_for
from scarline.config import RunConfig, canonical_json, check_new_run, config_hash, dump_toml
from scarline.diary.writer import DiaryStats, build_diary
from scarline.digest import file_sha256
from scarline.equity_file import write_equity
from scarline.errors import ConfigError, ScarlineError
from scarline.evolution.artifacts import best_policy, finish_lineage
from scarline.evolution.vault import Vault
from scarline.evolution.vault_writer import VaultWriter
from scarline.execution.types import unit_value_problem
from scarline.journal import WalWriter
from scarline.journal.manifest import (
    WAL_FORMAT_VERSION,
    RunManifest,
    SessionManifest,
    segment_entries,
    write_json,
)
from scarline.journal.signature import sign_run_files
from scarline.kernel import Kernel
from scarline.market.admit import Admission, warnings_event
from scarline.market.asof import available_after
from scarline.market.datasets import is_dataset
from scarline.market.frame import MarketData
from scarline.market.io import load_market
from scarline.market.stream import normalized
from scarline.market.subset import subset
from scarline.operator import FeedQueue, LiveOperator
from scarline.outcome import regime_labels_of, run_results
from scarline.policy_store import save_weights
from scarline.provenance import environment, run_code_hash
from scarline.reflect.theory import write_packets
from scarline.report.html import write_report
from scarline.report.metrics import AgentMetrics, agent_metrics
from scarline.report.strategies import StrategyRow, strategy_rows
from scarline.rundir import RunDir
from scarline.session import KernelResult, SessionIds, make_run_id, run_dir_in, session_id_for
from scarline.trades_file import trades_table, write_trades


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    run_dir: Path
    config_hash: str
    data_hash: str
    steps: int
    n_agents: int
    wal_records: int
    decision_trace_hash: str
    wal_head: str
    killed_at: int | None
    report: Path | None
    metrics: AgentMetrics
    kinds: list[str]  # each agent's policy kind ("q-network", "random-entry", …)
    split_step: int | None
    best_policy: tuple[int, str] | None = None  # evolution: (lineage id, policy hash)
    diary: DiaryStats | None = None  # the decision diary's rows and attribution coverage

    def best_agent_id(self) -> int:
        """The learning agent (or, without any, the agent) with the best *in-sample* return —
        chosen without looking at the out-of-sample part — or the best return without a split."""
        m, kinds = self.metrics, np.array(self.kinds)
        pool = np.flatnonzero(kinds == "q-network")
        pool = pool if pool.size else np.arange(len(kinds))
        score = m.is_return if self.split_step is not None else m.total_return
        return int(m.agent_ids[pool[np.argmax(np.nan_to_num(score[pool], nan=-np.inf))]])

    def oos(self) -> dict[str, object] | None:
        """Out-of-sample figures net of costs: medians of learning agents, placebos and
        buy-and-hold, and the out-of-sample Sharpe of the best in-sample learning agent (the
        one a reader would pick without peeking; None without learning agents)."""
        if self.split_step is None:
            return None
        rows = {r.kind: r for r in strategy_rows(self.metrics, self.kinds)}
        learners, best = rows.get("q-network"), None
        if learners is not None:
            column = int(np.flatnonzero(self.metrics.agent_ids == self.best_agent_id())[0])
            best = float(self.metrics.oos_sharpe[column])
        return {
            "split_step": self.split_step,
            "ml_median_return": None if learners is None else learners.median_oos_return,
            "ml_median_sharpe": None if learners is None else learners.median_oos_sharpe,
            "best_agent_oos_sharpe": best,
            "placebo_median_return": _oos_median(rows, "random-entry"),
            "buy_and_hold_return": _oos_median(rows, "buy-and-hold"),
        }

    def agents(self) -> list[dict[str, object]]:
        """Per-agent headline metrics (id, policy, kind, final_equity, return, sharpe,
        max_drawdown, trades, fees, …), best return first."""
        records = self.metrics.to_records()
        rows = [records[i] for i in self.metrics.ranking()]
        for row in rows:
            agent = row.get("id")
            if isinstance(agent, int) and 0 <= agent < len(self.kinds):
                row.setdefault("kind", self.kinds[agent])
        return rows

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "run_id": self.run_id,
            "run_dir": str(self.run_dir),
            "config_hash": self.config_hash,
            "data_hash": self.data_hash,
            "steps": self.steps,
            "n_agents": self.n_agents,
            "wal_records": self.wal_records,
            "decision_trace_hash": self.decision_trace_hash,
            "wal_head": self.wal_head,
            "killed_at": self.killed_at,
            "report": None if self.report is None else str(self.report),
        }
        out["best_agent_id"] = self.best_agent_id()
        if self.best_policy is not None:
            out["best_lineage_id"], out["best_policy_hash"] = self.best_policy
        if self.diary is not None:
            out["attribution_orders"] = self.diary.orders
            out["attribution_coverage"] = self.diary.coverage
        out["oos"] = self.oos()
        out["agents"] = self.agents()
        return out


def _oos_median(rows: dict[str, StrategyRow], kind: str) -> float | None:
    return None if kind not in rows else rows[kind].median_oos_return


def load_run_market(config: RunConfig) -> MarketData:
    """The market a run trades, as run, gates and islands load it: the source with each
    exogenous column delayed to when it is known (before the date cut, so the first kept
    rows see real earlier values), then cut and normalized."""
    d = config.data
    source = load_market(d.source, tick_size=d.tick_size, lot_sizes=d.lot_sizes)
    unknown = sorted(set(d.lot_sizes) - set(source.symbols))
    if unknown:
        raise ConfigError(f"data.lot_sizes: {', '.join(unknown)} not in {d.source}")
    for inst in source.instruments:  # the accounts book whole cash units (exit 2, not 1)
        problem = unit_value_problem(inst.tick_size, inst.lot_size)
        if problem is not None:
            raise ConfigError(f"data.lot_sizes: {inst.symbol!r}: {problem}")
    market = available_after(source, d.exog_available_after)
    market = replace(market, calendar=config.calendar)
    return check_market(normalized(subset(market, d.start, d.end, d.symbols)), d.source)


def report_meta(config: RunConfig, market: MarketData) -> dict[str, str]:
    """The run facts the report's header shows."""
    return {
        "config": config.name,
        "config hash": config_hash(config)[:16],
        "data": market.name,
        "seed": str(config.seed),
    }


@dataclass(eq=False)
class OpenRun:
    """A run directory being written: config snapshot and WAL open, kernel built. Step the
    kernel (whole, or in segments as islands do), then :meth:`close` writes the rest."""

    config: RunConfig
    market: MarketData
    run_dir: Path
    ids: SessionIds
    stamp: datetime
    wal: WalWriter
    vault: VaultWriter
    kernel: Kernel

    def abort(self) -> None:
        """Close the WAL after a failure: what was journaled stays, no manifest is written."""
        self.wal.close()
        with contextlib.suppress(Exception):  # the failure being handled matters more
            self.vault.close()

    def close(self, result: KernelResult) -> RunSummary:
        """Close the WAL, then write weights, lineage, manifests and the report."""
        n_records = self.wal.next_seq
        self.wal.close()
        config, market, run_dir, kernel = self.config, self.market, self.run_dir, self.kernel
        n_agents = kernel.population.n_agents
        artifacts = save_weights(kernel, run_dir)
        paths = RunDir(run_dir)
        for path in write_packets(paths.theory, kernel.theory):  # drift alarms' packets
            artifacts[paths.relative(path)] = file_sha256(path)
        census, life = kernel.population.census, kernel.life
        best = None
        if census is not None:
            artifacts |= finish_lineage(
                census, run_dir, self.vault, result.steps - 1, life.alive, life.scars, life.trust
            )
            best = best_policy(census, life.alive)
        else:  # a paper session's policies swapped in: bound like an evolving run's packs
            self.vault.close()
            artifacts |= self.vault.vault.fingerprints(run_dir)
        # the decision diary, from the closed WAL and the lineage: reads only, so the
        # decision trace and replay cannot change
        diary: DiaryStats | None = None
        try:
            diary = build_diary(run_dir)
        except ScarlineError as err:  # never costs the run its manifest; --rebuild retries
            structlog.get_logger("scarline.runner").warning("diary.skipped", error=str(err))
        else:
            artifacts[RunDir.DIARY] = file_sha256(paths.diary)
        recorded = kernel.recorder.equity
        if recorded is not None:  # the curves, readable without a replay (bound below)
            steps = recorded[: result.steps]
            write_equity(paths.equity, market.timestamps, kernel.population.agent_ids, steps)
            artifacts[RunDir.EQUITY] = file_sha256(paths.equity)
        accounts = kernel.accounts
        trades = trades_table(
            kernel.recorder.trades(),
            accounts.unit_values,
            accounts.last_close,
            market.timestamps[: result.steps],
            list(market.symbols),
            market.tick_sizes(),
        )
        write_trades(paths.trades, trades)  # round trips, reconciled with the fills
        artifacts[RunDir.TRADES] = file_sha256(paths.trades)
        data_hash = _write_manifests(
            run_dir, config, market, self.ids, result, n_records, n_agents, self.stamp, artifacts,
            kernel.schema_version,
        )  # fmt: skip
        sign_run_files(run_dir)  # manifest.sig with the user's key; unsigned (warned) if none
        cfg_hash = config_hash(config)
        split = config.evaluation.split_step(result.steps)
        results = run_results(kernel, report_meta(config, market), split)
        metrics = agent_metrics(results)
        report = None
        if config.report:
            stamp = self.stamp.strftime("%Y-%m-%d %H:%M UTC")
            report = write_report(
                results, run_dir, generated_at=stamp, regimes=regime_labels_of(kernel)
            )
        summary = RunSummary(
            run_id=self.ids.run_id,
            run_dir=run_dir,
            config_hash=cfg_hash,
            data_hash=data_hash,
            steps=result.steps,
            n_agents=n_agents,
            wal_records=n_records,
            decision_trace_hash=result.decision_trace_hash,
            wal_head=result.wal_head,
            killed_at=result.killed_at,
            report=report,
            metrics=metrics,
            kinds=kernel.population.kinds,
            split_step=split,
            best_policy=best,
            diary=diary,
        )
        paths.summary.write_bytes(msgspec.json.encode(summary.to_json()) + b"\n")
        return summary


def _check_volume_for_cap(config: RunConfig, market: MarketData) -> None:
    """A participation cap on a market without volume would refuse every fill
    (``no_liquidity``): a run that silently never trades. Refused before anything is
    written (a paper session drops the cap instead, and says so in session.json). Only new
    runs are checked: a run recorded before still replays as it ran."""
    rate = config.execution.fill.participation_rate
    if rate is not None and not market.has_volume:
        raise ConfigError(
            f"execution.fill.participation_rate = {rate}, but {config.data.source} has no "
            "volume: the cap would refuse every fill; remove participation_rate or use data "
            "with a volume column"
        )


def create_run(
    config: RunConfig,
    *,
    run_id: str | None = None,
    out_dir: Path | None = None,
    now: datetime | None = None,
    market: MarketData | None = None,
    dir_name: str | None = None,
    island: int = 0,
    admission: Admission | None = None,
    feed: FeedQueue | None = None,
) -> OpenRun:
    """Create ``<out_dir>/<dir_name or run_id>/`` with the config snapshot, open its WAL and
    build the kernel; ``now`` only names the run, ``island`` numbers an island's lineage,
    ``admission`` (G0 of the input) has the warnings journaled after the session start;
    ``feed`` makes it a live session (:mod:`scarline.paper`): the kill flag is polled every
    step and the feed's records are journaled at the steps they name. A
    run id that is not a safe directory name (``session.RUN_ID_PATTERN``) is refused before
    anything is written."""
    config = absolute_paths(config)
    root = Path(out_dir or config.out_dir)
    for name in (run_id, dir_name):
        if name is not None:
            run_dir_in(root, name)
    check_new_run(config, "config")
    market = market if market is not None else load_run_market(config)
    _check_volume_for_cap(config, market)
    stamp = now or datetime.now(UTC)
    if run_id is None:  # generated: the next free suffix, unless an island names the directory
        run_id = make_run_id(stamp, market.name, config_hash(config))
        run_id = run_id if dir_name is not None else _unused_run_id(root, run_id)
    run_dir = run_dir_in(root, dir_name or run_id)
    if run_dir.exists() and any(run_dir.iterdir()):
        raise ScarlineError(f"{run_dir}: run directory already exists and is not empty")
    created = _topmost_missing(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    wal: WalWriter | None = None
    vault: VaultWriter | None = None
    try:
        RunDir(run_dir).config.write_text(dump_toml(config), encoding="utf-8")
        # the bytes config_hash is the sha256 of: still checkable once the config model grew
        RunDir(run_dir).config_json.write_bytes(canonical_json(config))
        ids = SessionIds(run_id, session_id_for(run_id))
        wal = WalWriter(
            RunDir(run_dir).wal,
            run_id,
            segment_bytes=config.wal.segment_bytes,
            fsync=config.wal.fsync,
            fsync_every=config.wal.fsync_every,
        )
        operator = LiveOperator(
            ids,
            config_kill=config.risk.kill,
            run_dir=run_dir,
            runs_root=root,
            every=64 if feed is None else 1,
            feed=feed,
        )
        vault = VaultWriter(Vault(RunDir(run_dir).vault))
        warned = None if admission is None else warnings_event(admission, ids)
        kernel = kernel_for(
            config,
            market,
            ids,
            wal,
            operator,
            genome_sink=vault,
            island=island,
            data_warnings=warned,
        )
    except BaseException:
        # nothing has run yet (a config that fails validation while the kernel is built):
        # leave no half-made run directory behind
        if wal is not None:
            wal.close()
        if vault is not None:
            with contextlib.suppress(Exception):
                vault.close()
        _remove_unstarted(run_dir, created)
        raise
    return OpenRun(config, market, run_dir, ids, stamp, wal, vault, kernel)


def absolute_paths(config: RunConfig) -> RunConfig:
    """``config`` with its files (a data file, user strategies' ``path``) absolute, resolved
    against the working directory as they are read now: the snapshot a run keeps then
    names the same files when replay or the gates read it from another directory. Applied
    where a run is created, and first by anything that names runs by the config's hash
    (``scarline evolve``, a paper session), so the id and the manifest hash the same."""
    overrides: dict[str, str] = {}
    source = config.data.source
    if not is_dataset(source) and not Path(source).is_absolute():
        overrides["data.source"] = str(Path(source).resolve())
    for i, group in enumerate(config.agents):
        path = getattr(group, "path", None)
        if isinstance(path, str) and not Path(path).is_absolute():
            overrides[f"agents.{i}.path"] = str(Path(path).resolve())
    return config.with_overrides(**overrides) if overrides else config


def _unused_run_id(root: Path, run_id: str) -> str:
    """``run_id``, or with the first free suffix ``-2``, ``-3`` …: a generated id names the
    second, the data and the config, so a notebook's re-run of the same backtest within a
    second (or of an edited strategy, whose code is not in the config) would collide."""
    candidate, k = run_id, 1
    while (d := run_dir_in(root, candidate)).exists() and any(d.iterdir()):
        k += 1
        candidate = f"{run_id}-{k}"
    return candidate


def _topmost_missing(path: Path) -> Path | None:
    """The outermost directory of ``path`` that does not exist yet (``mkdir`` creates it)."""
    missing = None
    for candidate in (path, *path.parents):
        if candidate.exists():
            break
        missing = candidate
    return missing


def _remove_unstarted(run_dir: Path, created: Path | None) -> None:
    """Undo :func:`create_run`'s writes: the run directory's contents, the directory itself and
    any parents the call created (when empty). A directory that existed (empty) stays."""
    if created is None:  # it existed and was empty: remove only what was written into it
        for child in run_dir.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
        return
    shutil.rmtree(run_dir, ignore_errors=True)
    for parent in run_dir.parents:
        if not parent.is_relative_to(created):
            break
        with contextlib.suppress(OSError):  # not empty: someone else wrote there meanwhile
            parent.rmdir()


def execute_run(
    config: RunConfig,
    *,
    run_id: str | None = None,
    out_dir: Path | None = None,
    now: datetime | None = None,
    on_start: Callable[[int], None] | None = None,
    on_step: Callable[[int], None] | None = None,
    allow_data_warnings: bool = False,
    on_admitted: Callable[[Admission], None] | None = None,
    on_open: Callable[[Path], None] | None = None,
) -> RunSummary:
    """Run ``config`` and write ``<out_dir>/<run_id>/``; ``now`` only names the run.

    The input passes G0 first (:func:`admit_run_input`, before the run directory exists);
    ``on_admitted`` sees its report, ``on_open`` the run directory once it is created."""
    refuse_paper_config(config)
    if run_id is not None:
        run_dir_in(Path(out_dir or config.out_dir), run_id)
    admission = admit_run_input(config, allow_warnings=allow_data_warnings)
    if on_admitted is not None:
        on_admitted(admission)
    run = create_run(config, run_id=run_id, out_dir=out_dir, now=now, admission=admission)
    if on_open is not None:
        on_open(run.run_dir)
    try:
        if on_start is not None:
            on_start(run.market.n_steps)
        result = run.kernel.run(on_step)
    except BaseException:
        run.abort()
        raise
    return run.close(result)


def refuse_paper_config(config: RunConfig) -> None:
    """A backtest of a paper session's config would record what it is not: ``profile =
    "paper"`` (journaled row by row, shown as a paper session) or a ``[live]`` feed it never
    reads (whose 24/7 calendar would annualize the file's bars)."""
    if config.live is not None:
        raise ConfigError(
            "live: this config is a paper session's (`scarline paper`); a backtest reads "
            "[data], so remove [live] to run it on a file"
        )
    if config.profile != "sim":
        raise ConfigError(
            f'profile: {config.profile!r} is set by `scarline paper`; a backtest is profile = "sim"'
        )


def _write_manifests(
    run_dir: Path,
    config: RunConfig,
    market: MarketData,
    ids: SessionIds,
    result: KernelResult,
    n_records: int,
    n_agents: int,
    stamp: datetime,
    artifacts: dict[str, str],
    schema_version: int,
) -> str:
    """Write session.json and manifest.json (``schema_version``: the kernel's, which a paper
    session resumed by a newer scarline keeps from its start); the data hash."""
    data_hash = market.content_hash()
    start, end = market.time_range()
    paths = RunDir(run_dir)
    write_json(
        paths.session,
        SessionManifest(
            run_id=ids.run_id,
            session_id=ids.session_id,
            profile=config.profile,
            universe=market.name,
            source=market.source,
            frequency=market.frequency,
            instruments=list(market.instruments),
            exog_names=list(market.exog_names),
            rows=market.n_steps,
            start=str(start),
            end=str(end),
            data_hash=data_hash,
            schema_versions={"events": schema_version, "wal": WAL_FORMAT_VERSION},
            calendar=market.calendar,
            has_volume=market.has_volume,
            participation_cap=config.execution.fill.participation_rate is not None,
            feed=market.meta.get("feed", ""),
        ),
    )
    # bound like the other artifacts: the results read its frequency and calendar (how
    # Sharpe is annualized), which an edit must not change silently
    artifacts = artifacts | {RunDir.SESSION: file_sha256(paths.session)}
    segments = segment_entries(paths.wal)
    sources = strategy_sources(config.agents)
    write_json(
        paths.manifest,
        RunManifest(
            run_id=ids.run_id,
            session_id=ids.session_id,
            config_hash=config_hash(config),
            code_hash=run_code_hash(sources),
            seed=config.seed,
            schema_version=schema_version,
            wal_segments=segments,
            wal_head=result.wal_head,
            wal_records=n_records,
            decision_trace_hash=result.decision_trace_hash,
            steps=result.steps,
            agents=n_agents,
            data_hash=data_hash,
            artifacts=artifacts,
            created_at=stamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
            strategy_sources=sources,
            environment=environment(),
        ),
    )
    return data_hash

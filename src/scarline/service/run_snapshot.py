"""The snapshot of a finished (or stopped) run, rebuilt from the files it left.

``scarline serve`` shows runs that no session is publishing for, so their
:class:`~scarline.service.view.Snapshot` comes from disk: ``summary.json`` (the ``run
--json`` object: the agents table), ``manifest.json`` (steps, WAL records), ``session.json``
(profile, instruments, bar length), ``heartbeat.json`` (last step's times and latencies of a
paper session) and the WAL's ladder transitions and kill. Each file is optional: a run that
crashed before its manifest, or a backtest without a heartbeat, still gets a snapshot with
what is known.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from scarline.errors import ScarlineError
from scarline.events import KillSwitch, RiskChecks, RiskStateChange
from scarline.journal import Record, read_records
from scarline.market.frequency import frequency_ns
from scarline.rundir import RunDir
from scarline.service.view import AgentRow, Ladder, Quantiles, Snapshot
from scarline.service.wal_fold import RecordFold

SUMMARY = RunDir.SUMMARY
"""The ``run --json`` object a run or paper session leaves in its directory."""
HEARTBEAT = "heartbeat.json"
"""A paper session's heartbeat (see :mod:`scarline.paper.heartbeat`)."""


def load_json(path: Path) -> dict[str, Any]:
    """A JSON object file, or ``{}`` when it is missing or unreadable."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def _num(value: Any, default: float | None = None) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    return float(value) if math.isfinite(value) else default


def _int(value: Any, default: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _list(value: Any) -> list[Any]:
    """``value`` if it is a JSON array, else empty: a hand-edited or foreign file with an
    object where a list belongs degrades the snapshot instead of failing every endpoint."""
    return value if isinstance(value, list) else []


def _agent(row: Any) -> AgentRow | None:
    if not isinstance(row, dict):
        return None
    agent_id = row.get("id")
    if not isinstance(agent_id, int) or isinstance(agent_id, bool):
        return None
    equity = _num(row.get("final_equity", row.get("equity")))
    return AgentRow(
        id=agent_id,
        policy=str(row.get("policy", "")),
        kind=str(row.get("kind", "")),
        equity=float("nan") if equity is None else equity,
        position=[float(x) for x in _list(row.get("position")) if _num(x) is not None],
        ret=_num(row.get("return"), 0.0) or 0.0,
        sharpe=_num(row.get("sharpe")),
        max_drawdown=_num(row.get("max_drawdown")),
        trust=_num(row.get("trust")),
        scars=_int(row.get("scars")),
        alive=row.get("died_at") is None,
        pnl_realized=_num(row.get("pnl_realized"), 0.0) or 0.0,
        winrate=_num(row.get("winrate")),
    )


def _latency(doc: dict[str, Any]) -> dict[str, Quantiles]:
    out: dict[str, Quantiles] = {}
    stages = doc.get("latency_seconds")
    if not isinstance(stages, dict):
        return out
    for stage, q in stages.items():
        if isinstance(q, dict):
            p50, p99, p999 = (_num(q.get(k)) for k in ("p50", "p99", "p999"))
            if p50 is not None and p99 is not None and p999 is not None:
                out[str(stage)] = Quantiles(p50, p99, p999)
    return out


def _bar_seconds(frequency: Any) -> float:
    try:
        return frequency_ns(str(frequency)) / 1e9 if frequency else 0.0
    except (ValueError, ScarlineError):
        return 0.0


class WalState(RecordFold):
    """What a snapshot needs from the WAL: the ladder's last levels, the kill, and rule
    triggers by rule (non-pass risk verdicts)."""

    KINDS = frozenset(("RiskStateChange", "KillSwitch", "RiskChecks"))

    def __init__(self) -> None:
        super().__init__()
        self.level = "NORMAL"
        self.agents: dict[int, str] = {}
        self.kill_reason: str | None = None
        self.triggers: dict[str, int] = {}

    @classmethod
    def read(cls, run_dir: Path) -> WalState:
        state = cls()
        wal = RunDir(run_dir).wal
        if not wal.is_dir():
            return state
        try:
            for rec in read_records(wal, kinds=cls.KINDS):
                state.apply(rec)
        except ScarlineError:  # a torn or damaged WAL: keep what was read
            pass
        return state

    def copy(self) -> WalState:
        """A copy to read while this one goes on folding (on another thread)."""
        out = WalState()
        out.level, out.kill_reason = self.level, self.kill_reason
        out.agents, out.triggers = dict(self.agents), dict(self.triggers)
        return out

    def apply(self, rec: Record) -> None:
        e = rec.data
        if isinstance(e, KillSwitch):
            self.kill_reason = e.reason
        elif isinstance(e, RiskStateChange):
            to = e.to_level.numpy().tolist()
            for agent, level in zip(e.agent.numpy().tolist(), to, strict=True):
                name = e.levels[level] if 0 <= level < len(e.levels) else str(level)
                if agent < 0:
                    self.level = name
                else:
                    self.agents[agent] = name
        elif isinstance(e, RiskChecks):
            passed = e.outcomes.index("pass") if "pass" in e.outcomes else -1
            rules = e.rule.numpy()[e.outcome.numpy() != passed]
            for code, n in zip(*np.unique(rules, return_counts=True), strict=True):
                name = e.rules[code] if 0 <= code < len(e.rules) else str(code)
                self.triggers[name] = self.triggers.get(name, 0) + int(n)


class RunFiles(Protocol):
    """A run directory's files as a snapshot reads them (the app's cache provides one that
    reads each file again only when it changed)."""

    root: Path

    def json(self, name: str) -> dict[str, Any]:
        """The JSON object in file ``name`` of the run, ``{}`` when missing or unreadable."""
        ...

    def wal_state(self) -> WalState: ...


class DiskFiles:
    """A run's files read afresh."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def json(self, name: str) -> dict[str, Any]:
        return load_json(self.root / name)

    def wal_state(self) -> WalState:
        return WalState.read(self.root)


def snapshot_of_run(run: Path | RunFiles) -> Snapshot:
    """The snapshot of the run in directory ``run`` (or read through ``run``'s files) from
    its files (missing ones degrade)."""
    files = DiskFiles(Path(run)) if isinstance(run, str | Path) else run
    rd = RunDir(files.root)
    summary, manifest = files.json(SUMMARY), files.json(RunDir.MANIFEST)
    session, beat = files.json(RunDir.SESSION), files.json(HEARTBEAT)
    wal = files.wal_state()
    steps = _int(manifest.get("steps"), _int(summary.get("steps"), _int(beat.get("step"), -1) + 1))
    agents = [a for a in map(_agent, _list(summary.get("agents"))) if a is not None]
    instruments = _list(session.get("instruments"))
    killed_at = summary.get("killed_at")
    return Snapshot(
        run_id=str(manifest.get("run_id") or summary.get("run_id") or rd.root.name),
        profile=str(session.get("profile", "")),
        step=_int(beat.get("step"), steps - 1),
        bar_ts=_int(beat.get("bar_ts")),
        wall_ns=_int(beat.get("wall_ns")),
        bar_seconds=_bar_seconds(session.get("frequency")),
        ladder=Ladder(wal.level, dict(sorted(wal.agents.items()))),
        killed=killed_at is not None or wal.kill_reason is not None,
        kill_reason=wal.kill_reason or "",
        feed="none",
        agents=sorted(agents, key=lambda a: a.id),
        latency=_latency(beat),
        wal_records=_int(manifest.get("wal_records"), _int(summary.get("wal_records"))),
        instruments=[str(i.get("symbol", "")) for i in instruments if isinstance(i, dict)],
        guardrails=dict(sorted(wal.triggers.items())),
    )

"""A finished run as DataFrames: what ``backtest`` and ``load_run`` return.

Everything is read back from the run directory (``equity.parquet``, ``trades.parquet``,
``summary.json``, ``session.json``), so a result loaded tomorrow is the result returned today,
and the directory stays a normal run: ``scarline replay``, ``gates`` and ``ledger`` work on it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from os import PathLike
from pathlib import Path
from typing import Any

import pandas as pd

from scarline.digest import file_sha256
from scarline.equity_file import EquityFileError, read_equity
from scarline.errors import ScarlineError
from scarline.market.frequency import periods_per_year
from scarline.performance import performance_table
from scarline.report.tearsheet import Sheet, figures
from scarline.rundir import RunDir
from scarline.trades_file import TradesFileError, read_trades


class ResultError(ScarlineError):
    """A run directory lacks what a result reads; ``str(err)`` names the file. Bad input
    (exit 2) wherever a command meets it."""

    exit_code = 2


def _json(path: Path) -> dict[str, Any]:
    try:
        out = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise ResultError(f"{path}: cannot be read ({err})") from err
    if not isinstance(out, dict):
        raise ResultError(f"{path}: not a JSON object (edited after the run?)")
    return out


def _agent_rows(summary: dict[str, Any], path: Path) -> list[dict[str, Any]]:
    """The summary's ``agents``, each an object with an integer ``id``: an edited summary
    is a :class:`ResultError` naming it, not a KeyError from the table built on it."""
    rows = summary.get("agents") or []
    if not isinstance(rows, list) or not all(
        isinstance(r, dict) and type(r.get("id")) is int for r in rows
    ):
        raise ResultError(
            f"{path}: 'agents' must be a list of objects with an integer id (edited after the run?)"
        )
    return rows


@dataclass(frozen=True, eq=False)
class Result:
    """One run: ``equity`` (time × agent id, currency), ``trades`` (one row per round trip),
    ``stats`` (agent × figures, see :mod:`scarline.performance`), ``agents`` (id, policy,
    kind), ``summary`` (``scarline run --json``'s object) and ``run_dir``."""

    run_dir: Path

    def __post_init__(self) -> None:
        # ``sl.Result("runs/x")``: the attributes join file names to a Path
        object.__setattr__(self, "run_dir", Path(self.run_dir))

    @cached_property
    def summary(self) -> dict[str, Any]:
        return _json(RunDir(self.run_dir).summary)

    @property
    def run_id(self) -> str:
        return str(self.summary.get("run_id", self.run_dir.name))

    @cached_property
    def _rows(self) -> list[dict[str, Any]]:
        return _agent_rows(self.summary, RunDir(self.run_dir).summary)

    @cached_property
    def agents(self) -> pd.DataFrame:
        rows = self._rows
        frame = pd.DataFrame(
            [
                {"agent": r["id"], "policy": r.get("policy", ""), "kind": r.get("kind", "")}
                for r in rows
            ]
        )
        return frame.set_index("agent").sort_index() if len(frame) else frame

    @cached_property
    def equity(self) -> pd.DataFrame:
        path = RunDir(self.run_dir).equity
        if not path.is_file():
            raise ResultError(f"{path}: missing (runs before equity.parquet existed: replay)")
        self._check_bound(RunDir.EQUITY)
        try:
            ts, curves = read_equity(path)
        except EquityFileError as err:  # a torn or foreign file: bad input, said as such
            raise ResultError(str(err)) from err
        index = pd.DatetimeIndex(pd.to_datetime(ts, unit="ns", utc=True), name="time")
        frame = pd.DataFrame(curves, index=index)
        frame.columns.name = "agent"
        return frame

    @cached_property
    def trades(self) -> pd.DataFrame:
        path = RunDir(self.run_dir).trades
        if not path.is_file():
            raise ResultError(f"{path}: missing (runs before trades.parquet existed)")
        self._check_bound(RunDir.TRADES)
        try:
            return read_trades(path).to_pandas()
        except TradesFileError as err:  # a torn or foreign file: bad input, said as such
            raise ResultError(str(err)) from err

    def _check_bound(self, name: str) -> None:
        """``name`` is the file the run's manifest binds (its sha256 in ``artifacts``): a
        result is evidence, so an edited equity or trade file is refused, not shown."""
        manifest = RunDir(self.run_dir).manifest
        if not manifest.is_file():
            return
        bound = _json(manifest).get("artifacts")
        expected = bound.get(name) if isinstance(bound, dict) else None
        if isinstance(expected, str) and file_sha256(self.run_dir / name) != expected:
            raise ResultError(
                f"{self.run_dir / name}: not the file the run's manifest binds (its sha256 "
                "differs: edited after the run?); `scarline replay` rebuilds the run"
            )

    @cached_property
    def periods_per_year(self) -> float:
        self._check_bound(RunDir.SESSION)  # its calendar and frequency annualize the stats
        session = _json(RunDir(self.run_dir).session)
        ts = self.equity.index.asi8
        return periods_per_year(
            str(session.get("frequency", "")), ts, session.get("calendar", "exchange")
        )

    @cached_property
    def stats(self) -> pd.DataFrame:
        turnover = {
            r["id"]: float(r["turnover"])
            for r in self._rows
            if isinstance(r.get("turnover"), int | float)
        }
        table = performance_table(self.equity, self.trades, self.periods_per_year, turnover)
        if len(self.agents):
            table = self.agents.join(table, how="right")
        return table

    def plot(self) -> Any:
        """An interactive plotly figure of the equity curves, as the report draws them:
        buy-and-hold thick and dashed, placebos faint and labelled, the best agents (★) in
        colour."""
        agents = self.agents
        sheet = Sheet(
            equity=self.equity,
            trades=self.trades,
            kinds=agents["kind"].to_dict() if len(agents) else {},
            labels=agents["policy"].to_dict() if len(agents) else {},
            periods_per_year=self.periods_per_year,
        )
        equity, _ = figures(sheet)
        equity.update_layout(title=f"equity — {self.run_id}")
        return equity

    def __repr__(self) -> str:
        return (
            f"Result(run_id={self.run_id!r}, agents={len(self.agents)}, run_dir='{self.run_dir}')"
        )


def run_path(run_dir: object, name: str, error: type[ScarlineError] = ResultError) -> Path:
    """``run_dir`` as a path to a directory, else ``error`` naming it (a file given for a run
    directory was an OS error from deep inside); another type is a TypeError naming ``name``."""
    if not isinstance(run_dir, str | PathLike):
        raise TypeError(f"{name}: expected a run directory path, not {type(run_dir).__name__}")
    path = Path(run_dir)
    if not path.is_dir():
        state = "not a directory" if path.exists() else "no such directory"
        raise error(f"{path}: {state} (a run directory is expected)")
    return path


def load_run(run_dir: str | Path) -> Result:
    """The result of the run in ``run_dir`` (a finished ``scarline run`` / ``backtest``)."""
    path = run_path(run_dir, "run_dir")
    if not RunDir(path).manifest.is_file():
        raise ResultError(f"{path}: not a finished run (no manifest.json)")
    return Result(path)

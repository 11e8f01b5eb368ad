"""The researcher's Python API (``import scarline as sl``): see docs/api.md."""

from __future__ import annotations

from pathlib import Path

from scarline.agents.strategy import Observation, Strategy
from scarline.api.backtest import Grid, backtest, grid
from scarline.api.result import Result, load_run, run_path
from scarline.replayer import ReplayResult
from scarline.report.gate_report import GateReport


def replay(run_dir: str | Path) -> ReplayResult:
    """Re-execute a run and compare every record (``parity`` true when bit-identical)."""
    from scarline.errors import WalError
    from scarline.replayer import replay_run

    return replay_run(run_path(run_dir, "run_dir", WalError))


def gates(
    run_dir: str | Path,
    agents: str | int | list[str | int] = "top:1",
    only: str | list[str] | None = None,
) -> GateReport:
    """Judge agents of a run (G0–G4) and return the typed report. Nothing is written:
    ``scarline gates RUN`` records and signs it as the run's ``gates.json``. ``agents``: a
    spec (``"top:3"``, ``"0,4"``), an agent id or a list of them; ``only``: a gate
    (``"G1"``) or a list."""
    from scarline.gating.runner import run_gates
    from scarline.gating.subject import GateInputError

    path = run_path(run_dir, "run_dir", GateInputError)
    return run_gates(path, _specs(agents, "agents"), only=_specs(only, "only"))


def _specs(value: object, name: str) -> list[str] | None:
    """One spec or a list of them as text (an agent id may be an int); None is None."""
    if value is None:
        return None
    items = [value] if isinstance(value, str | int) else value
    if not isinstance(items, list | tuple) or not all(
        isinstance(v, str | int) and not isinstance(v, bool) for v in items
    ):
        raise TypeError(f"{name}: expected text or a list of it, not {value!r}")
    return [str(v) for v in items]


__all__ = [
    "GateReport",
    "Grid",
    "Observation",
    "ReplayResult",
    "Result",
    "Strategy",
    "backtest",
    "gates",
    "grid",
    "load_run",
    "replay",
]

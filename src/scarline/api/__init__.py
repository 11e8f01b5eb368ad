"""The researcher's Python API (``import scarline as sl``): see docs/api.md."""

from __future__ import annotations

from pathlib import Path

from scarline.agents.strategy import Observation, Strategy
from scarline.api.backtest import Grid, backtest, grid
from scarline.api.result import Result, load_run
from scarline.replayer import ReplayResult
from scarline.report.gate_report import GateReport


def replay(run_dir: str | Path) -> ReplayResult:
    """Re-execute a run and compare every record (``parity`` true when bit-identical)."""
    from scarline.replayer import replay_run

    return replay_run(Path(run_dir))


def gates(
    run_dir: str | Path, agents: str | list[str] = "top:1", only: list[str] | None = None
) -> GateReport:
    """Judge agents of a run (G0–G4) and return the typed report. Nothing is written:
    ``scarline gates RUN`` records and signs it as the run's ``gates.json``."""
    from scarline.gating.runner import run_gates

    spec = [agents] if isinstance(agents, str) else list(agents)
    return run_gates(Path(run_dir), spec, only=only)


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

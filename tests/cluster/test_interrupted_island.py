"""An island stopped mid-run (Ctrl-C) is a run directory the WAL tools understand: its run
id is not its directory's name, and it has no session.json or manifest to say it."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from island_helpers import small_config
from typer.testing import CliRunner

from scarline.cli import app
from scarline.cluster.island import Island, IslandSpec
from scarline.rundir import island_run_id

runner = CliRunner()
pytestmark = pytest.mark.slow


def _interrupted(tmp_path: Path, island: int, steps: int) -> Path:
    """``<tmp>/ev/island-<k>`` after ``steps`` steps, aborted as Ctrl-C leaves it."""
    cfg = small_config(data={"source": "sp500-20", "start": "2022-06-01"})
    spec = IslandSpec(cfg, island, island_run_id("ev", island), tmp_path / "ev", datetime.now(UTC))
    run = Island(spec)
    run.advance(steps)
    run.abort()
    return tmp_path / "ev" / f"island-{island}"


def test_an_interrupted_island_verifies_and_seals(tmp_path: Path) -> None:
    run_dir = _interrupted(tmp_path, island=1, steps=60)
    assert not (run_dir / "manifest.json").exists()
    result = runner.invoke(app, ["wal", "verify", str(run_dir)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["wal", "seal", str(run_dir), "--json"])
    assert result.exit_code == 0, result.output
    sealed = json.loads(result.stdout)
    assert sealed["status"] == "sealed" and sealed["run_id"] == "ev-island-1"
    assert sealed["steps"] == 60

"""``scarline kill RUN_DIR``: a flag only where a run can still read it, refusals named."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scarline.cli import app
from scarline.rundir import RunDir

runner = CliRunner()


@pytest.fixture
def open_run(tmp_path: Path) -> Path:
    """A run directory as a running (or crashed) run leaves it: config and WAL, no manifest."""
    run_dir = tmp_path / "runs" / "live"
    (run_dir / RunDir.WAL).mkdir(parents=True)
    (run_dir / RunDir.CONFIG).write_text('name = "live"\n', encoding="utf-8")
    return run_dir


def test_an_open_run_gets_the_flag_whole(open_run: Path) -> None:
    result = runner.invoke(app, ["kill", str(open_run), "--reason", "drill"])
    assert result.exit_code == 0, result.output
    assert RunDir(open_run).kill.read_text() == "drill"
    assert sorted(p.name for p in open_run.iterdir()) == ["KILL", "config.toml", "wal"]


def test_a_finished_run_is_refused_without_a_flag(open_run: Path) -> None:
    """The manifest closes a run: no kernel reads its flag again, so "kill switch set" (exit
    0) was false comfort."""
    RunDir(open_run).manifest.write_text("{}", encoding="utf-8")
    result = runner.invoke(app, ["kill", str(open_run)])
    assert result.exit_code == 2
    assert "the run has finished (manifest.json exists)" in result.stderr
    assert not RunDir(open_run).kill.exists()
    assert runner.invoke(app, ["kill", str(open_run), "--clear"]).exit_code == 0


def test_a_runs_root_or_other_directory_is_not_a_run(open_run: Path, tmp_path: Path) -> None:
    """``kill runs/`` wrote runs/KILL: every run under it killed and every new run started
    killed, though the operator named one run; any other directory got a flag nobody reads."""
    root = open_run.parent
    result = runner.invoke(app, ["kill", str(root)])
    assert result.exit_code == 2
    assert "not a run directory" in result.stderr and "--all --runs" in result.stderr
    assert not RunDir(root).kill.exists()
    assert runner.invoke(app, ["kill", str(tmp_path / "missing")]).exit_code == 2
    a_file = tmp_path / "x.csv"
    a_file.write_text("a\n", encoding="utf-8")
    result = runner.invoke(app, ["kill", str(a_file)])
    assert result.exit_code == 2 and "not a directory" in result.stderr
    shutil.rmtree(open_run)
    empty = runner.invoke(app, ["kill", "--all", "--runs", str(root), "--reason", "stop"])
    assert empty.exit_code == 0 and RunDir(root).kill.read_text() == "stop"

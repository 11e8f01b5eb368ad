"""A config that fails validation only once the kernel is built (after the run directory was
made) leaves nothing behind: no orphan run directory, no parents made for it."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_cases import TinyRun
from typer.testing import CliRunner

from scarline.cli import app

runner = CliRunner()
NO_PAIR = "agents[0]: no (fast, slow) pair with fast < slow"


@pytest.fixture
def bad_config(tiny_run: TinyRun, tmp_path: Path) -> Path:
    """Valid TOML and keys, but an SMA group with no fast < slow pair."""
    path = tmp_path / "bad.toml"
    path.write_text(
        f'report = false\n[data]\nsource = "{tiny_run.data}"\n'
        '[[agents]]\nkind = "sma-crossover"\nfast = [30]\nslow = [10]\n',
        encoding="utf-8",
    )
    return path


def _run(config: Path, out: Path, *extra: str) -> tuple[int, str]:
    result = runner.invoke(app, ["run", "-c", str(config), "--out", str(out), *extra])
    return result.exit_code, result.stderr


def test_no_orphan_run_dir_nor_parents(bad_config: Path, tmp_path: Path) -> None:
    out = tmp_path / "new" / "runs"
    code, err = _run(bad_config, out, "--run-id", "r1")
    assert code == 2 and err.splitlines() == [f"error: {NO_PAIR} in fast=[30], slow=[10]"]
    assert not (tmp_path / "new").exists()


def test_other_runs_and_an_existing_empty_dir_stay(bad_config: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    (runs / "earlier").mkdir(parents=True)
    (runs / "earlier" / "keep.txt").write_text("x")
    (runs / "given").mkdir()
    code, _ = _run(bad_config, runs, "--run-id", "given")
    assert code == 2
    assert sorted(p.name for p in runs.iterdir()) == ["earlier", "given"]
    assert list((runs / "given").iterdir()) == []  # it was there (empty) before the run
    code, _ = _run(bad_config, runs, "--run-id", "fresh", "--json")
    assert code == 2 and not (runs / "fresh").exists()

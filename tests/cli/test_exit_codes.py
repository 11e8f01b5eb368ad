"""One exit-code scheme for every command (docs/cli.md): 0 ok, 1 a check failed, 2 bad
input, 3 no replay parity; bad input is one ``error:`` line, never a traceback."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from cli_cases import RUN_DIR_COMMANDS, TinyRun, copy
from typer.testing import CliRunner

from scarline.cli import app
from scarline.cli.common import EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EXIT_NO_PARITY, EXIT_OK

runner = CliRunner()
DOCS = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


@pytest.mark.parametrize("name", sorted(RUN_DIR_COMMANDS))
def test_a_missing_run_dir_exits_2_with_one_error_line(name: str, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-run"
    args = RUN_DIR_COMMANDS[name](missing)
    result = runner.invoke(app, args)
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert result.stdout == ""
    assert result.stderr.splitlines() == [f"error: {missing}: no such run directory"]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == EXIT_BAD_INPUT
    assert json.loads(result.stdout) == {
        "error": f"{missing}: no such run directory",
        "exit_code": EXIT_BAD_INPUT,
    }
    assert not list(tmp_path.iterdir())  # nothing was created on the way


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--config", "{tmp}/nope.toml"], "config file not found"),
        (["evolve", "{tmp}/nope.toml"], "config file not found"),
        (["regimes", "{tmp}/nope.csv"], "no such file"),
        (["data", "check", "{tmp}/nope.csv"], "no such file"),
        (["replay", "{tmp}"], "no manifest.json"),
        (["wal", "verify", "{tmp}"], "no WAL directory"),
        (["kill"], "give either a RUN_DIR or --all"),
        (["ledger", "verify", "--ledger", "{tmp}/nope"], "no ledger at"),
    ],
)
def test_other_bad_input_exits_2(args: list[str], message: str, tmp_path: Path) -> None:
    result = runner.invoke(app, [a.replace("{tmp}", str(tmp_path)) for a in args])
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: ") and message in line


WAL_READERS = {
    "replay": ["replay"],
    "wal verify": ["wal", "verify"],
    "wal cat": ["wal", "cat"],
    "wal recover": ["wal", "recover"],
    "gates": ["gates"],
}
"""Commands that read a finished run's WAL (stats, trades, diary read its other files)."""


@pytest.mark.parametrize("name", sorted(WAL_READERS))
def test_a_finished_run_without_its_wal_exits_2_with_one_line(
    name: str, tmp_path: Path, tiny_run: TinyRun
) -> None:
    run_dir = copy(tiny_run.run_dir, tmp_path)
    shutil.rmtree(run_dir / "wal")
    for extra in ([], ["--json"]):
        result = runner.invoke(app, [*WAL_READERS[name], str(run_dir), *extra])
        assert result.exit_code == EXIT_BAD_INPUT, result.output
        assert result.stderr.splitlines() == [f"error: no WAL directory at {run_dir / 'wal'}"]
    assert json.loads(result.stdout)["exit_code"] == EXIT_BAD_INPUT


def test_usage_errors_exit_2() -> None:
    assert runner.invoke(app, ["lineage", ".", "--format", "svg"]).exit_code == EXIT_BAD_INPUT
    assert runner.invoke(app, ["no-such-command"]).exit_code == EXIT_BAD_INPUT


def test_the_codes_are_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    codes = {int(m) for m in re.findall(r"^\| `?(\d)`? \|", text, flags=re.MULTILINE)}
    assert codes == {EXIT_OK, EXIT_CHECK_FAILED, EXIT_BAD_INPUT, EXIT_NO_PARITY}


def test_a_taken_run_id_exits_2_before_any_work(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "manifest.json").write_text("{}")
    result = runner.invoke(app, ["run", "--out", str(tmp_path), "--run-id", "taken"])
    assert result.exit_code == EXIT_BAD_INPUT
    assert "run directory already exists and is not empty" in result.stderr
    assert sorted(p.name for p in (tmp_path / "taken").iterdir()) == ["manifest.json"]

"""``--json`` on every command: exactly one JSON document on stdout, for results and for
errors alike, and no command without the option."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import typer
from cli_cases import CASES, EXIT, TinyRun
from typer.core import TyperGroup
from typer.testing import CliRunner

from scarline.cli import app

runner = CliRunner()


def command_paths() -> dict[str, Any]:
    """Every leaf command of the app (click objects) by its path (``wal verify``)."""
    found: dict[str, Any] = {}

    def walk(cmd: Any, path: tuple[str, ...]) -> None:
        if isinstance(cmd, TyperGroup):
            for name, sub in cmd.commands.items():
                walk(sub, (*path, name))
        else:
            found[" ".join(path)] = cmd

    walk(typer.main.get_command(app), ())
    return found


def test_every_command_has_a_json_option() -> None:
    lacking = [
        path
        for path, cmd in command_paths().items()
        if not any("--json" in param.opts for param in cmd.params)
    ]
    assert lacking == []


def test_every_command_has_a_case() -> None:
    assert sorted(command_paths()) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_json_is_one_document(name: str, tiny_run: TinyRun, tmp_path: Path) -> None:
    args = CASES[name](tmp_path, tiny_run)
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == EXIT.get(name, 0), result.output
    doc = json.loads(result.stdout)  # raises on a second document or stray text
    assert doc is not None and doc != {}
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["data", "check", "no-such-dataset"],
        ["lineage", "no-such-run"],
        ["wal", "cat", "no-such-run", "--kind", "Nope"],
        ["lineage", ".", "--format", "svg"],  # a usage error click reports
        ["data", "synth"],  # a missing required option
    ],
)
def test_errors_are_one_json_document_too(args: list[str]) -> None:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 2
    doc = json.loads(result.stdout)
    assert set(doc) == {"error", "exit_code"} and doc["exit_code"] == 2 and doc["error"]
    assert "error" in result.stderr.lower() and "Traceback" not in result.stderr


def test_a_failed_check_prints_its_report_not_a_second_document(
    tiny_run: TinyRun, tmp_path: Path
) -> None:
    ledger = Path(shutil.copytree(tiny_run.ledger, tmp_path / "ledger"))
    segment = ledger / "000000.jsonl"
    segment.write_bytes(segment.read_bytes().replace(b'"Candidate"', b'"Production"', 1))
    result = runner.invoke(app, ["ledger", "verify", "--ledger", str(ledger), "--json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["first_bad"]["seq"] >= 0
    assert result.stderr.startswith("error: ledger check failed")

"""Human output never shows Python's ``None`` (a missing value is "—"), on every command."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cli_cases import CASES, EXIT, TinyRun
from typer.testing import CliRunner

from scarline.cli import app
from scarline.cli.common import NA

runner = CliRunner()
NONE = re.compile(r"\bNone\b")


@pytest.mark.parametrize("name", sorted(CASES))
def test_no_none_in_human_output(name: str, tiny_run: TinyRun, tmp_path: Path) -> None:
    result = runner.invoke(app, CASES[name](tmp_path, tiny_run))
    assert result.exit_code == EXIT.get(name, 0), result.output
    assert result.stdout.strip()
    assert NONE.search(result.stdout) is None, result.stdout


def test_the_run_summary_shows_null_fields_as_a_dash(tiny_run: TinyRun, tmp_path: Path) -> None:
    result = runner.invoke(app, CASES["run"](tmp_path, tiny_run))
    assert result.exit_code == 0, result.output
    (killed,) = [line for line in result.stdout.splitlines() if "killed at" in line]
    assert NA in killed  # the run was not killed: killed_at is null in --json

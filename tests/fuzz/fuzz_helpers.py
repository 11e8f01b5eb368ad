"""What the fuzz tests share: the corpus, an in-process CLI call that fails the test on any
traceback or unexpected (internal) error, and the tiny finished run they point at."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from scarline.cli import app

CORPUS = Path(__file__).resolve().parent / "corpus"
sys.path.insert(0, str(CORPUS))


runner = CliRunner()


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def invoke(args: list[str]) -> Outcome:
    """``scarline ARGS`` in-process; fails on a traceback or an ``internal error`` (an
    exception no check turned into a message)."""
    result = runner.invoke(app, args)
    shown = " ".join(repr(a)[:80] for a in args)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"scarline {shown}: raised {result.exception!r}") from (
            result.exception
        )
    output = result.stdout + result.stderr
    assert "Traceback" not in output, f"scarline {shown}:\n{output}"
    assert "internal error" not in output, f"scarline {shown}:\n{output}"
    return Outcome(result.exit_code, result.stdout, result.stderr)


@dataclass(frozen=True)
class FuzzRun:
    """A finished run of the base market (``run_dir``), its config and data, and odd paths."""

    root: Path
    run_dir: Path
    config: Path
    data: Path


def no_run_dir(out: Path) -> bool:
    """Nothing was left under ``out`` (it does not exist or is empty)."""
    return not out.exists() or not any(out.iterdir())

"""What every CLI command shares: exit codes, consoles, JSON output, error exits.

Light on purpose: every command module imports this at ``scarline --help`` time, so nothing
here may import numpy, torch, pandas, duckdb or a scarline module that does.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, NoReturn

import msgspec
from rich.console import Console
from rich.markup import escape

from scarline.errors import ConfigError, DataError, ScarlineError

EXIT_OK = 0
"""The command did what was asked (a check it ran passed)."""
EXIT_CHECK_FAILED = 1
"""A check ran and failed: a gate, a WAL or ledger verify, G0 errors, a refused promotion."""
EXIT_BAD_INPUT = 2
"""The input is unusable: a missing or invalid file or directory, a bad option or config
value, an unknown agent or policy. Click's own usage errors use 2 as well."""
EXIT_NO_PARITY = 3
"""``scarline replay``: the run re-executed, but its decisions or WAL differ."""

NA = "—"
"""Shown in human output for a missing value, never Python's ``None``."""

console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
"""Human output (tables, summaries) on stdout; wide when piped, so tables do not wrap."""

err_console = Console(stderr=True, highlight=False)
"""Warnings, progress bars and errors on stderr, so ``--json`` stdout stays one JSON object."""


class CliError(ScarlineError):
    """A failure the CLI finds itself (a missing directory, a bad combination of options),
    carrying its exit code."""

    def __init__(self, message: str, exit_code: int = EXIT_CHECK_FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class _Output:
    """Whether this invocation already printed its JSON document (there is only one)."""

    json_printed = False


def reset_output() -> None:
    """Forget earlier output: called when an invocation starts (tests run many in-process)."""
    _Output.json_printed = False


def json_printed() -> bool:
    return _Output.json_printed


def print_json(obj: Any) -> None:
    """Print the invocation's one JSON document on stdout (no colour, no wrapping)."""
    sys.stdout.write(msgspec.json.encode(obj).decode() + "\n")
    sys.stdout.flush()
    _Output.json_printed = True


def exit_code_of(err: ScarlineError) -> int:
    """The documented exit code of ``err``: config and data errors are bad input (2) even
    where the library leaves the generic 1, so every command agrees."""
    if isinstance(err, ConfigError | DataError):
        return EXIT_BAD_INPUT
    return err.exit_code


def error_line(message: str) -> None:
    """``error: message`` on stderr, on one line."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)


def fail(message: str, code: int = EXIT_CHECK_FAILED) -> NoReturn:
    """Stop the command: the app prints ``error: message`` (and, with ``--json``,
    ``{"error": message}`` unless a document was printed already) and exits ``code``."""
    raise CliError(message, code)


def warn(message: str) -> None:
    err_console.print(f"[bold yellow]warning:[/] {escape(message)}", soft_wrap=True)


def require_run_dir(run_dir: Path) -> Path:
    """``run_dir``, or exit 2 naming it: the same message from every command."""
    if not run_dir.is_dir():
        fail(f"{run_dir}: no such run directory", EXIT_BAD_INPUT)
    return run_dir


def refuse_existing(directory: Path, what: str) -> None:
    """Exit 2 before any work when a named run (or evolve) directory is taken; the runner
    refuses too, but only after loading the data, and with the generic exit code."""
    if directory.is_dir() and any(directory.iterdir()):
        fail(f"{directory}: {what} directory already exists and is not empty", EXIT_BAD_INPUT)


def shown(value: object) -> str:
    """``value`` for a table cell: :data:`NA` for ``None``, floats with 6 significant digits."""
    if value is None:
        return NA
    if isinstance(value, float):
        return format(value, ".6g")
    return str(value)

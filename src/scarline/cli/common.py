"""What every CLI command shares: exit codes, consoles, JSON output, error exits.

Light on purpose: every command module imports this at ``scarline --help`` time, so nothing
here may import numpy, torch, pandas, duckdb or a scarline module that does.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import msgspec
from rich.console import Console
from rich.markup import escape

from scarline.errors import ConfigError, DataError, ScarlineError

if TYPE_CHECKING:
    from rich.progress import Progress

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


def step_progress(command: str, unit: str) -> Progress:
    """A long command's progress bar on stderr: ``command``, the bar, done/total ``unit``,
    time left; gone when done, off when stderr is not a terminal."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn(f"[bold]{command}[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    )


class CliError(ScarlineError):
    """A failure the CLI finds itself (a missing directory, a bad combination of options),
    carrying its exit code."""

    def __init__(self, message: str, exit_code: int = EXIT_CHECK_FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class _Output:
    """Whether this invocation already printed its JSON document (there is only one), and
    the run directory it is writing (where an unexpected error leaves its traceback)."""

    json_printed = False
    run_dir: Path | None = None


def reset_output() -> None:
    """Forget earlier output: called when an invocation starts (tests run many in-process)."""
    _Output.json_printed = False
    _Output.run_dir = None


def note_run_dir(run_dir: Path) -> None:
    """This invocation writes ``run_dir``: an unexpected error's traceback goes to
    ``run_dir/error.log`` (if the directory still exists then)."""
    _Output.run_dir = run_dir


def noted_run_dir() -> Path | None:
    return _Output.run_dir


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
    return require_dir(run_dir, "run directory")


def require_dir(path: Path, what: str) -> Path:
    """``path`` if it is a readable directory, else exit 2 saying what it is instead."""
    if not path.is_dir():
        if path.exists() or path.is_symlink():
            fail(f"{path}: not a directory (a {what} is expected)", EXIT_BAD_INPUT)
        fail(f"{path}: no such {what}", EXIT_BAD_INPUT)
    if not os.access(path, os.R_OK | os.X_OK):
        fail(f"{path}: permission denied (the {what} cannot be read)", EXIT_BAD_INPUT)
    return path


def require_file(path: Path, what: str) -> Path:
    """``path`` if it is a readable file, else exit 2 (``{path}: {what} not found`` …)."""
    if not path.exists():
        fail(f"{path}: {what} not found", EXIT_BAD_INPUT)
    if path.is_dir():
        fail(f"{path}: is a directory, not a {what}", EXIT_BAD_INPUT)
    if not os.access(path, os.R_OK):
        fail(f"{path}: permission denied (the {what} cannot be read)", EXIT_BAD_INPUT)
    return path


def _existing_ancestor(path: Path) -> Path:
    for candidate in (path, *path.absolute().parents):
        if candidate.exists():
            return candidate
    return Path("/")


def require_output_file(path: Path, what: str) -> Path:
    """``path`` if a file can be written there: not a directory, in an existing writable
    directory on a real file system (exit 2 otherwise; nothing is created)."""
    if path.is_dir():
        fail(f"{path}: is a directory ({what} must be a file)", EXIT_BAD_INPUT)
    parent = path.parent
    if not parent.is_dir():
        state = "is not a directory" if parent.exists() else "does not exist"
        fail(f"{path}: {parent} {state} ({what})", EXIT_BAD_INPUT)
    require_writable_dir(parent, what)
    return path


def require_writable_dir(path: Path, what: str) -> Path:
    """``path`` if it is, or can be made, a directory we can write: exit 2 when it (or the
    nearest existing parent) is a file, is not writable, or is on a read-only or virtual
    file system (``/proc``, ``/sys``). Nothing is created."""
    if path.exists() and not path.is_dir():
        fail(f"{path}: not a directory ({what} must be a directory)", EXIT_BAD_INPUT)
    base = _existing_ancestor(path)
    if not base.is_dir():
        fail(f"{path}: {base} is not a directory ({what})", EXIT_BAD_INPUT)
    if not os.access(base, os.W_OK | os.X_OK):
        fail(f"{path}: {base} is not writable ({what})", EXIT_BAD_INPUT)
    try:
        fs = os.statvfs(base)
    except OSError:
        return path
    if fs.f_flag & os.ST_RDONLY:
        fail(f"{path}: {base} is on a read-only file system ({what})", EXIT_BAD_INPUT)
    if fs.f_blocks == 0:  # proc, sysfs and the like: nothing can be created there
        fail(f"{path}: {base} is on a virtual file system ({what})", EXIT_BAD_INPUT)
    return path


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

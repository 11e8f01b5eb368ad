"""What every CLI command shares: consoles, JSON output, error exits."""

from __future__ import annotations

import sys
from typing import Any, NoReturn

import msgspec
import typer
from rich.console import Console
from rich.markup import escape

console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
"""Human output (tables, summaries) on stdout; wide when piped, so tables do not wrap."""

err_console = Console(stderr=True, highlight=False)
"""Warnings, progress bars and errors on stderr, so ``--json`` stdout stays one JSON object."""


def print_json(obj: Any) -> None:
    """Print one JSON object on stdout (no colour, no wrapping)."""
    sys.stdout.write(msgspec.json.encode(obj).decode() + "\n")
    sys.stdout.flush()


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``error: message`` on stderr and exit with ``code``."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    raise typer.Exit(code)


def warn(message: str) -> None:
    err_console.print(f"[bold yellow]warning:[/] {escape(message)}", soft_wrap=True)

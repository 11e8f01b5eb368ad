"""The root command group: every error below it becomes one ``error:`` line on stderr (plus,
with ``--json``, one ``{"error": ...}`` document on stdout) and its documented exit code."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import typer
from typer.core import TyperGroup

from scarline.cli.common import (
    EXIT_BAD_INPUT,
    error_line,
    exit_code_of,
    json_printed,
    print_json,
    reset_output,
)
from scarline.errors import ScarlineError

JSON_MODE = "scarline.json"
"""``ctx.meta`` key: whether the command line asked for ``--json``."""

ClickException: type[Exception] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"
)
"""Click's usage-error base: found through a public class, because newer Typer vendors click
(``typer._click``) and older Typer uses the click package."""

_BAD_PATH = (FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError)
"""OS errors that mean the user named an unusable path (bad input, not a bug)."""


def wants_json(args: Sequence[str]) -> bool:
    """Whether ``--json`` is among the options (before a ``--`` that ends them)."""
    args = list(args)
    end = args.index("--") if "--" in args else len(args)
    return "--json" in args[:end]


def _path_message(err: OSError) -> str:
    if err.filename is None:
        return str(err)
    return f"{err.filename}: {(err.strerror or str(err)).lower()}"


def report_error(message: str, code: int, json_mode: bool) -> None:
    """The one error line; with ``--json`` also the document (if none was printed yet)."""
    error_line(message)
    if json_mode and not json_printed():
        print_json({"error": message, "exit_code": code})


class ScarlineGroup(TyperGroup):
    """The ``scarline`` group: errors as messages with exit codes, never tracebacks."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: typer.Context | None = None,
        **extra: Any,
    ) -> typer.Context:
        reset_output()
        json_mode = wants_json(args)  # before parsing, which consumes ``args``
        ctx = super().make_context(info_name, args, parent=parent, **extra)
        ctx.meta[JSON_MODE] = json_mode
        return ctx

    def invoke(self, ctx: typer.Context) -> Any:
        json_mode = bool(ctx.meta.get(JSON_MODE, False))
        try:
            return super().invoke(ctx)
        except ScarlineError as err:
            code = exit_code_of(err)
            report_error(str(err), code, json_mode)
            raise typer.Exit(code) from None
        except _BAD_PATH as err:
            report_error(_path_message(err), EXIT_BAD_INPUT, json_mode)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        except ClickException as err:  # usage errors: click prints them on stderr, exit 2
            if json_mode and not json_printed():
                message = getattr(err, "format_message", err.__str__)()
                print_json({"error": message, "exit_code": getattr(err, "exit_code", 2)})
            raise

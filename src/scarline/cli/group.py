"""The root command group: every error below it becomes one ``error:`` line on stderr (plus,
with ``--json``, one ``{"error": ...}`` document on stdout) and its documented exit code.

This is the one place an exception reaches the user. Errors a user can fix (a
:class:`ScarlineError`, an unusable path) are their message; anything else is a bug or an
input no check caught: one ``error: internal error …`` line, exit 1, and the full traceback
in ``RUN_DIR/error.log`` (the run directory this invocation was writing) or, without one,
in a ``scarline-error-*.log`` file in the temporary directory — never on the terminal.
A reader that stops reading (``scarline wal cat … | head``) is not an error: the command
ends quietly with exit 1, as Python's own tools do on a broken pipe.
"""

from __future__ import annotations

import errno
import os
import sys
import tempfile
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from typer.core import TyperGroup

from scarline.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_CHECK_FAILED,
    CliError,
    error_line,
    exit_code_of,
    json_printed,
    noted_run_dir,
    print_json,
    reset_output,
)
from scarline.errors import ScarlineError
from scarline.rundir import RunDir

if TYPE_CHECKING:
    from typer._click import Context as ClickContext  # what TyperGroup's methods take

JSON_MODE = "scarline.json"
"""``ctx.meta`` key: whether the command line asked for ``--json``."""

ClickException: type[Exception] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"
)
"""Click's usage-error base: found through a public class, because newer Typer vendors click
(``typer._click``) and older Typer uses the click package."""


def wants_json(args: Sequence[str]) -> bool:
    """Whether ``--json`` is among the options (before a ``--`` that ends them)."""
    args = list(args)
    end = args.index("--") if "--" in args else len(args)
    return "--json" in args[:end]


def _path_message(err: OSError) -> str:
    if err.filename is None:
        return str(err)
    return f"{err.filename}: {(err.strerror or str(err)).lower()}"


DEVICE_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS})
"""Write failures of the disk, not of the code: said as such, not as an internal error."""


def device_message(err: OSError) -> str:
    """A disk that is full (or fails) while a command writes: one line naming the run
    directory being written, and how to finish a run it stopped."""
    what = (err.strerror or str(err)).lower()
    run_dir = noted_run_dir()
    if run_dir is None:
        return f"{what} while writing (errno {errno.errorcode.get(err.errno or 0, err.errno)})"
    finish = ""
    if run_dir.is_dir() and not RunDir(run_dir).manifest.exists():
        finish = f"; once there is room, `scarline wal seal {run_dir}` finishes the run"
    return f"{run_dir}: {what} while writing the run (what was journaled is kept{finish})"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def write_traceback(err: BaseException) -> Path | None:
    """The traceback of ``err`` in ``RUN_DIR/error.log`` (appended) if this invocation noted a
    run directory that still exists, else in a new temporary file; None if neither works."""
    text = "".join(traceback.format_exception(err))
    run_dir = noted_run_dir()
    try:
        if run_dir is not None and run_dir.is_dir():
            path = RunDir(run_dir).error_log
            with path.open("a", encoding="utf-8") as out:
                out.write(text)
            return path
        with tempfile.NamedTemporaryFile(
            "w", prefix="scarline-error-", suffix=".log", delete=False, encoding="utf-8"
        ) as tmp:
            tmp.write(text)
        return Path(tmp.name)
    except OSError:
        return None


def internal_error_message(err: BaseException, log: Path | None) -> str:
    """``internal error (ValueError: …); traceback in …``, on one line."""
    what = _one_line(str(err))
    kind = type(err).__name__
    if isinstance(err, MemoryError):
        kind, what = "out of memory", what or "MemoryError"
    where = f"; traceback in {log}" if log is not None else ""
    return f"internal error ({kind}{': ' + what if what else ''}){where}"


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
        parent: ClickContext | None = None,
        **extra: Any,
    ) -> ClickContext:
        reset_output()
        json_mode = wants_json(args)  # before parsing, which consumes ``args``
        ctx = super().make_context(info_name, args, parent=parent, **extra)
        ctx.meta[JSON_MODE] = json_mode
        return ctx

    def invoke(self, ctx: ClickContext) -> Any:
        json_mode = bool(ctx.meta.get(JSON_MODE, False))
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            _quiet_stdout()
            raise typer.Exit(EXIT_CHECK_FAILED) from None
        except ScarlineError as err:
            code = exit_code_of(err)
            if not isinstance(err, CliError) and noted_run_dir() is not None:
                write_traceback(err)  # a run directory was written: keep the details there
            report_error(str(err), code, json_mode)
            raise typer.Exit(code) from None
        except OSError as err:
            if err.filename is None and err.errno in DEVICE_ERRORS:  # a full disk
                report_error(device_message(err), EXIT_CHECK_FAILED, json_mode)
                raise typer.Exit(EXIT_CHECK_FAILED) from None
            if err.filename is None:  # not about a path the user named: unexpected
                self._internal(err, json_mode)
            report_error(_path_message(err), EXIT_BAD_INPUT, json_mode)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        except ClickException as err:  # usage errors: click prints them on stderr, exit 2
            if json_mode and not json_printed():
                message = getattr(err, "format_message", err.__str__)()
                print_json({"error": message, "exit_code": getattr(err, "exit_code", 2)})
            raise
        except (typer.Exit, typer.Abort):
            raise
        except Exception as err:  # the one place every other error is caught
            self._internal(err, json_mode)

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """The group's own ``--help`` written to a closed pipe ends as quietly as a command's."""
        try:
            return super().main(*args, **kwargs)
        except BrokenPipeError:
            _quiet_stdout()
            sys.exit(EXIT_CHECK_FAILED)

    @staticmethod
    def _internal(err: BaseException, json_mode: bool) -> NoReturn:
        """An unexpected error: one line, exit 1, the traceback in a file."""
        log = write_traceback(err)
        report_error(internal_error_message(err, log), EXIT_CHECK_FAILED, json_mode)
        raise typer.Exit(EXIT_CHECK_FAILED) from None


def _quiet_stdout() -> None:
    """Point stdout at /dev/null: the interpreter's last flush would fail on the closed pipe
    again (the recipe of Python's docs, "Note on SIGPIPE")."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())

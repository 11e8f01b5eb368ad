"""The ``scarline`` command line (Typer). Each sub-command group lives in its own module."""

from __future__ import annotations

import sys

import structlog
import typer
from rich.markup import escape
from typer.core import TyperGroup

from scarline import __version__
from scarline.cli import data as data_cli
from scarline.cli import diary as diary_cli
from scarline.cli import evolve as evolve_cli
from scarline.cli import export as export_cli
from scarline.cli import gates as gates_cli
from scarline.cli import kill as kill_cli
from scarline.cli import ledger as ledger_cli
from scarline.cli import lineage as lineage_cli
from scarline.cli import rebuild_policy as rebuild_cli
from scarline.cli import regimes as regimes_cli
from scarline.cli import run as run_cli
from scarline.cli import wal as wal_cli
from scarline.cli.common import console, err_console
from scarline.errors import ScarlineError


class _ErrorsAsMessages(TyperGroup):
    """Turns a :class:`ScarlineError` anywhere below into one ``error:`` line and its exit code."""

    def invoke(self, ctx):  # type: ignore[no-untyped-def]
        try:
            return super().invoke(ctx)
        except ScarlineError as err:
            err_console.print(f"[bold red]error:[/] {escape(str(err))}", soft_wrap=True)
            raise typer.Exit(err.exit_code) from None


app = typer.Typer(
    name="scarline",
    cls=_ErrorsAsMessages,
    help="Self-evolving, governed, auditable trading agents.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _stderr_logger(*_args: object) -> structlog.PrintLogger:
    """Resolve ``sys.stderr`` per call, so a replaced stream (tests, pipes) is never stale."""
    return structlog.PrintLogger(sys.stderr)


def _print_version(value: bool) -> None:
    if value:
        console.print(f"scarline {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        callback=_print_version,
        is_eager=True,
        help="Print the version and exit.",
    ),
) -> None:
    """Self-evolving, governed, auditable trading agents."""
    # Library warnings (e.g. a truncated torn WAL tail) go to stderr, keeping --json stdout clean.
    structlog.configure(logger_factory=_stderr_logger)


app.command("run")(run_cli.run)
app.command("evolve")(evolve_cli.evolve)
app.command("replay")(run_cli.replay)
app.command("kill")(kill_cli.kill)
app.command("export-policy")(export_cli.export_policy)
app.command("lineage")(lineage_cli.lineage)
app.command("diary")(diary_cli.diary)
app.command("rebuild-policy")(rebuild_cli.rebuild_policy)
app.command("regimes")(regimes_cli.regimes)
app.add_typer(wal_cli.app, name="wal")
app.add_typer(data_cli.app, name="data")
app.command("gates")(gates_cli.gates)
app.command("promote")(ledger_cli.promote)
app.command("approve")(ledger_cli.approve)
app.command("rollback")(ledger_cli.rollback)
app.add_typer(ledger_cli.app, name="ledger")


def main() -> None:
    """Console entry point (``scarline``)."""
    app()

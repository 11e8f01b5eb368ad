"""The ``scarline`` command line (Typer). Each sub-command group lives in its own module.

Importing this package must stay light (``scarline --version`` and ``--help`` cost well under
0.5 s of CPU): command modules import numpy, torch, pandas, duckdb and the scarline modules
that pull them inside their command functions, never at module level (a test checks).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer

from scarline._version import __version__
from scarline.cli import data as data_cli
from scarline.cli import diary as diary_cli
from scarline.cli import evolve as evolve_cli
from scarline.cli import export as export_cli
from scarline.cli import gates as gates_cli
from scarline.cli import keys as keys_cli
from scarline.cli import kill as kill_cli
from scarline.cli import ledger as ledger_cli
from scarline.cli import lineage as lineage_cli
from scarline.cli import paper as paper_cli
from scarline.cli import rebuild_policy as rebuild_cli
from scarline.cli import regimes as regimes_cli
from scarline.cli import results as results_cli
from scarline.cli import run as run_cli
from scarline.cli import serve as serve_cli
from scarline.cli import wal as wal_cli
from scarline.cli.common import console
from scarline.cli.group import ScarlineGroup
from scarline.cli.help import command

if TYPE_CHECKING:
    import structlog

app = typer.Typer(
    name="scarline",
    cls=ScarlineGroup,
    help="Self-evolving, governed, auditable trading agents.",
    epilog="Exit codes: 0 ok, 1 a check failed, 2 bad input, 3 no replay parity (docs/cli.md).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _stderr_logger(*_args: object) -> structlog.PrintLogger:
    """Resolve ``sys.stderr`` per call, so a replaced stream (tests, pipes) is never stale."""
    import structlog

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
    import structlog

    # Library warnings (e.g. a truncated torn WAL tail) go to stderr, keeping --json stdout clean.
    structlog.configure(logger_factory=_stderr_logger)


command(app, "run")(run_cli.run)
command(app, "evolve")(evolve_cli.evolve)
command(app, "paper")(paper_cli.paper)
command(app, "serve")(serve_cli.serve)
command(app, "replay")(run_cli.replay)
command(app, "kill")(kill_cli.kill)
command(app, "export-policy")(export_cli.export_policy)
command(app, "lineage")(lineage_cli.lineage)
command(app, "diary")(diary_cli.diary)
command(app, "rebuild-policy")(rebuild_cli.rebuild_policy)
command(app, "regimes")(regimes_cli.regimes)
command(app, "trades")(results_cli.trades)
command(app, "stats")(results_cli.stats)
app.add_typer(wal_cli.app, name="wal")
app.add_typer(data_cli.app, name="data")
command(app, "gates")(gates_cli.gates)
command(app, "promote")(ledger_cli.promote)
command(app, "approve")(ledger_cli.approve)
command(app, "rollback")(ledger_cli.rollback)
app.add_typer(ledger_cli.app, name="ledger")
app.add_typer(keys_cli.app, name="keys")


def main() -> None:
    """Console entry point (``scarline``)."""
    app()

"""``scarline diary``: SQL over a run's decision diary (DuckDB), or rebuild it from the WAL."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import msgspec
import typer

from scarline.cli.common import (
    EXIT_BAD_INPUT,
    console,
    err_console,
    fail,
    print_json,
    require_run_dir,
    warn,
)
from scarline.cli.signals import EXIT_INTERRUPTED
from scarline.digest import file_sha256
from scarline.rundir import RunDir

if TYPE_CHECKING:
    from rich.table import Table
    from rich.text import Text

    from scarline.diary.query import QueryResult
    from scarline.diary.writer import DiaryStats

DEFAULT_LIMIT = 100
DEFAULT_TIMEOUT = 120.0
"""Seconds a query may run (``--timeout``): a runaway one (a recursive CTE, a cross join)
ends with a clear error instead of holding a core until someone kills it."""
DEFAULT_HORIZON = 5
MAX_HORIZON = 2**31 - 1
"""= ``scarline.diary.schema.DEFAULT_HORIZON`` and ``MAX_HORIZON`` (a test keeps them
equal); spelled here because the option's bounds are needed when ``--help`` is built,
before DuckDB or pyarrow load."""


def _cell(value: object) -> Text:
    from rich.text import Text

    if value is None:
        return Text("NULL", style="dim")
    if isinstance(value, float):
        return Text(format(value, ".6g"))
    return Text(str(value))


def _table(result: QueryResult) -> Table:
    from rich.table import Table
    from rich.text import Text

    table = Table()
    for i, name in enumerate(result.columns):
        header = Text(name)  # a column alias such as "[/x]" is data, not markup
        table.add_column(header, justify="right" if result.numeric(i) else "left", overflow="fold")
    for row in result.rows:
        table.add_row(*(_cell(v) for v in row))
    return table


def _shown(result: QueryResult) -> str:
    n = len(result.rows)
    shown = f"{n:,} row{'' if n == 1 else 's'}"
    return f"first {shown} (--limit; 0 for all)" if result.truncated else shown


def _manifest_sha(run_dir: Path) -> str | None:
    """The diary's sha256 as the run manifest lists it, if it does."""
    try:
        manifest = msgspec.json.decode(RunDir(run_dir).manifest.read_bytes())
    except (OSError, msgspec.DecodeError):
        return None
    artifacts = manifest.get("artifacts") if isinstance(manifest, dict) else None
    sha = artifacts.get(RunDir.DIARY) if isinstance(artifacts, dict) else None
    return sha if isinstance(sha, str) else None


def _rebuild(run_dir: Path, horizon: int) -> tuple[DiaryStats, dict[str, object]]:
    """Rebuild the diary from a WAL that verifies against the run's id and bound head (a
    :class:`~scarline.errors.WalError` otherwise, the old diary untouched)."""
    from scarline.cli.wal import run_identity
    from scarline.diary.writer import rebuild_diary

    run_id, expected_head = run_identity(run_dir)
    stats = rebuild_diary(run_dir, run_id=run_id, expected_head=expected_head, horizon=horizon)
    path = RunDir(run_dir).diary
    sha = file_sha256(path)
    listed = _manifest_sha(run_dir)
    if listed is not None and listed != sha:
        warn(
            f"{path}: rebuilt bytes differ from the sha256 in manifest.json "
            "(another horizon, or another scarline/pyarrow version)"
        )
    info: dict[str, object] = {
        "path": str(path),
        "rows": stats.rows,
        "orders": stats.orders,
        "coverage": stats.coverage,
        "seconds": round(stats.seconds, 3),
        "sha256": sha,
        "matches_manifest": None if listed is None else listed == sha,
    }
    return stats, info


def diary(
    run_dir: Annotated[
        Path, typer.Argument(metavar="RUN_DIR", help="A run directory (holding diary.parquet).")
    ],
    sql: Annotated[
        str | None,
        typer.Option(
            "--sql",
            help="SQL over the view `diary` (default: rows and orders per reason and regime).",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the rows as one JSON list of objects.")
    ] = False,
    limit: Annotated[
        int, typer.Option("--limit", min=0, help="Print at most N rows (0: all).")
    ] = DEFAULT_LIMIT,
    timeout: Annotated[
        float,
        typer.Option("--timeout", min=0, help="Stop the query after this many seconds (0: never)."),
    ] = DEFAULT_TIMEOUT,
    rebuild: Annotated[
        bool,
        typer.Option(
            "--rebuild", help="(Re)build RUN_DIR/diary.parquet from the WAL first (older runs)."
        ),
    ] = False,
    horizon: Annotated[
        int,
        typer.Option(
            "--horizon",
            min=1,
            max=MAX_HORIZON,
            help="With --rebuild: bars ahead the outcome is measured at.",
        ),
    ] = DEFAULT_HORIZON,
) -> None:
    """Query a run's decision diary with SQL (DuckDB), or rebuild it from the WAL.

    The diary has one row per agent decision cell, with why (regime, profile, features hash,
    reason), what risk and the broker made of it, and its outcome; see docs/diary.md for the
    columns. Exit 2 when the run directory or its diary is missing, the SQL is bad or it
    runs past --timeout; 130 when interrupted (Ctrl-C).
    """
    require_run_dir(run_dir)
    from scarline.diary.query import DEFAULT_SQL, DiaryQueryError, query_diary

    if rebuild:
        stats, info = _rebuild(run_dir, horizon)
        if sql is None:
            if as_json:
                print_json(info)
            else:
                console.print(
                    f"diary: {info['path']} ({stats.rows:,} rows in {stats.seconds:.2f} s)",
                    markup=False,
                    soft_wrap=True,
                )
                console.print(stats.line(), markup=False)
            return
        err_console.print(
            f"rebuilt {info['path']} ({stats.rows:,} rows); {stats.line()}",
            markup=False,
            soft_wrap=True,
        )
    try:
        result = query_diary(
            run_dir, sql or DEFAULT_SQL, limit=limit or None, timeout=timeout or None
        )
    except DiaryQueryError as err:  # the user's SQL: bad input
        fail(str(err), EXIT_BAD_INPUT)
    except KeyboardInterrupt:
        fail("diary: interrupted (the query was stopped)", EXIT_INTERRUPTED)
    if as_json:
        if result.truncated:
            warn(f"only the first {limit} rows are printed (--limit 0 for all)")
        print_json(result.records())
        return
    console.print(_table(result))
    console.print(_shown(result), markup=False)

"""``scarline lineage``: draw a run's family tree from ``RUN_DIR/lineage.parquet``."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from scarline.cli.common import console, fail
from scarline.evolution.lineage import LINEAGE_FILE, read_lineage
from scarline.report.lineage_plot import (
    write_lineage_graphml,
    write_lineage_html,
    write_lineage_png,
)

EXIT_MISSING = 2
"""Exit code when the run directory or its lineage file does not exist."""


class LineageFormat(StrEnum):
    png = "png"
    graphml = "graphml"
    html = "html"


def lineage(
    run_dir: Annotated[
        Path, typer.Argument(metavar="RUN_DIR", help="A run directory holding lineage.parquet.")
    ],
    fmt: Annotated[
        LineageFormat,
        typer.Option(
            "--format",
            "-f",
            help="png: the tree; graphml: the graph for networkx/Gephi; "
            "html: one self-contained page (tree + fittest agents and their ancestry).",
        ),
    ] = LineageFormat.png,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Where to write (default: RUN_DIR/lineage.<format>)."),
    ] = None,
) -> None:
    """Draw every agent that lived in a run: who descends from whom, fitness, scars, deaths.

    Reads RUN_DIR/lineage.parquet and prints the path written. Exit 2 when the run
    directory or its lineage file is missing, 1 when the file is not a valid lineage.
    """
    if not run_dir.is_dir():
        fail(f"{run_dir}: no such run directory", EXIT_MISSING)
    source = run_dir / LINEAGE_FILE
    if not source.is_file():
        fail(f"{source}: no lineage file in this run directory", EXIT_MISSING)
    table = read_lineage(source)
    target = out if out is not None else run_dir / f"lineage.{fmt.value}"
    if fmt is LineageFormat.png:
        write_lineage_png(table, target)
    elif fmt is LineageFormat.graphml:
        write_lineage_graphml(table, target)
    else:
        write_lineage_html(table, target, title=f"Lineage of run {run_dir.resolve().name}")
    console.print(str(target), soft_wrap=True, markup=False)

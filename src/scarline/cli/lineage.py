"""``scarline lineage``: draw a run's family tree from ``RUN_DIR/lineage.parquet``."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from scarline.cli.common import EXIT_BAD_INPUT, console, fail, print_json, require_run_dir
from scarline.digest import file_sha256
from scarline.rundir import RunDir


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
    as_json: Annotated[
        bool,
        typer.Option("--json", help='Print {"path", "format", "agents", "sha256"} as JSON.'),
    ] = False,
) -> None:
    """Draw every agent that lived in a run: who descends from whom, fitness, scars, deaths.

    Reads RUN_DIR/lineage.parquet and prints the path written. Exit 2 when the run
    directory or its lineage file is missing, 1 when the file is not a valid lineage.
    """
    require_run_dir(run_dir)
    source = RunDir(run_dir).lineage
    if not source.is_file():
        fail(f"{source}: no lineage file in this run directory", EXIT_BAD_INPUT)
    from scarline.evolution.lineage import read_lineage
    from scarline.report.lineage_plot import (
        write_lineage_graphml,
        write_lineage_html,
        write_lineage_png,
    )

    target = out if out is not None else run_dir / f"lineage.{fmt.value}"
    if target.is_dir():  # caught before drawing: the write would fail on a temporary name
        fail(f"--out {target}: is a directory; give the file to write", EXIT_BAD_INPUT)
    table = read_lineage(source)
    if fmt is LineageFormat.png:
        write_lineage_png(table, target)
    elif fmt is LineageFormat.graphml:
        write_lineage_graphml(table, target)
    else:
        write_lineage_html(table, target, title=f"Lineage of run {run_dir.resolve().name}")
    if as_json:
        sha = file_sha256(target)
        print_json(
            {"path": str(target), "format": fmt.value, "agents": table.num_rows, "sha256": sha}
        )
        return
    console.print(str(target), soft_wrap=True, markup=False)

"""``scarline data``: list the shipped datasets, check data (G0) and synthesize markets.

Bad input raises :class:`~scarline.errors.DataError`; the top-level app prints it as one
``error:`` line and exits 2, so no traceback reaches the user. G0 errors in a file that
parses exit 1 (the check failed).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from scarline.cli.common import EXIT_CHECK_FAILED, EXIT_OK, NA, console, print_json
from scarline.cli.help import command, group

if TYPE_CHECKING:
    from scarline.market.checks import G0Report

app = group("List, check (G0 DataTruth) and synthesize market data.")


@command(app, "list")
def list_cmd(
    json_out: bool = typer.Option(False, "--json", help="Print a JSON list instead of a table."),
) -> None:
    """Datasets shipped inside installed packages (loaded at run time, never downloaded)."""
    from rich.table import Table

    from scarline.market.datasets import list_datasets

    infos = list_datasets()
    if json_out:
        print_json([asdict(i) for i in infos])
        return
    table = Table(title="Datasets shipped in installed packages")
    for col in ("name", "rows", "symbols", "start", "end", "frequency", "source"):
        justify = "right" if col in ("rows", "symbols") else "left"
        table.add_column(col, justify=justify, overflow="fold", no_wrap=col != "source")
    for i in infos:
        table.add_row(i.name, str(i.rows), str(i.symbols), i.start, i.end, i.frequency, i.source)
    console.print(table)


@command(app, "check")
def check_cmd(
    source: str = typer.Argument(..., metavar="NAME|PATH", help="Dataset name or .csv/.parquet."),
    json_out: bool = typer.Option(False, "--json", help="Print the report as one JSON object."),
    tick_size: str | None = typer.Option(None, help="Tick size (default: inferred from text)."),
    gap_factor: float = typer.Option(5.0, help="Warn on steps > this x the median step."),
    outlier_k: float = typer.Option(12.0, help="Warn on |log return| > k x rolling MAD scale."),
    stale_run: int = typer.Option(10, help="Warn on this many equal closes in a row."),
    limit: int = typer.Option(50, help="Findings to print (JSON always has all)."),
) -> None:
    """G0 DataTruth: exit 0 when there is no error (warnings allowed), 1 otherwise.

    Exit 2 when the source is unknown or a file cannot be parsed at all.
    """
    from scarline.market.checks import G0Thresholds, check_market_source

    thresholds = G0Thresholds(gap_factor=gap_factor, outlier_k=outlier_k, stale_run=stale_run)
    report = check_market_source(source, thresholds=thresholds, tick_size=tick_size)
    if json_out:
        print_json(report.to_dict())
    else:
        _print_report(report, limit)
    raise typer.Exit(EXIT_OK if report.ok else EXIT_CHECK_FAILED)


def _print_report(report: G0Report, limit: int) -> None:
    for f in report.findings[:limit]:
        style = "bold red" if f.severity == "error" else "yellow"
        console.print(
            f"[{style}]{f.severity:<7}[/] {f.check:<19} row {f.row:<7} {escape(f.symbol or NA)} "
            f"{escape(f.column or NA)}: {escape(f.message)}",
            soft_wrap=True,
            markup=True,
        )
    hidden = len(report.findings) - limit
    if hidden > 0:
        console.print(f"… {hidden} more findings (use --json for all)")
    verdict = "[bold green]OK[/]" if report.ok else "[bold red]FAILED[/]"
    console.print(
        f"G0 DataTruth {escape(report.source)}: {report.rows} rows, {report.symbols} symbols, "
        f"{len(report.errors)} errors, {len(report.warnings)} warnings - {verdict}",
        soft_wrap=True,
    )


@command(app, "synth")
def synth_cmd(
    out: Path = typer.Option(..., "--out", help="Output file (.csv, .parquet or .pq)."),
    steps: int = typer.Option(1000, help="Bars per instrument."),
    instruments: int = typer.Option(1, help="Number of instruments."),
    seed: int = typer.Option(0, help="Seed of the SeedSequence (same seed, same file)."),
    freq: str = typer.Option("1d", help="Bar length: 1d, 1h, 1min, 30s …"),
    start: str = typer.Option("2020-01-01", help="First timestamp (UTC)."),
    start_price: str = typer.Option("100.00", help="First open, as decimal text."),
    tick_size: str = typer.Option("0.01", help="Tick size."),
    quotes: bool = typer.Option(False, "--quotes", help="Add L1 bid/ask columns."),
    planted_ic: float | None = typer.Option(
        None, "--planted-ic", help="Add a 'signal' column with this IC on the next return."
    ),
    random_walk: bool = typer.Option(False, "--random-walk", help="Pure random walk (no edge)."),
    labels: bool = typer.Option(False, "--labels", help="Add the true 'regime' column."),
    json_out: bool = typer.Option(False, "--json", help="Print what was written as JSON."),
) -> None:
    """Write a seeded synthetic market that scarline run (and load_market) can read."""
    from scarline.market.io import write_market
    from scarline.market.synthetic import SynthSpec, generate

    spec = SynthSpec(
        n_steps=steps,
        n_instruments=instruments,
        seed=seed,
        freq=freq,
        start=start,
        start_price=start_price,
        tick_size=tick_size,
        quotes=quotes,
        planted_ic=planted_ic,
        random_walk=random_walk,
        labels=labels,
    )
    market = generate(spec)
    path = write_market(market, out)
    summary = {
        "path": str(path),
        "rows": market.n_steps,
        "instruments": market.n_instruments,
        "frequency": market.frequency,
        "seed": seed,
        "exog": list(market.exog_names),
        "quotes": market.quotes is not None,
        "data_hash": market.content_hash(),
    }
    if json_out:
        print_json(summary)
        return
    extras = ", ".join([*market.exog_names, *(["quotes"] if market.quotes is not None else [])])
    console.print(
        f"wrote {path}: {market.n_steps} bars x {market.n_instruments} instruments "
        f"({market.frequency}, seed {seed}{', ' + extras if extras else ''}), "
        f"data hash {summary['data_hash'][:16]}",
        soft_wrap=True,
    )

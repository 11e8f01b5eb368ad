"""``scarline data``: list the shipped datasets, check data (G0), synthesize markets and fetch
a venue's candles.

Bad input raises :class:`~scarline.errors.DataError`; the top-level app prints it as one
``error:`` line and exits 2, so no traceback reaches the user. G0 errors in a file that
parses exit 1 (the check failed).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import typer
from rich.markup import escape

from scarline.cli.common import (
    EXIT_CHECK_FAILED,
    EXIT_OK,
    NA,
    console,
    err_console,
    print_json,
    require_output_file,
)
from scarline.cli.help import command, group
from scarline.errors import ConfigError

if TYPE_CHECKING:
    from scarline.market.checks import G0Report

app = group("List, check (G0 DataTruth), synthesize and fetch market data.")


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
        justify: Literal["right", "left"] = "right" if col in ("rows", "symbols") else "left"
        table.add_column(col, justify=justify, overflow="fold", no_wrap=col != "source")
    for i in infos:
        table.add_row(i.name, str(i.rows), str(i.symbols), i.start, i.end, i.frequency, i.source)
    console.print(table)


@command(app, "check")
def check_cmd(
    source: str = typer.Argument(
        ..., metavar="NAME|PATH", help="Dataset name or .csv/.parquet/.feather file."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print the report as one JSON object."),
    tick_size: str | None = typer.Option(None, help="Tick size (default: inferred from text)."),
    gap_factor: float = typer.Option(5.0, help="Warn on steps > this x the median step."),
    outlier_k: float = typer.Option(12.0, help="Warn on |log return| > k x rolling MAD scale."),
    stale_run: int = typer.Option(10, help="Warn on this many equal closes in a row."),
    limit: int = typer.Option(50, help="Findings to print (JSON always has all)."),
) -> None:
    """G0 DataTruth: exit 0 when there is no error (warnings allowed), 1 otherwise.

    States what it detected (format, how timestamps are written, the symbol of a one-symbol
    file). Exit 2 when the source is unknown or a file cannot be parsed at all.
    """
    from scarline.market.checks import G0Thresholds, check_market_source

    _check_thresholds(gap_factor=gap_factor, outlier_k=outlier_k, stale_run=stale_run)
    if tick_size is not None:
        tick_size = _tick_option(tick_size)
    if limit < 0:
        raise ConfigError(f"--limit: must be at least 0, got {limit}")
    thresholds = G0Thresholds(gap_factor=gap_factor, outlier_k=outlier_k, stale_run=stale_run)
    report = check_market_source(source, thresholds=thresholds, tick_size=tick_size)
    if json_out:
        print_json(report.to_dict())
    else:
        _print_report(report, limit)
    raise typer.Exit(EXIT_OK if report.ok else EXIT_CHECK_FAILED)


def _check_thresholds(**values: float) -> None:
    """The thresholds within the bounds ``[data.g0]`` holds a run to (``--gap-factor nan``
    turned the gap check off); a bad one names its option."""
    from scarline.market.checks import threshold_problem

    for name, value in values.items():
        problem = threshold_problem(name, value)
        if problem is not None:
            raise ConfigError(f"--{name.replace('_', '-')}: {problem}")


def _tick_option(text: str) -> str:
    """``--tick-size`` as ``data.tick_size`` is checked: a tick the accounts can hold."""
    from scarline.instrument import check_tick_size

    try:
        return check_tick_size(text)
    except ValueError as err:
        raise ConfigError(f"--tick-size: {err}") from None


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
    for line in _detected_lines(report.detected):
        console.print(escape(line), soft_wrap=True)
    verdict = "[bold green]OK[/]" if report.ok else "[bold red]FAILED[/]"
    console.print(
        f"G0 DataTruth {escape(report.source)}: {report.rows} rows, {report.symbols} symbols, "
        f"{len(report.errors)} errors, {len(report.warnings)} warnings - {verdict}",
        soft_wrap=True,
    )


def _detected_lines(detected: dict[str, str]) -> list[str]:
    """``timestamps: epoch milliseconds (column timestamp)`` and the like."""
    lines = [f"format: {detected['format']}"] if "format" in detected else []
    if "timestamps" in detected:
        column = detected.get("time_column", "timestamp")
        lines.append(f"timestamps: {detected['timestamps']} (column {column})")
    if "symbol" in detected:
        origin = detected.get("symbol_from", "the file name")
        lines.append(f"symbol: {detected['symbol']} (from {origin}; the file has no symbol column)")
    if "ignored_columns" in detected:  # a feature column with one typo is dropped whole
        ignored = detected["ignored_columns"].replace(",", ", ")
        lines.append(f"ignored columns: {ignored} (not numeric in every row)")
    return lines


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
    require_output_file(out, "--out")
    market = generate(spec)
    path = write_market(market, out)
    data_hash = market.content_hash()
    summary = {
        "path": str(path),
        "rows": market.n_steps,
        "instruments": market.n_instruments,
        "frequency": market.frequency,
        "seed": seed,
        "exog": list(market.exog_names),
        "quotes": market.quotes is not None,
        "data_hash": data_hash,
    }
    if json_out:
        print_json(summary)
        return
    extras = ", ".join([*market.exog_names, *(["quotes"] if market.quotes is not None else [])])
    console.print(
        f"wrote {path}: {market.n_steps} bars x {market.n_instruments} instruments "
        f"({market.frequency}, seed {seed}{', ' + extras if extras else ''}), "
        f"data hash {data_hash[:16]}",
        soft_wrap=True,
    )


@command(app, "fetch")
def fetch_cmd(
    exchange: str = typer.Option(..., "--exchange", help="A ccxt exchange id, e.g. binance."),
    symbols: str = typer.Option(..., "--symbols", help="Comma-separated, e.g. BTC/USDT,ETH/USDT."),
    timeframe: str = typer.Option("1h", "--timeframe", help="Bar length: 1s, 1m, 1h, 1d …"),
    since: str = typer.Option(..., "--since", help="First bar (ISO date or time, UTC)."),
    until: str | None = typer.Option(None, "--until", help="Last bar (default: the last closed)."),
    out: Path = typer.Option(..., "--out", help="Output file (.parquet, .pq or .csv)."),
    base_url: str | None = typer.Option(
        None, "--base-url", help="Replace the scheme and host of every REST URL (a proxy)."
    ),
    timeout: float = typer.Option(10.0, "--timeout", help="Seconds per request."),
    json_out: bool = typer.Option(False, "--json", help="Print what was written as JSON."),
) -> None:
    """Download closed candles from an exchange (ccxt REST) into a market file.

    Resumable: when OUT exists, each symbol continues after its last bar. Rows are
    deduplicated by (symbol, timestamp) and the file passes scarline data check. Failed
    requests are retried with backoff; if they keep failing, what was fetched is written
    and the command exits 2, so a rerun resumes.
    """
    from scarline.market.feeds.download import fetch_to_file

    def progress(symbol: str, count: int, ts: int) -> None:
        if not json_out:
            err_console.print(f"{escape(symbol)}: {count} bars", soft_wrap=True)

    def retrying(attempt: int, err: Exception, wait: float) -> None:
        err_console.print(
            f"[yellow]retry {attempt}[/] in {wait:.1f} s: {escape(str(err))}", soft_wrap=True
        )

    names = [s.strip() for s in symbols.split(",") if s.strip()]
    report = fetch_to_file(
        exchange,
        names,
        timeframe,
        since,
        out,
        until=until,
        base_url=base_url,
        timeout_seconds=timeout,
        on_page=progress,
        on_retry=retrying,
    )
    if json_out:
        print_json(report.to_dict())
    else:
        added = ", ".join(f"{escape(s)} +{n}" for s, n in report.fetched.items())
        console.print(
            f"wrote {escape(report.path)}: {report.rows} rows ({added}; "
            f"{report.duplicates} duplicates dropped), {escape(report.first or NA)} .. "
            f"{escape(report.last or NA)}, G0 {'OK' if report.g0_ok else 'FAILED'} "
            f"({report.g0_errors} errors, {report.g0_warnings} warnings)",
            soft_wrap=True,
        )
    raise typer.Exit(EXIT_OK if report.g0_ok else EXIT_CHECK_FAILED)

"""``scarline trades`` and ``scarline stats``: a run's round trips and per-agent figures."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import typer

from scarline.cli.common import EXIT_BAD_INPUT, NA, console, fail, print_json, require_run_dir

RunDirArg = Annotated[
    Path, typer.Argument(metavar="RUN_DIR", help="A finished run directory (scarline run).")
]
# fractions printed as percent; trades.parquet's return_pct is a percent already
PERCENT = ("return", "cagr", "volatility", "max_drawdown", "win_rate", "exposure")
LOWER_IS_BETTER = ("volatility", "fees", "turnover")
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the rows as one JSON document.")]


def _result(run_dir: Path) -> Any:
    require_run_dir(run_dir)
    from scarline.api.result import ResultError, load_run

    try:
        result = load_run(run_dir)
        result.equity  # noqa: B018 - read now: a missing file is bad input, said here
        result.trades  # noqa: B018
    except ResultError as err:
        fail(str(err), EXIT_BAD_INPUT)
    return result


def _cell(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return value


def _table(rows: list[dict[str, Any]], columns: list[str], title: str) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, show_lines=False)
    for column in columns:
        table.add_column(
            column, justify="left" if column in ("policy", "kind", "side") else "right"
        )
    for row in rows:  # Text, not markup: a symbol or strategy label like "[/x]" is data
        table.add_row(*[Text(_fmt(row.get(c), c in PERCENT)) for c in columns])
    console.print(table)


def _fmt(value: Any, percent: bool = False) -> str:
    if value is None:  # an undefined figure (NaN: a volatility of one return, a turnover
        return NA  # without capital) or a missing cell, as every table shows it
    if isinstance(value, float) and percent:
        return f"{100 * value:,.1f}%"
    if isinstance(value, float):
        return f"{value:,.4f}" if abs(value) < 100 else f"{value:,.2f}"
    return str(value)


def trades(
    run_dir: RunDirArg,
    agent: Annotated[
        int | None, typer.Option("--agent", "-a", help="Only this agent id's trades.")
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, help="At most this many rows (the last).")
    ] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Print a run's round trips from RUN_DIR/trades.parquet: agent, instrument, side, entry and
    exit time and price, lots, pnl, fees, bars held.

    A trade opens when a position leaves zero and closes when it is back at zero; one still
    open at the end is marked at the last close. Their pnl sums to each agent's equity
    change. Exit 2 when the run or its trades file is missing, or --agent names no agent of
    the run.
    """
    result = _result(run_dir)
    frame = result.trades
    if agent is not None:
        ids = result.agents.index.tolist() if len(result.agents) else []
        ids = ids or sorted(set(frame["agent"].tolist()))
        if agent not in ids:
            fail(
                f"--agent {agent}: no such agent in {result.run_id} (ids {min(ids, default=0)}.."
                f"{max(ids, default=-1)})",
                EXIT_BAD_INPUT,
            )
        frame = frame[frame["agent"] == agent]
    total = len(frame)
    frame = frame.tail(limit)
    rows = [{k: _cell(v) for k, v in r.items()} for r in frame.to_dict(orient="records")]
    if as_json:
        print_json({"run_id": result.run_id, "trades": total, "shown": len(rows), "rows": rows})
        return
    columns = ["agent", "instrument", "side", "qty", "entry_time", "exit_time", "entry_price",
               "exit_price", "pnl", "fees", "bars_held", "open"]  # fmt: skip
    _table(rows, columns, f"{result.run_id}: last {len(rows)} of {total} trades")


def stats(
    run_dir: RunDirArg,
    sort: Annotated[
        str, typer.Option("--sort", "-s", help="Sort by this column, best first.")
    ] = "sharpe",
    top: Annotated[int, typer.Option("--top", "-n", min=1, help="At most this many agents.")] = 30,
    as_json: JsonOpt = False,
) -> None:
    """Print each agent's return, CAGR, volatility, Sharpe, Sortino, Calmar, max drawdown, win
    rate, profit factor, exposure, trades, turnover and fees.

    Here max_drawdown is <= 0 (-0.25: a 25 % fall) and trades counts round trips; run
    --json and summary.json keep the drawdown as a positive fraction and count fills.
    A figure that is undefined (the volatility of one return, the turnover of an agent
    whose mean equity is at or below 0) prints as — (null with --json).

    Computed from RUN_DIR/equity.parquet and trades.parquet by one module (docs/api.md,
    "Statistics"), the same figures sl.load_run(RUN_DIR).stats gives. Exit 2 when the run
    or its files are missing, or --sort names no column.
    """
    result = _result(run_dir)
    table = result.stats
    if sort not in table.columns:
        fail(f"--sort {sort!r}: no such column (one of {', '.join(table.columns)})", EXIT_BAD_INPUT)
    ascending = sort in LOWER_IS_BETTER  # max_drawdown is <= 0: the largest is the best
    table = table.sort_values(sort, ascending=ascending, na_position="last").head(top)
    rows = [
        {"agent": int(agent), **{k: _cell(v) for k, v in row.items()}}
        for agent, row in table.to_dict(orient="index").items()
    ]
    if as_json:
        print_json({"run_id": result.run_id, "sort": sort, "agents": rows})
        return
    _table(rows, ["agent", *table.columns], f"{result.run_id}: agents by {sort}")

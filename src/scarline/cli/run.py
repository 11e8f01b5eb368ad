"""``scarline run`` and ``scarline replay``."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from scarline.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_NO_PARITY,
    NA,
    console,
    fail,
    note_run_dir,
    print_json,
    refuse_existing,
    require_file,
    require_run_dir,
    require_writable_dir,
    shown,
    step_progress,
    warn,
)
from scarline.cli.signals import EXIT_INTERRUPTED, signal_name, sigterm_as_interrupt
from scarline.rundir import RunDir

if TYPE_CHECKING:
    from scarline.market.admit import Admission
    from scarline.runner import RunSummary

_NOT_IN_TABLE = ("agents", "report", "run_dir", "oos")
"""Summary keys printed on their own line (or as their own table), not as table rows."""

_WARNINGS_SHOWN = 5
"""G0 warnings printed in full before a run (all are journaled)."""


def run(
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="TOML run config (default: built-in defaults)."),
    ] = None,
    data: Annotated[
        str | None,
        typer.Option(help="Dataset name (see `scarline data list`) or CSV/Parquet path."),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Root seed (overrides the config).")] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Parent directory for the run directory (default: config out_dir, `runs`)."
        ),
    ] = None,
    run_id: Annotated[
        str | None, typer.Option(help="Name the run instead of <utc time>-<data>-<config hash>.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object instead of a table.")
    ] = False,
    allow_data_warnings: Annotated[
        bool,
        typer.Option(
            "--allow-data-warnings",
            help="Start even when a G0 warning check listed in data.g0.refuse_warnings fires "
            "(the warnings are journaled). There is no switch for G0 errors.",
        ),
    ] = False,
) -> None:
    """Run a config on market data and write runs/<run_id>/ (config, WAL, manifests).

    The rows the run trades pass G0 DataTruth (the rules of `scarline data check`) before
    the first step: an error refuses the run with its findings (file, line, column, rule),
    exit 2, and no run directory; warnings are printed and journaled (`DataWarnings`).

    Exit 2 on a bad config or data source, an unsafe --run-id, an --out that is not a
    writable directory, or when the named run directory exists. A config that fails
    validation leaves no run directory behind. Ctrl-C or SIGTERM stops the run with its WAL
    flushed and no manifest (exit 130); `scarline wal seal` finishes it.
    """
    if config is not None:
        require_file(config, "config file")
    from scarline.config import check_new_run, load_config
    from scarline.runner import execute_run
    from scarline.session import run_dir_in

    cfg = load_config(config)
    check_new_run(cfg, str(config) if config is not None else "config")
    overrides = {k: v for k, v in {"data.source": data, "seed": seed}.items() if v is not None}
    if overrides:
        cfg = cfg.with_overrides(**overrides)
    root = Path(out or cfg.out_dir)
    require_writable_dir(root, "--out" if out is not None else "out_dir")
    if run_id is not None:
        refuse_existing(run_dir_in(root, run_id), "run")
    try:
        with (
            sigterm_as_interrupt(),  # SIGTERM stops like Ctrl-C
            step_progress("run", "steps") as progress,
        ):
            task = progress.add_task("run", total=None)
            summary = execute_run(
                cfg,
                run_id=run_id,
                out_dir=out,
                on_start=lambda n: progress.update(task, total=n),
                on_step=lambda t: progress.advance(task) if t % 256 == 255 else None,
                allow_data_warnings=allow_data_warnings,
                on_admitted=_print_data_warnings,
                on_open=note_run_dir,
            )
    except KeyboardInterrupt as stop:
        where = "RUN_DIR" if run_id is None else str(Path(out or cfg.out_dir) / run_id)
        fail(
            f"interrupted by {signal_name(stop)}: a started run keeps its flushed WAL and no "
            f"manifest; `scarline wal seal {where}` finishes it",
            EXIT_INTERRUPTED,
        )
    if as_json:
        print_json(summary.to_json())
        return
    _print_summary(summary)


def _print_data_warnings(admission: Admission) -> None:
    """G0 warnings of the run's input on stderr: a count per check, the first few in full."""
    from scarline.market.admit import finding_line, summary

    found = admission.warnings
    if not found:
        return
    allowed = f"; allowed by --allow-data-warnings: {', '.join(admission.allowed)}"
    warn(
        f"{admission.report.source}: G0 DataTruth: {summary(found, 'warning')}, journaled in the "
        f"run's DataWarnings record{allowed if admission.allowed else ''}"
    )
    for finding in found[:_WARNINGS_SHOWN]:
        warn(f"  {finding_line(finding)}")
    if len(found) > _WARNINGS_SHOWN:
        warn(f"  … and {len(found) - _WARNINGS_SHOWN} more (`scarline data check` lists them)")


def _pct(x: object) -> str:
    return NA if x is None else f"{float(x) * 100:+.2f} %"  # type: ignore[arg-type]


def _num(x: object) -> str:
    return NA if x is None else f"{float(x):.2f}"  # type: ignore[arg-type]


def _print_summary(summary: RunSummary) -> None:
    from rich.table import Table

    from scarline.report.learning import learning_summary
    from scarline.report.terminal import headline_table

    table = Table(title=f"run {summary.run_id}", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for key, value in summary.to_json().items():
        if key not in _NOT_IN_TABLE:
            table.add_row(key.replace("_", " "), shown(value))
    console.print(table)
    console.print(headline_table(summary.metrics))
    oos = summary.oos()
    if oos is not None:
        console.print(
            f"out-of-sample from step {oos['split_step']} (net of costs): "
            f"learning agents median {_pct(oos['ml_median_return'])} "
            f"(Sharpe {_num(oos['ml_median_sharpe'])}), "
            f"placebo median {_pct(oos['placebo_median_return'])}, "
            f"buy-and-hold {_pct(oos['buy_and_hold_return'])}; "
            f"best in-sample learning agent: {summary.best_agent_id()} "
            f"(out-of-sample Sharpe {_num(oos['best_agent_oos_sharpe'])})"
        )
    for line in learning_summary(summary.kinds, summary.metrics).sentences():
        console.print(line, markup=False)
    if summary.killed_at is not None:
        console.print(f"[bold red]kill switch fired at step {summary.killed_at}[/]")
    console.print(f"run directory: [bold]{summary.run_dir}[/]")
    if summary.report is not None:
        console.print(f"report: [bold]{summary.report}[/]")


def replay(
    run_dir: Annotated[Path, typer.Argument(help="A run directory written by `scarline run`.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Re-execute a run from its WAL and config snapshot; exit 0 on parity, 3 without (or
    when the snapshot is not the config the run recorded).

    Parity: the replayed WAL equals the original record by record, and the decision trace
    hash is the manifest's; without it, the first differing record is named by seq, kind
    and field. A run sealed after a crash is compared over its sealed prefix. Exit 1 when
    the WAL fails verification (the run is not replayed), 2 when RUN_DIR, its manifest or
    its wal/ is missing.
    """
    require_run_dir(run_dir)
    if not RunDir(run_dir).manifest.is_file():
        fail(
            f"{run_dir}: no {RunDir.MANIFEST} (not a finished run; `scarline wal seal` finishes "
            "one that crashed)",
            EXIT_BAD_INPUT,
        )
    from scarline.replayer import replay_run

    result = replay_run(run_dir)
    if not result.config_matches_manifest:
        legacy = not RunDir(run_dir).config_json.is_file()
        warn(
            f"{RunDir(run_dir).config}: not the config {RunDir.MANIFEST} config_hash "
            "recorded (the snapshot was edited after the run"
            + (
                ", or the run predates config.json and the config model gained fields since"
                if legacy
                else ""
            )
            + ")"
        )
    if as_json:
        print_json(asdict(result))
    else:
        verdict = "[bold green]parity[/]" if result.parity else "[bold red]NO PARITY[/]"
        console.print(f"{verdict}  steps={result.steps}  {escape(result.describe())}")
        console.print(f"  decision trace  original {result.original or NA}")
        console.print(f"                  replayed {result.replayed}")
        console.print(f"  WAL head        original {result.wal_head_original}")
        console.print(f"                  replayed {result.wal_head_replayed}")
        if result.sealed_prefix:
            console.print(
                f"  sealed after a crash: {result.records} records compared, "
                f"{result.extra_records} replayed past the sealed prefix"
            )
    if not result.parity:
        fail(f"no replay parity: {result.describe()}", EXIT_NO_PARITY)
    if not result.config_matches_manifest:
        fail("the records replay, but not from the config the run recorded", EXIT_NO_PARITY)

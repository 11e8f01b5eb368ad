"""``scarline gates``: judge agents of a finished run (G0–G4) and write ``gates.json``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from scarline.cli.common import (
    EXIT_CHECK_FAILED,
    console,
    err_console,
    print_json,
    require_run_dir,
)
from scarline.rundir import RunDir

if TYPE_CHECKING:
    from rich.progress import Progress

    from scarline.gating.subject import RunUnderTest
    from scarline.report.html import ReportDraft


def _progress() -> Progress:
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    return Progress(
        SpinnerColumn(),
        TextColumn("[bold]gates[/] {task.description}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    )


def _draft_report(run: RunUnderTest) -> ReportDraft | None:
    """report.html but its Gates section (when the run has a report), drafted while the
    gates' re-runs run: after them only the Gates section is left to render."""
    if not RunDir(run.run_dir).report.is_file():
        return None
    from scarline.outcome import regime_labels_of, run_results
    from scarline.report.html import draft_report
    from scarline.runner import report_meta

    kernel = run.replayed.kernel
    results = run_results(kernel, report_meta(run.config, run.market), run.split)
    return draft_report(results, run.run_dir, regimes=regime_labels_of(kernel))


def gates(
    run_dir: Annotated[Path, typer.Argument(metavar="RUN_DIR", help="A finished run directory.")],
    agents: Annotated[
        list[str] | None,
        typer.Option(
            "--agents",
            "-a",
            help="top:K (best in-sample return first; learning agents if any) or agent "
            "ids; repeat the option for several. Default top:1.",
        ),
    ] = None,
    thresholds: Annotated[
        Path | None,
        typer.Option(
            "--thresholds",
            "-t",
            help="Gates TOML (see configs/gates.toml); default: the built-in thresholds.",
        ),
    ] = None,
    only: Annotated[
        list[str] | None,
        typer.Option(help="Run only these gates (G0..G4; repeat). Others count as failed."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the whole report as one JSON object.")
    ] = False,
    executor: Annotated[
        str,
        typer.Option(
            "--executor",
            help="Where the independent re-runs (permutations, folds, cost variants, cuts, "
            "lags) execute: serial, process (local worker processes) or ray. The report is "
            "the same on every executor.",
        ),
    ] = "process",
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, help="Worker processes (default: the machine's cores)."),
    ] = None,
) -> None:
    """Judge agents of a finished run with the gates G0–G4 and write gates.json.

    The gates: G0 DataTruth, G1 ReplayParity, G2 Anti-overfit, G3 Robustness and
    G4 Deployability. Writes RUN_DIR/gates.json (its sha256 into manifest.json) and a Gates
    section in report.html. Exit 0 when every judged agent passes every gate, 1 when any
    fails, 2 on bad input (run directory, --agents, --only, thresholds file, --executor).

    The re-runs the gates make (block permutations, walk-forward folds, cost variants,
    data cuts, lags) are independent: by default they run in parallel on local worker
    processes, one per core (--executor process); --executor serial runs them one after
    another, --executor ray on Ray.
    """
    require_run_dir(run_dir)
    from scarline.errors import ConfigError
    from scarline.gating.config import builtin_sha256, load_gates_config
    from scarline.gating.executor import executor_for
    from scarline.gating.plan import replay_starting
    from scarline.gating.runner import run_gates, wanted_gates, write_gate_report
    from scarline.gating.subject import GateInputError, parse_agents
    from scarline.report.gates_section import gates_table

    try:
        cfg = load_gates_config(thresholds)
    except ConfigError as err:  # bad input (exit 2), not a failed gate (exit 1)
        raise GateInputError(str(err)) from None
    wanted = wanted_gates(only)  # bad input fails here, before the replay
    asked = parse_agents(agents or [])  # so does a malformed --agents (an unknown id: the run)
    pool = executor_for(executor, workers)
    with _progress() as progress:
        task = progress.add_task("replaying the run (G1)", total=None)

        def tick(message: str) -> None:
            progress.update(task, description=message)

        run, started = replay_starting(run_dir, cfg, wanted, pool, agents)
        drafts: list[ReportDraft | None] = []

        def draft(subject: RunUnderTest) -> None:
            tick("drafting the report while the re-runs run")
            drafts.append(_draft_report(subject))

        report = run_gates(
            run_dir,
            agents,
            cfg,
            only,
            tick,
            run=run,
            executor=pool,
            started=started,
            meanwhile=draft,
        )
        tick("writing gates.json and the report")
        sha = write_gate_report(run_dir, report)
        stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        html = drafts[0].write(stamp) if drafts and drafts[0] is not None else None
    if as_json:
        print_json(report)
    else:
        console.print(gates_table(report))
        console.print(
            f"{RunDir.GATES}: {RunDir(run_dir).gates} (sha256 {sha[:16]}…, in manifest)",
            markup=False,
            soft_wrap=True,
        )
        if html is not None:
            console.print(f"report: {html}", markup=False, soft_wrap=True)
    top = max((k for is_top, k in asked if is_top), default=0)
    if top > (ranked := len(run.ranking())):
        err_console.print(
            f"note: top:{top} asked for more agents than the {ranked} living ones ranked "
            "(learning agents, if any): all of those were judged",
            markup=False,
            soft_wrap=True,
        )
    if cfg.sha256() != builtin_sha256():
        err_console.print(
            f"note: these thresholds (sha256 {cfg.sha256()}) are not the built-in ones: the "
            "ledger counts their verdicts only where its policy.toml lists them under [gates] "
            "thresholds_sha256 (docs/ledger.md)",
            markup=False,
            soft_wrap=True,
        )
    if not report.passed():
        raise typer.Exit(EXIT_CHECK_FAILED)

"""``scarline evolve``: islands of one config with ring migration (see docs/evolution.md)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from scarline.cli.common import (
    NA,
    console,
    fail,
    note_run_dir,
    print_json,
    refuse_existing,
    require_writable_dir,
    step_progress,
)
from scarline.cli.signals import EXIT_INTERRUPTED, signal_name, sigterm_as_interrupt

if TYPE_CHECKING:
    from scarline.cluster.evolve import EvolveSummary


class ExecutorName(StrEnum):
    inprocess = "inprocess"
    ray = "ray"


def evolve(
    config: Annotated[
        Path,
        typer.Argument(metavar="CONFIG", help="TOML run config with an evolving q-network group."),
    ],
    islands: Annotated[
        int, typer.Option("--islands", "-k", min=1, help="Number of islands (arenas).")
    ] = 2,
    executor: Annotated[
        ExecutorName,
        typer.Option(help="inprocess: islands in turn in this process; ray: one actor each."),
    ] = ExecutorName.inprocess,
    migrate_every: Annotated[
        int, typer.Option(min=0, help="Life cycles between ring migrations (0: never).")
    ] = 1,
    migrants: Annotated[
        int, typer.Option(min=1, help="Agents each island sends to the next per migration.")
    ] = 2,
    out: Annotated[
        Path | None,
        typer.Option(help="Parent directory of the evolve directory (default: config out_dir)."),
    ] = None,
    evolve_id: Annotated[
        str | None,
        typer.Option(help="Name the evolve directory instead of <utc time>-<data>-<hash>-x<K>."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object instead of a summary.")
    ] = False,
) -> None:
    """Evolve K islands of CONFIG (own seeds, own run directories) with ring migration.

    Writes OUT/<evolve_id>/island-<k>/ (a normal run directory each) and evolve.json.
    Exit 2 on a bad config or options, or when --executor ray is asked for without Ray
    installed.
    """
    from scarline.cluster.evolve import execute_evolve
    from scarline.cluster.executor import IslandFailed
    from scarline.config import load_config
    from scarline.session import run_dir_in

    cfg = load_config(config)
    root = Path(out or cfg.out_dir)
    require_writable_dir(root, "--out" if out is not None else "out_dir")
    if evolve_id is not None:
        refuse_existing(run_dir_in(root, evolve_id), "evolve")
    try:
        with (
            sigterm_as_interrupt(),  # SIGTERM stops like Ctrl-C: every island's WAL flushed
            step_progress("evolve", "steps × islands") as progress,
        ):
            task = progress.add_task("evolve", total=None)
            summary = execute_evolve(
                cfg,
                islands=islands,
                executor=executor.value,
                migrate_every=migrate_every,
                migrants=migrants,
                out_dir=out,
                evolve_id=evolve_id,
                on_start=lambda n: progress.update(task, total=n),
                on_advance=lambda n: progress.advance(task, n),
            )
    except IslandFailed as err:
        if err.run_dir is not None:  # an unexpected error's traceback goes to its error.log
            note_run_dir(err.run_dir)
        raise
    except KeyboardInterrupt as stop:
        where = root / (evolve_id or "EVOLVE_ID")
        fail(
            f"interrupted by {signal_name(stop)}: every started island keeps its flushed WAL "
            f"and no manifest; `scarline wal seal {where}/island-<k>` finishes one",
            EXIT_INTERRUPTED,
        )
    if as_json:
        print_json(summary.to_json())
        return
    _print_summary(summary)


def _print_summary(summary: EvolveSummary) -> None:
    from rich.table import Table

    table = Table(title=f"evolve {summary.evolve_id}", title_justify="left")
    for name in ("island", "seed", "decision trace", "best policy", "best fitness", "immigrants"):
        table.add_column(name)
    for r in summary.islands:
        fitness = NA if r.best_fitness is None else f"{r.best_fitness:.3f}"
        table.add_row(
            str(r.island),
            str(r.seed),
            r.decision_trace_hash[:16],
            (r.best_policy_hash or NA)[:16],
            fitness,
            str(len(r.arrivals)),
        )
    console.print(table)
    period = summary.migrate_every * summary.every
    console.print(
        f"{len(summary.migrations)} migrations on a ring ({summary.migrants} agents per hop, "
        f"every {summary.migrate_every} life cycles = {period} steps), executor "
        f"{summary.executor}"
    )
    best = summary.best()
    if best is not None:
        console.print(
            f"best policy: [bold]{best.best_policy_hash}[/] (island {best.island}, "
            f"agent {best.best_lineage_id}, fitness {best.best_fitness:.3f})"
        )
    console.print(f"evolve directory: [bold]{summary.run_dir}[/]")

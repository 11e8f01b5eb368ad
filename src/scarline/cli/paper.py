"""``scarline paper``: a live paper session (the kernel of ``run`` on a live feed)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from scarline.cli.common import (
    console,
    fail,
    print_json,
    refuse_existing,
    require_file,
    require_run_dir,
    require_writable_dir,
)
from scarline.cli.signals import EXIT_INTERRUPTED, signal_name, signals_set

if TYPE_CHECKING:
    from scarline.paper.session import PaperOptions, PaperSession


def paper(
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="TOML config with a \\[live] section."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Parent directory of the run directory (default: config out_dir)."),
    ] = None,
    run_id: Annotated[
        str | None, typer.Option(help="Name the run instead of <utc time>-<feed>-<config hash>.")
    ] = None,
    resume: Annotated[
        Path | None,
        typer.Option(
            "--resume",
            help="Continue a stopped or crashed session's RUN_DIR from its WAL (no --config).",
        ),
    ] = None,
    max_steps: Annotated[
        int | None,
        typer.Option("--max-steps", min=1, help="Stop when the session has this many bars in all."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the same JSON object as `run --json`.")
    ] = False,
) -> None:
    """Trade a config on a live feed (ccxt, CoinGecko or a recorded feed) with the paper broker.

    `scarline paper --config FILE` starts a session; `scarline paper --resume RUN_DIR`
    continues one that stopped or crashed (SIGKILL included): its state is rebuilt from the
    WAL alone and the same hash chain goes on.

    Each closed bar passes the live G0 checks (a failing bar is journaled as a DataFault,
    never traded on); gaps and feed outages are journaled; the kernel steps once per bar and
    writes OUT/RUN_ID/ as `run` does (WAL, manifests, diary, report), plus feed.jsonl (what
    the feed gave) and heartbeat.json (last step and latencies). `scarline replay` of the
    run gives parity. `scarline kill RUN_DIR` flattens and halts it within one bar.

    Stops cleanly on Ctrl-C or SIGTERM (the run is closed with its manifest), after
    --max-steps bars, or when a recorded feed ends. Exit 2 on a bad config or --run-id.
    """
    import threading

    from scarline.paper.session import PaperOptions

    options = PaperOptions(
        out_dir=out, run_id=run_id, max_steps=max_steps, on_step=None if as_json else _progress
    )
    if resume is not None:
        if config is not None or run_id is not None:
            fail("--resume takes the run's own config and id: drop --config and --run-id", 2)
        require_run_dir(resume)
        from scarline.paper.resume import resume_session

        options.out_dir = resume.parent
        session = resume_session(resume, options)
    else:
        session = _new_session(config, out, run_id, options)
    stop = threading.Event()
    session.stop = stop
    try:
        with signals_set(stop):
            summary = session.run_session()
    except KeyboardInterrupt as interrupt:
        fail(
            f"interrupted twice ({signal_name(interrupt)}): the WAL is flushed, no manifest; "
            "`scarline paper --resume RUN_DIR` continues it, `scarline wal seal` closes it",
            EXIT_INTERRUPTED,
        )
    if as_json:
        print_json(summary.to_json())
        return
    console.print(f"paper session {summary.run_id}: {summary.steps} bars")
    if summary.killed_at is not None:
        console.print(f"[bold red]kill switch fired at step {summary.killed_at}[/]")
    console.print(f"run directory: [bold]{summary.run_dir}[/]")
    if summary.report is not None:
        console.print(f"report: [bold]{summary.report}[/]")


def _new_session(
    config: Path | None, out: Path | None, run_id: str | None, options: PaperOptions
) -> PaperSession:
    from scarline.config import load_config
    from scarline.paper.session import PaperSession
    from scarline.session import run_dir_in

    if config is None:
        fail("--config is required: a TOML config with a [live] section (configs/paper.toml)", 2)
    require_file(config, "config file")
    cfg = load_config(config)
    root = Path(out or cfg.out_dir)
    require_writable_dir(root, "--out" if out is not None else "out_dir")
    if run_id is not None:
        refuse_existing(run_dir_in(root, run_id), "run")
    return PaperSession(cfg, options)


def _progress(step: int) -> None:
    if step % 60 == 0:
        console.print(f"step {step}", style="dim")

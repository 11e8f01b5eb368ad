"""``scarline kill``: the operator's kill switch, as a flag file the kernel polls."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from scarline.cli.common import console, fail
from scarline.operator import KILL_FILE


def kill(
    run_dir: Annotated[Path | None, typer.Argument(help="Run directory to kill.")] = None,
    all_runs: Annotated[bool, typer.Option("--all", help="Kill every run under --runs.")] = False,
    runs: Annotated[Path, typer.Option(help="Runs root for --all / --clear.")] = Path("runs"),
    reason: Annotated[str, typer.Option(help="Recorded in the WAL KillSwitch event.")] = "",
    clear: Annotated[bool, typer.Option("--clear", help="Remove the flag file instead.")] = False,
) -> None:
    """Flatten every position and halt trading: in one run (RUN_DIR) or in all (--all).

    Writes a KILL flag file that running kernels poll; the kill is journaled in the WAL
    at the step it is seen, so the run still replays exactly. While RUNS/KILL exists, every
    new run under RUNS starts killed: remove it with --clear.
    """
    if (run_dir is None) == (not all_runs):
        fail("give either a RUN_DIR or --all")
    target_dir = runs if all_runs else run_dir
    assert target_dir is not None
    flag = target_dir / KILL_FILE
    if clear:
        if flag.exists():
            flag.unlink()
            console.print(f"cleared {flag}")
        else:
            console.print(f"no kill flag at {flag}")
        return
    if not target_dir.is_dir():
        fail(f"{target_dir}: no such directory")
    flag.write_text(reason or f"scarline kill {'--all' if all_runs else run_dir}", encoding="utf-8")
    console.print(f"[bold red]kill switch set[/]: {flag}")

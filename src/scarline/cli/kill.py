"""``scarline kill``: the operator's kill switch, as a flag file the kernel polls."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from scarline.cli.common import EXIT_BAD_INPUT, console, fail, print_json
from scarline.rundir import RunDir


def kill(
    run_dir: Annotated[Path | None, typer.Argument(help="Run directory to kill.")] = None,
    all_runs: Annotated[bool, typer.Option("--all", help="Kill every run under --runs.")] = False,
    runs: Annotated[Path, typer.Option(help="Runs root for --all / --clear.")] = Path("runs"),
    reason: Annotated[str, typer.Option(help="Recorded in the WAL KillSwitch event.")] = "",
    clear: Annotated[bool, typer.Option("--clear", help="Remove the flag file instead.")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help='Print {"flag", "action", "reason"} as JSON.')
    ] = False,
) -> None:
    """Flatten every position and halt trading: in one run (RUN_DIR) or in all (--all).

    Writes a KILL flag file that running kernels poll; the kill is journaled in the WAL
    at the step it is seen, so the run still replays exactly. While RUNS/KILL exists, every
    new run under RUNS starts killed: remove it with --clear. Exit 2 when neither or both of
    RUN_DIR and --all are given, or the directory is missing.
    """
    if (run_dir is None) == (not all_runs):
        fail("give either a RUN_DIR or --all", EXIT_BAD_INPUT)
    target_dir = runs if all_runs else run_dir
    assert target_dir is not None
    flag = RunDir(target_dir).kill
    if not target_dir.is_dir():
        what = "runs directory" if all_runs else "run directory"
        fail(f"{target_dir}: no such {what}", EXIT_BAD_INPUT)
    if clear:
        action = "cleared" if flag.exists() else "absent"
        flag.unlink(missing_ok=True)
        if as_json:
            print_json({"flag": str(flag), "action": action, "reason": None})
        elif action == "cleared":
            console.print(f"cleared {flag}", markup=False, soft_wrap=True)
        else:
            console.print(f"no kill flag at {flag}", markup=False, soft_wrap=True)
        return
    text = reason or f"scarline kill {'--all' if all_runs else run_dir}"
    flag.write_text(text, encoding="utf-8")
    if as_json:
        print_json({"flag": str(flag), "action": "set", "reason": text})
        return
    console.print(f"[bold red]kill switch set[/]: {escape(str(flag))}", soft_wrap=True)

"""``scarline kill``: the operator's kill switch, as a flag file the kernel polls."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from scarline.cli.common import EXIT_BAD_INPUT, console, fail, print_json, require_dir
from scarline.rundir import RunDir


def _check_run_dir(run_dir: Path) -> None:
    """Exit 2 unless ``run_dir`` is a run a flag can still stop: a directory with the
    run's ``config.toml`` or ``wal/`` (anything else never polls it: a runs root would
    quietly kill every run under it, any other directory nothing) and no ``manifest.json``
    (a closed run reads no flag again: "kill switch set" would be false comfort)."""
    paths = RunDir(run_dir)
    if not (paths.config.is_file() or paths.wal.is_dir()):
        fail(
            f"{run_dir}: not a run directory (no {RunDir.CONFIG} or {RunDir.WAL}/); "
            f"every run under a runs root: scarline kill --all --runs {run_dir}",
            EXIT_BAD_INPUT,
        )
    if paths.manifest.is_file():
        fail(
            f"{run_dir}: the run has finished ({RunDir.MANIFEST} exists); nothing to kill",
            EXIT_BAD_INPUT,
        )


def _write_flag(flag: Path, text: str) -> None:
    """Write the flag whole (a temporary file renamed): a kernel polling mid-write would
    journal an empty or cut reason."""
    tmp = flag.with_name(f".{flag.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, flag)


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
    RUN_DIR and --all are given, the directory is missing, RUN_DIR is not a run directory
    or its run has finished (manifest.json).
    """
    if (run_dir is None) == (not all_runs):
        fail("give either a RUN_DIR or --all", EXIT_BAD_INPUT)
    target_dir = runs if all_runs else run_dir
    assert target_dir is not None
    flag = RunDir(target_dir).kill
    require_dir(target_dir, "runs directory" if all_runs else "run directory")
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
    if not all_runs:
        _check_run_dir(target_dir)
    text = reason or f"scarline kill {'--all' if all_runs else run_dir}"
    _write_flag(flag, text)
    if as_json:
        print_json({"flag": str(flag), "action": "set", "reason": text})
        return
    console.print(f"[bold red]kill switch set[/]: {escape(str(flag))}", soft_wrap=True)

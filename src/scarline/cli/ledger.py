"""``scarline promote|approve|rollback`` and ``scarline ledger show|verify|register``: the policy
ledger (see ``docs/ledger.md``)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from scarline.cli.common import console, fail, print_json
from scarline.gates.ledger import (
    LEDGER_ENV,
    STAGES,
    Approval,
    Ledger,
    PolicyRegistered,
    Promotion,
    Rollback,
)

app = typer.Typer(help="The policy ledger: show and verify it.", no_args_is_help=True)

LedgerDir = Annotated[
    Path | None,
    typer.Option(
        "--ledger",
        envvar=LEDGER_ENV,
        help=f"Ledger directory (default: ./ledger, or ${LEDGER_ENV}).",
        show_default=False,
    ),
]
PolicyArg = Annotated[
    str, typer.Argument(help="A policy: agent id or vault policy hash (prefix), or a ledger id.")
]


def promote(
    policy: PolicyArg,
    to: Annotated[str, typer.Option("--to", help="Target stage (one step up), e.g. candidate.")],
    run: Annotated[
        Path | None, typer.Option("--run", help="Run directory the policy comes from (registers).")
    ] = None,
    ledger: LedgerDir = None,
) -> None:
    """Promote a policy one stage, re-checking and binding the evidence; refuses naming what
    is missing."""
    event = Ledger(ledger).promote(policy, to, run_dir=run)
    console.print(
        f"promoted {event.policy}: {event.from_stage} -> {event.to_stage} "
        f"({len(event.evidence)} pieces of evidence bound)",
        soft_wrap=True,
    )


def approve(
    policy: PolicyArg,
    by: Annotated[str, typer.Option("--by", help="Who approves.")],
    reason: Annotated[str, typer.Option("--reason", help="Why.")],
    stage: Annotated[
        str | None, typer.Option("--stage", help="Stage approved (default: the next one).")
    ] = None,
    ledger: LedgerDir = None,
) -> None:
    """Record a human approval (needed for LimitedLive and Production)."""
    event = Ledger(ledger).approve(policy, stage=stage, by=by, reason=reason)
    console.print(f"approved {event.policy} for {event.stage} by {event.by}", soft_wrap=True)


def rollback(
    target: Annotated[str, typer.Argument(help="A stage (e.g. production) or a policy.")],
    reason: Annotated[str, typer.Option("--reason", help="Why.")] = "",
    ledger: LedgerDir = None,
) -> None:
    """Return a stage to the policy promoted there before (a ledger entry itself)."""
    event = Ledger(ledger).rollback(target, reason=reason)
    now = event.to_policy or "nothing (the stage is empty)"
    console.print(
        f"rolled back {event.stage}: {event.from_policy} -> {now}",
        soft_wrap=True,
    )


@app.command("show")
def show(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    ledger: LedgerDir = None,
) -> None:
    """The current policy of each stage and the full history."""
    state = Ledger(ledger).state()
    if as_json:
        print_json(state.to_json())
        return
    stages = Table(title="current policy per stage")
    stages.add_column("stage")
    stages.add_column("policy")
    for stage in STAGES[1:]:
        stages.add_row(stage, escape(state.current(stage) or "-"))
    console.print(stages)
    history = Table(title="history")
    for col in ("seq", "time (UTC)", "kind", "what"):
        history.add_column(col)
    for rec in state.records:
        when = datetime.fromtimestamp(rec.ts / 1e9, UTC).strftime("%Y-%m-%d %H:%M:%S")
        history.add_row(str(rec.seq), when, rec.kind, escape(_describe(rec.data)))
    console.print(history)


@app.command("verify")
def verify_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    ledger: LedgerDir = None,
) -> None:
    """Re-check the hash chain; exit 1 naming the first bad record if the ledger was edited."""
    report = Ledger(ledger).verify()
    if as_json:
        print_json(report)
    elif report.ok:
        console.print(f"ledger intact: {report.records} records, head {report.head}")
    if not report.ok:
        fail(report.describe().replace("WAL check", "ledger check"))


@app.command("register")
def register(
    policy: PolicyArg,
    run: Annotated[Path, typer.Option("--run", help="Run directory the policy comes from.")],
    ledger: LedgerDir = None,
) -> None:
    """Enter a policy at Research, bound to its run's manifest (promote --run does this too)."""
    event = Ledger(ledger).register(policy, run)
    console.print(f"registered {event.policy} from {event.run_dir}", soft_wrap=True)


def _describe(data: object) -> str:
    if isinstance(data, PolicyRegistered):
        return f"{data.policy} registered from {data.run_dir}"
    if isinstance(data, Approval):
        return f"{data.policy} approved for {data.stage} by {data.by}: {data.reason}"
    if isinstance(data, Promotion):
        kinds = ", ".join(e.kind for e in data.evidence)
        return f"{data.policy} {data.from_stage} -> {data.to_stage} [{kinds}]"
    if isinstance(data, Rollback):
        return f"{data.stage}: {data.from_policy} -> {data.to_policy or '-'} ({data.reason})"
    return str(data)

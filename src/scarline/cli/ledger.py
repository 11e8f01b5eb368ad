"""``scarline promote|approve|rollback`` and ``scarline ledger show|verify|register``: the policy
ledger (see ``docs/ledger.md``)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from scarline.cli.common import (
    EXIT_BAD_INPUT,
    NA,
    console,
    fail,
    print_json,
    require_dir,
    require_run_dir,
    warn,
)
from scarline.cli.help import command, group

if TYPE_CHECKING:
    from scarline.ledger.state import LedgerState
    from scarline.ledger.store import Ledger

LEDGER_ENV = "SCARLINE_LEDGER"
"""= ``scarline.ledger.store.LEDGER_ENV`` (a test keeps them equal); spelled here because the
option needs it when ``--help`` is built, before any heavy import."""

app = group("The policy ledger: show, verify and register.")

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
AsJson = Annotated[
    bool, typer.Option("--json", help="Print the ledger record written as one JSON object.")
]
KeyName = Annotated[
    str | None,
    typer.Option(
        "--key",
        envvar="SCARLINE_KEY",
        help="Your key that signs this ledger write (default: default, or $SCARLINE_KEY).",
        show_default=False,
    ),
]


def _ledger(directory: Path | None, key: str | None = None) -> Ledger:
    from scarline.ledger.store import Ledger

    if directory is not None and (directory.exists() or directory.is_symlink()):
        require_dir(directory, "ledger directory")  # a file is bad input, not an empty ledger
    return Ledger(directory, key=key)


def promote(
    policy: PolicyArg,
    to: Annotated[str, typer.Option("--to", help="Target stage (one step up), e.g. candidate.")],
    run: Annotated[
        Path | None, typer.Option("--run", help="Run directory the policy comes from (registers).")
    ] = None,
    ledger: LedgerDir = None,
    key: KeyName = None,
    as_json: AsJson = False,
) -> None:
    """Promote a policy one stage, re-checking and binding the evidence.

    Every signature is checked: the run's manifest.sig, the gate report's gates.sig and the
    approvals'. A refusal (exit 1) names what is missing or what was changed. POLICY is a
    ledger id, an agent id (never a prefix) or a policy hash prefix; one that names several
    policies exits 2, listing them.
    """
    if run is not None:
        require_run_dir(run)
    event = _ledger(ledger, key).promote(policy, to, run_dir=run)
    if as_json:
        print_json(event)
        return
    console.print(
        f"promoted {event.policy}: {event.from_stage} -> {event.to_stage} "
        f"({len(event.evidence)} pieces of evidence bound)",
        soft_wrap=True,
        markup=False,
    )


def approve(
    policy: PolicyArg,
    by: Annotated[str, typer.Option("--by", help="Who approves.")],
    reason: Annotated[str, typer.Option("--reason", help="Why.")],
    stage: Annotated[
        str | None, typer.Option("--stage", help="Stage approved (default: the next one).")
    ] = None,
    flag: Annotated[
        list[str] | None,
        typer.Option(
            "--flag",
            help="A gate-report flag this approval accepts (e.g. implausible_edge); repeat.",
        ),
    ] = None,
    ledger: LedgerDir = None,
    key: KeyName = None,
    as_json: AsJson = False,
) -> None:
    """Record a human approval of a policy for a stage, signed with your key.

    Needed for LimitedLive and Production, and from Shadow on for a policy whose gate report
    raised a flag: name the flag with --flag. An approval for a stage is given while the
    policy is at the stage below it, by a key the ledger policy lets approve that stage.
    """
    book = _ledger(ledger, key)
    event = book.approve(policy, stage=stage, by=by, reason=reason, flags=flag or ())
    if as_json:
        print_json(event)
        return
    accepted = f" (accepts {', '.join(event.flags)})" if event.flags else ""
    console.print(
        f"approved {event.policy} for {event.stage} by {event.by}{accepted}",
        soft_wrap=True,
        markup=False,
    )


def rollback(
    target: Annotated[str, typer.Argument(help="A stage (e.g. production) or a policy.")],
    reason: Annotated[str, typer.Option("--reason", help="Why.")] = "",
    ledger: LedgerDir = None,
    key: KeyName = None,
    as_json: AsJson = False,
) -> None:
    """Return a stage to the policy promoted there before (a ledger entry itself)."""
    event = _ledger(ledger, key).rollback(target, reason=reason)
    if as_json:
        print_json(event)
        return
    now = event.to_policy or "nothing (the stage is empty)"
    console.print(
        f"rolled back {event.stage}: {event.from_policy} -> {now}", soft_wrap=True, markup=False
    )


@command(app, "show")
def show(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    ledger: LedgerDir = None,
) -> None:
    """The current policy of each stage and the full history."""
    state = _ledger(ledger).state()
    if as_json:
        print_json(state.to_json())
        return
    _print_state(state)


def _print_state(state: LedgerState) -> None:
    from rich.table import Table

    from scarline.ledger.state import STAGES

    stages = Table(title="current policy per stage")
    stages.add_column("stage")
    stages.add_column("policy")
    for stage in STAGES[1:]:
        stages.add_row(stage, escape(state.current(stage) or NA))
    console.print(stages)
    history = Table(title="history")
    for col in ("seq", "time (UTC)", "kind", "what"):
        history.add_column(col)
    for rec in state.records:
        when = datetime.fromtimestamp(rec.ts / 1e9, UTC).strftime("%Y-%m-%d %H:%M:%S")
        history.add_row(str(rec.seq), when, rec.kind, escape(_describe(rec.data)))
    console.print(history)


@command(app, "verify")
def verify_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    ledger: LedgerDir = None,
    evidence: Annotated[
        bool,
        typer.Option(
            "--evidence",
            help="Also re-run each policy's run-directory evidence checks (artifacts, replay).",
        ),
    ] = False,
) -> None:
    """Check the ledger: its hash chain, its signed anchor and every signature.

    A deleted, cut or added record, an edited record, policy.toml or anchor, an approval or
    policy version not signed by a key allowed to, and a registered run's manifest or gate
    report changed since it was signed: each exits 1, naming it. Exit 2 when there is no
    ledger directory.
    """
    book = _ledger(ledger)
    if not book.dir.is_dir():
        fail(f"no ledger at {book.dir}", EXIT_BAD_INPUT)
    report = book.verify(evidence=evidence)
    if as_json:
        print_json(report)
    else:
        for note in report.notes:
            warn(note)
        if report.ok:
            console.print(report.describe(), markup=False)
    if not report.ok:
        fail(report.describe())


@command(app, "anchor")
def anchor_cmd(
    ledger: LedgerDir = None,
    key: KeyName = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Sign the ledger's anchor: adopt an unanchored ledger, or record an edited policy.toml.

    A ledger without an anchor.json is taken as it is (check it first) and policy.toml, or a
    default policy trusting your key, becomes its first recorded policy. An edited
    policy.toml is recorded as the policy in force, signed by your key, which the policy in
    force must let write the ledger. A cut or edited ledger is refused, never re-anchored.
    """
    result = _ledger(ledger, key).anchor()
    if as_json:
        print_json(result)
        return
    console.print(
        f"ledger {result['ledger']}: {result['status']} ({result['records']} records, "
        f"policy sha256 {str(result['policy_sha256'])[:16]}…, key {result['key_id']})",
        soft_wrap=True,
        markup=False,
    )


@command(app, "register")
def register(
    policy: PolicyArg,
    run: Annotated[Path, typer.Option("--run", help="Run directory the policy comes from.")],
    ledger: LedgerDir = None,
    key: KeyName = None,
    as_json: AsJson = False,
) -> None:
    """Enter a policy at Research, bound to its run's manifest (promote --run does this too)."""
    require_run_dir(run)
    event = _ledger(ledger, key).register(policy, run)
    if as_json:
        print_json(event)
        return
    console.print(f"registered {event.policy} from {event.run_dir}", soft_wrap=True, markup=False)


def _describe(data: object) -> str:
    from scarline.ledger.records import Approval, PolicyRegistered, PolicySet, Promotion, Rollback

    if isinstance(data, PolicyRegistered):
        return f"{data.policy} registered from {data.run_dir}"
    if isinstance(data, Approval):
        flags = f" [accepts {', '.join(data.flags)}]" if data.flags else ""
        signed = "" if data.signature else " (unsigned)"
        return f"{data.policy} approved for {data.stage} by {data.by}{signed}{flags}: {data.reason}"
    if isinstance(data, Promotion):
        kinds = ", ".join(e.kind for e in data.evidence)
        return f"{data.policy} {data.from_stage} -> {data.to_stage} [{kinds}]"
    if isinstance(data, Rollback):
        return f"{data.stage}: {data.from_policy} -> {data.to_policy or NA} ({data.reason})"
    if isinstance(data, PolicySet):
        return f"policy.toml {data.sha256[:16]}… in force"
    return str(data)

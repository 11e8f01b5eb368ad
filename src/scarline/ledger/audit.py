"""``scarline ledger verify``: the whole ledger checked, read-only — the hash chain, the
signed anchor (so a deleted or cut record shows), every recorded policy version, every
approval's signature, and each registered policy's signed run manifest and gate report;
with ``evidence`` also the run-directory evidence a promotion checks (artifacts, replay)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import msgspec

from scarline.digest import file_sha256
from scarline.journal.recovery import torn
from scarline.journal.scan import BadRecord, scan
from scarline.ledger.anchor import Anchor, compare, read_anchor
from scarline.ledger.checks import collect_evidence
from scarline.ledger.policy import POLICY_FILE, LedgerPolicy
from scarline.ledger.records import LEDGER_ID, Approval, LedgerError, LedgerRecord, PolicySet
from scarline.ledger.signed import (
    approval_problem,
    file_signature,
    policy_chain_problems,
)
from scarline.ledger.state import STAGES, LedgerState
from scarline.rundir import RunDir


class AnchorInfo(msgspec.Struct, frozen=True):
    records: int
    head: str
    key_id: str
    pending: bool


class LedgerReport(msgspec.Struct, frozen=True):
    """``ok`` when nothing is wrong; ``first_bad``: the first record failing the chain;
    ``problems``: everything else wrong, each naming what; ``notes``: states that are not
    tampering (an interrupted write the anchor explains, approvals older than signatures)."""

    ok: bool
    records: int
    head: str
    first_bad: BadRecord | None
    problems: list[str] = []
    notes: list[str] = []
    anchor: AnchorInfo | None = None
    policy_sha256: str | None = None
    evidence_checked: bool = False

    def describe(self) -> str:
        """One line: ``ledger intact: …`` or ``ledger check failed …: what``."""
        if self.ok:
            return f"ledger intact: {self.records} records, head {self.head}"
        bad = self.first_bad
        if bad is not None:
            where = f"segment {bad.segment}, seq {bad.seq} (line {bad.line})"
            return f"ledger check failed at {where}: {bad.reason}"
        return "ledger check failed: " + "; ".join(self.problems)


Reader = Callable[[int], list[LedgerRecord]]


def torn_tail(
    directory: Path,
    found_bad: BadRecord | None,
    is_tail: bool,
    offset: int,
    what: str = "is corrupt",
) -> int:
    """Bytes of a torn (incomplete) last line; 0 when the last line is complete.
    Raises :class:`LedgerError` when the first bad line is anything but a torn tail."""
    if found_bad is None:
        return 0
    segment = directory / found_bad.segment
    if not (is_tail and torn(segment, offset)):
        raise LedgerError(
            f"ledger {directory} {what} at segment {found_bad.segment}, seq {found_bad.seq} "
            f"(line {found_bad.line}): {found_bad.reason}"
        )
    return segment.stat().st_size - offset


def audit(directory: Path, read: Reader, *, evidence: bool = False) -> LedgerReport:
    found = scan(directory, LEDGER_ID)
    head = found.head.hex()
    try:
        torn_bytes = torn_tail(directory, found.bad, found.bad_is_tail, found.bad_offset)
    except LedgerError:
        return LedgerReport(ok=False, records=found.records, head=head, first_bad=found.bad)
    problems: list[str] = []
    notes: list[str] = []
    records = read(found.records)
    state = LedgerState()
    try:
        for rec in records:
            state.apply(rec)
    except (LedgerError, KeyError) as err:
        problems.append(f"the records do not fold into a ledger: {err}")
    try:
        anchor = read_anchor(directory)
    except LedgerError as err:
        anchor, info = None, None
        problems.append(str(err))
    else:
        info = _anchor(anchor, records, torn_bytes, state.policy, problems, notes)
    _policies(directory, records, state, problems, notes)
    for rec in records:
        if isinstance(rec.data, Approval):
            why = approval_problem(rec, state.context.get(rec.seq))
            if " is not signed " in why:
                notes.append(f"{why}: it cannot satisfy a promotion")
            elif why:
                problems.append(why)
    for pid, st in state.policies.items():
        _runs(pid, st.stage, state, problems, evidence)
    return LedgerReport(
        ok=not problems,
        records=found.records,
        head=head,
        first_bad=None,
        problems=problems,
        notes=notes,
        anchor=info,
        policy_sha256=state.policy.sha256 if state.policy is not None else None,
        evidence_checked=evidence,
    )


def _anchor(
    anchor: Anchor | None,
    records: list[LedgerRecord],
    torn_bytes: int,
    policy: LedgerPolicy | None,
    problems: list[str],
    notes: list[str],
) -> AnchorInfo | None:
    if anchor is None:
        if records or torn_bytes:
            problems.append(
                f"no anchor.json: the ledger's length cannot be checked ({len(records)} "
                "records; written before anchors, or the anchor was deleted); "
                "`scarline ledger anchor` anchors it as it is"
            )
        return None
    signer = anchor.signer()
    key_id = signer.key_id if signer is not None else ""
    info = AnchorInfo(anchor.records, anchor.head, key_id, anchor.pending is not None)
    if signer is None:
        problems.append("anchor.json: the signature does not verify (forged or edited)")
        return info
    if policy is not None and not policy.may("ledger", signer):
        problems.append(
            f"anchor.json is signed by key {signer.key_id}, which the ledger policy does not "
            f"let write the ledger (roles.ledger: {policy.holders('ledger')})"
        )
    check = compare(anchor, [r.h for r in records], torn_bytes)
    if check.problem:
        problems.append(check.problem)
    elif check.note:
        notes.append(check.note)
    return info


def _policies(
    directory: Path,
    records: list[LedgerRecord],
    state: LedgerState,
    problems: list[str],
    notes: list[str],
) -> None:
    """Each recorded policy version was signed by a writer of the one before; the file on
    disk is the one in force."""
    problems.extend(policy_chain_problems(records))
    sets = [rec.data for rec in records if isinstance(rec.data, PolicySet)]
    recorded = sets[-1] if sets else None
    if recorded is None:
        if records:
            problems.append(
                "no policy recorded: nobody is trusted to sign runs, gate reports or approvals "
                "(written before policies; `scarline ledger anchor` records policy.toml)"
            )
        return
    path = directory / POLICY_FILE
    if not path.is_file():
        notes.append(f"{POLICY_FILE} is missing; the next write restores the recorded policy")
        return
    sha = file_sha256(path)
    if sha != recorded.sha256:
        problems.append(
            f"{POLICY_FILE} differs from the policy in force (recorded at seq "
            f"{state.policy_seq}): record the change with `scarline ledger anchor` (a ledger "
            "key of the policy in force signs it), or restore the file"
        )


def _runs(pid: str, stage: str, state: LedgerState, problems: list[str], evidence: bool) -> None:
    """The signed run manifest (from Candidate) and gate report (from Shadow) of a policy."""
    at = STAGES.index(stage)
    if at < STAGES.index("Candidate"):
        return
    st = state.policies[pid]
    run = Path(st.registered.run_dir)
    if not run.is_dir():
        problems.append(f"{pid} ({stage}): its run directory {run} is gone")
        return
    if evidence:  # every check a promotion makes of the run directory, signatures included
        _, missing = collect_evidence(st.registered, stage, state, approvals=False)
        problems.extend(f"{pid} ({stage}): missing evidence: {m}" for m in missing)
        return
    wanted = [RunDir.MANIFEST] + ([RunDir.GATES] if at >= STAGES.index("Shadow") else [])
    for name in wanted:
        item, why = file_signature(run, name, state.policy)
        if item is None:
            problems.append(f"{pid} ({stage}): {why}")
        elif name == RunDir.MANIFEST and item.sha256 != st.registered.manifest_sha256:
            problems.append(  # another run's manifest, signed as genuinely as this one's
                f"{pid} ({stage}): manifest.json (digest {item.sha256[:16]}…) is not the "
                f"manifest the ledger registered ({st.registered.manifest_sha256[:16]}…)"
            )
        elif name == RunDir.GATES and st.gate_report_sha256 not in (None, item.sha256):
            problems.append(
                f"{pid} ({stage}): gates.json (sha256 {item.sha256[:16]}…) is not the report "
                f"the ledger bound ({st.gate_report_sha256[:16]}…)"
            )

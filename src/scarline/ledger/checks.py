"""The evidence a promotion re-checks from the run directory the policy was registered from:
the manifest, the artifacts' sha256, replay parity, the gate report and its flags' approvals,
and the human approval (see :data:`REQUIRES` and ``docs/ledger.md``)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import msgspec

from scarline.digest import file_sha256, sha256_hex
from scarline.errors import ScarlineError
from scarline.gating.config import builtin_sha256
from scarline.gating.flags import FLAGGED_FROM, FLAGS
from scarline.journal.signature import manifest_digest
from scarline.ledger.policy import LedgerPolicy
from scarline.ledger.records import Approval, EvidenceItem, LedgerError, PolicyRegistered
from scarline.ledger.signed import approval_problem, approver, file_signature
from scarline.ledger.state import STAGES, LedgerState
from scarline.report.gate_report import AgentGates, GateReportError, decode_gate_report
from scarline.rundir import RunDir

G3_REQUIRED_KEYS = ("fees_x2", "regime_sliced")
"""Figures G3 must carry for a Shadow promotion: cost sensitivity and regime-sliced metrics."""

_CANDIDATE = ("manifest", "manifest_signature", "artifacts", "replay_parity")
_SHADOW = (
    *_CANDIDATE,
    "gate_report",
    "gates_signature",
    "gates_pass",
    "fees_x2",
    "regime_sliced",
)
REQUIRES: dict[str, tuple[str, ...]] = {
    "Candidate": _CANDIDATE,
    "Shadow": _SHADOW,
    "LimitedLive": (*_SHADOW, "approval"),
    "Production": (*_SHADOW, "approval"),
}
"""Evidence each stage requires, cumulative: a promotion re-checks all of it."""


def decode_manifest(path: Path, raw: bytes) -> dict[str, Any]:
    try:
        manifest = msgspec.json.decode(raw)
    except msgspec.DecodeError as err:
        raise LedgerError(f"{path}: not valid JSON: {err}") from None
    except RecursionError:  # nested thousands deep: no run writes that
        raise LedgerError(f"{path}: not a run manifest (values nested too deeply)") from None
    if not isinstance(manifest, dict):
        raise LedgerError(f"{path}: not a run manifest")
    return manifest


def _sha256_json(obj: object) -> str:
    return hashlib.sha256(msgspec.json.encode(obj, order="sorted")).hexdigest()


def manifest_sha256(manifest: dict[str, Any]) -> str:
    """sha256 of a run manifest's canonical JSON without ``gate_report_sha256``: the one
    field written after the run (by ``scarline gates``), itself checked against gates.json,
    so gating a registered run does not read as the run having changed. It is also what the
    run key signs (:func:`scarline.journal.signature.manifest_digest`)."""
    return manifest_digest(manifest)


def sealed_refusal(path: Path, manifest: dict[str, Any]) -> str:
    """Why a run finished by ``scarline wal seal`` is no evidence ("" for a run that closed)."""
    if not manifest.get("sealed_after_crash"):
        return ""
    return (
        f"{path} is sealed_after_crash: `scarline wal seal` finished it from the WAL of a "
        "run that crashed, so it has no weights or artifacts and may cover a prefix only; "
        "a sealed run is not promotion evidence (run it again)"
    )


def collect_evidence(
    reg: PolicyRegistered, stage: str, state: LedgerState, *, approvals: bool = True
) -> tuple[list[EvidenceItem], list[str]]:
    """Check everything ``stage`` requires for ``reg``'s policy; ``(evidence, missing)``.
    ``approvals=False`` checks only the run directory (``ledger verify --evidence``)."""
    need = REQUIRES[stage]
    policy = state.policy
    known = state.policies.get(reg.policy)
    bound_gates = known.gate_report_sha256 if known is not None else reg.gate_report_sha256
    run = Path(reg.run_dir)
    items: list[EvidenceItem] = []
    missing: list[str] = []
    manifest_path = RunDir(run).manifest
    manifest: dict[str, Any] | None = None
    if not manifest_path.is_file():
        missing.append(f"run manifest ({manifest_path} not found)")
    else:
        decoded = decode_manifest(manifest_path, manifest_path.read_bytes())
        sha = manifest_sha256(decoded)
        if sha != reg.manifest_sha256:
            missing.append(f"run manifest ({manifest_path} changed since registration)")
        elif refusal := sealed_refusal(manifest_path, decoded):
            missing.append(f"a finished run ({refusal})")
        else:
            manifest = decoded
            items.append(EvidenceItem(kind="manifest", path=RunDir.MANIFEST, sha256=sha))
        signed, problem = file_signature(run, RunDir.MANIFEST, policy)
        if signed is None:
            hint = "; runs are signed when they close, with a key made by `scarline keys init`"
            missing.append(
                f"signed run manifest ({problem}{hint if 'not signed' in problem else ''})"
            )
        else:
            items.append(signed)
    if manifest is not None:
        _artifacts(run, manifest, items, missing)
        _replay(run, manifest, items, missing)
    if "gate_report" in need:
        verdicts = _gates(run, reg, manifest, bound_gates, policy, items, missing)
        signed, problem = file_signature(run, RunDir.GATES, policy)
        if signed is None:
            if RunDir(run).gates.is_file():  # there, but not as a gate key signed it
                missing.append(f"signed gate report ({problem})")
            verdicts = None
        else:
            items.append(signed)
        if verdicts is not None and approvals:
            _flag_approvals(reg, stage, sorted(set(verdicts.flags)), state, items, missing)
    if "approval" in need and approvals:
        _approval(reg, stage, state, items, missing)
    return items, missing


def _approval(
    reg: PolicyRegistered,
    stage: str,
    state: LedgerState,
    items: list[EvidenceItem],
    missing: list[str],
) -> None:
    """The newest approval for ``stage`` that is signed by an approver of ``stage`` and was
    given while the policy was at the stage below, after it got there (so one given at
    Shadow never counts for Production)."""
    below = STAGES[STAGES.index(stage) - 1]
    since = state.policies[reg.policy].since
    why = ""
    for rec in reversed(state.approvals.get((reg.policy, stage), [])):
        ctx = state.context.get(rec.seq)
        given_at = ctx.given_at if ctx is not None else "?"
        if given_at != below or rec.seq < since:
            why = why or (
                f"the approval at seq {rec.seq} was given at {given_at}; {stage} needs one "
                f"given while the policy is at {below}"
                + (" (since it got there)" if given_at == below else "")
            )
            continue
        if problem := approval_problem(rec, ctx):
            why = why or problem
            continue
        assert isinstance(rec.data, Approval)
        items.append(
            EvidenceItem(
                kind="approval",
                path=f"ledger#seq={rec.seq}",
                sha256=rec.h,
                detail=f"by {rec.data.by}, signed by {approver(rec, ctx)}: {rec.data.reason}",
            )
        )
        return
    missing.append(
        f"human approval for {stage} ("
        + (f"{why}; " if why else "")
        + f"`scarline approve {reg.policy} --stage {stage} --by NAME --reason ...`)"
    )


def _artifacts(
    run: Path, manifest: dict[str, Any], items: list[EvidenceItem], missing: list[str]
) -> None:
    """Re-hash every artifact and WAL segment the manifest names."""
    expected: dict[str, str] = dict(manifest.get("artifacts") or {})
    for seg in manifest.get("wal_segments") or []:
        expected[f"wal/{seg['name']}"] = seg["sha256"]
    bad: list[str] = []
    for rel, sha in sorted(expected.items()):
        path = run / rel
        if not path.is_file():
            bad.append(f"{rel} missing")
        elif file_sha256(path) != sha:
            bad.append(f"{rel} sha256 differs from the manifest")
    if bad:
        missing.append("intact artifacts (" + ", ".join(bad) + ")")
    else:
        items.append(
            EvidenceItem(
                kind="artifacts",
                path="manifest.json#artifacts+wal_segments",
                sha256=_sha256_json(expected),
                detail=f"{len(expected)} files re-hashed",
            )
        )


def _replay(
    run: Path, manifest: dict[str, Any], items: list[EvidenceItem], missing: list[str]
) -> None:
    from scarline.replayer import replay_run  # the kernel: imported only when promoting

    try:
        result = replay_run(run)
    except ScarlineError as err:
        missing.append(f"replay parity (replay failed: {err})")
        return
    if not result.parity:  # the record-by-record comparison of `scarline replay`
        missing.append(f"replay parity ({result.describe()})")
        return
    if not result.config_matches_manifest:  # as `scarline replay` refuses it (exit 3)
        missing.append(
            f"replay parity from the recorded config ({RunDir.CONFIG} is not the config "
            f"whose config_hash the manifest records: edited after the run; the records "
            "replay, but a deployment would read the edited one)"
        )
        return
    items.append(
        EvidenceItem(
            kind="replay_parity",
            path="manifest.json#decision_trace_hash",
            sha256=hashlib.sha256(result.replayed.encode()).hexdigest(),
            detail=(
                f"decision trace {result.replayed} and {result.describe()} "
                f"over {result.steps} steps"
            ),
        )
    )


def _flag_approvals(
    reg: PolicyRegistered,
    stage: str,
    flags: list[str],
    state: LedgerState,
    items: list[EvidenceItem],
    missing: list[str],
) -> None:
    """Every flag of the policy's gate report needs a human approval naming it, given for a
    stage from Shadow up to ``stage`` (one given for Shadow still holds further up, until a
    rollback voids it)."""
    stages = STAGES[STAGES.index(FLAGGED_FROM) : STAGES.index(stage) + 1]
    approvals = [rec for s in stages for rec in state.approvals.get((reg.policy, s), [])]
    for flag in flags:
        naming = [r for r in approvals if isinstance(r.data, Approval) and flag in r.data.flags]
        problems = [approval_problem(r, state.context.get(r.seq)) for r in naming]
        valid = [r for r, p in zip(naming, problems, strict=True) if not p]
        if not valid:
            why = f"{problems[-1]}; " if problems else ""
            missing.append(
                f"human approval naming flag {flag} (gates.json flags this policy: "
                f"{FLAGS.get(flag, 'unknown flag')}; {why}`scarline approve {reg.policy} "
                f"--stage {stage} --flag {flag} --by NAME --reason ...`)"
            )
            continue
        naming = valid
        rec = max(naming, key=lambda r: r.seq)
        assert isinstance(rec.data, Approval)
        items.append(
            EvidenceItem(
                kind="flag_approval",
                path=f"ledger#seq={rec.seq}",
                sha256=rec.h,
                detail=f"{flag} accepted by {rec.data.by}: {rec.data.reason}",
            )
        )


def thresholds_problem(sha256: str, policy: LedgerPolicy | None) -> str:
    """Why verdicts judged by the thresholds of ``sha256`` are no evidence ("" when they
    are): anyone may gate with laxer ones (``alpha = 0.99``) and sign the report, so only
    the built-in defaults, and those the ledger's policy names, count."""
    default = builtin_sha256()
    if sha256 == default or (policy is not None and sha256 in policy.gate_thresholds):
        return ""
    used = f"thresholds sha256 {sha256[:16]}…" if sha256 else "thresholds not recorded"
    return (
        f"gates.json was judged with {used}: neither the built-in defaults' "
        f"({default[:16]}…) nor ones policy.toml accepts; to accept them add the full sha256 "
        "to [gates] thresholds_sha256 and record it with `scarline ledger anchor`"
    )


def _gates(
    run: Path,
    reg: PolicyRegistered,
    manifest: dict[str, Any] | None,
    bound_here: str | None,
    policy: LedgerPolicy | None,
    items: list[EvidenceItem],
    missing: list[str],
) -> AgentGates | None:
    """Check the policy's verdicts in gates.json; they are returned when the report is
    readable and has them (even when a gate failed), else None. ``bound_here``: the sha256
    the ledger bound already (at registration or the Shadow promotion); the thresholds
    judged by must be the built-in ones or ones ``policy`` accepts."""
    path = RunDir(run).gates
    if not path.is_file():
        missing.append(f"gate report gates.json ({path} not found; run `scarline gates`)")
        return None
    raw = path.read_bytes()
    sha = sha256_hex(raw)
    bound = (manifest or {}).get("gate_report_sha256")
    if bound and bound != sha:
        missing.append(f"gate report gates.json (sha256 {sha} != manifest gate_report_sha256)")
        return None
    if bound_here and bound_here != sha:
        missing.append(
            f"gate report gates.json (sha256 {sha[:16]}… changed since the ledger bound "
            f"{bound_here[:16]}…)"
        )
        return None
    try:
        report = decode_gate_report(raw, path)
    except GateReportError as err:
        missing.append(f"gate report gates.json ({err})")
        return None
    agents = report.agents
    if problem := thresholds_problem(report.thresholds_sha256, policy):
        missing.append(f"gate thresholds the ledger accepts ({problem})")
    keys = [k for k in (str(reg.agent) if reg.agent is not None else None, reg.policy_hash) if k]
    key = next((k for k in keys if k in agents), None)
    if key is None and reg.policy_hash is not None:  # gates.json is keyed by agent id
        key = next((k for k, v in agents.items() if v.policy_hash == reg.policy_hash), None)
    if key is None:
        missing.append(f"gate verdicts for {reg.policy} in gates.json (no agent {keys[0]!r})")
        return None
    items.append(
        EvidenceItem(
            kind="gate_report",
            path=RunDir.GATES,
            sha256=sha,
            detail="bound in manifest" if bound else "not bound in manifest; bound here",
        )
    )
    verdicts = agents[key]
    failed = verdicts.not_passed()
    if verdicts.passed is not True and not failed:
        failed.append("overall pass")
    if failed:
        missing.append(f"passing gates for agent {key} (not passed: {', '.join(failed)})")
    else:
        items.append(
            EvidenceItem(
                kind="gates_pass",
                path=f"{RunDir.GATES}#/agents/{key}",
                sha256=_sha256_json(verdicts),
                detail="G0-G4 pass",
            )
        )
    for name, label in zip(
        G3_REQUIRED_KEYS, ("cost sensitivity", "regime-sliced metrics"), strict=True
    ):
        value = getattr(verdicts.G3, name, None)
        if value is None:
            missing.append(f"{label} (gates.json agents.{key}.G3.{name})")
        else:
            items.append(
                EvidenceItem(
                    kind=name,
                    path=f"{RunDir.GATES}#/agents/{key}/G3/{name}",
                    sha256=_sha256_json(value),
                )
            )
    return verdicts

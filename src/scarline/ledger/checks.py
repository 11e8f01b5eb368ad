"""The evidence a promotion re-checks from the run directory the policy was registered from:
the manifest, the artifacts' sha256, replay parity, the gate report and its flags' approvals,
and the human approval (see :data:`REQUIRES` and ``docs/ledger.md``)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import msgspec

from scarline.errors import ScarlineError
from scarline.gates.flags import FLAGGED_FROM, FLAGS, report_flags
from scarline.ledger.records import Approval, EvidenceItem, LedgerError, PolicyRegistered
from scarline.ledger.state import STAGES, LedgerState

GATES = ("G0", "G1", "G2", "G3", "G4")
G3_REQUIRED_KEYS = ("fees_x2", "regime_sliced")
"""Figures G3 must carry for a Shadow promotion: cost sensitivity and regime-sliced metrics."""

_CANDIDATE = ("manifest", "artifacts", "replay_parity")
_SHADOW = (*_CANDIDATE, "gate_report", "gates_pass", "fees_x2", "regime_sliced")
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
    if not isinstance(manifest, dict):
        raise LedgerError(f"{path}: not a run manifest")
    return manifest


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _sha256_json(obj: object) -> str:
    return hashlib.sha256(msgspec.json.encode(obj, order="sorted")).hexdigest()


def manifest_sha256(manifest: dict[str, Any]) -> str:
    """sha256 of a run manifest's canonical JSON without ``gate_report_sha256``: the one
    field written after the run (by ``scarline gates``), itself checked against gates.json,
    so gating a registered run does not read as the run having changed."""
    return _sha256_json({k: v for k, v in manifest.items() if k != "gate_report_sha256"})


def collect_evidence(
    reg: PolicyRegistered, stage: str, state: LedgerState
) -> tuple[list[EvidenceItem], list[str]]:
    """Check everything ``stage`` requires for ``reg``'s policy; ``(evidence, missing)``."""
    need = REQUIRES[stage]
    run = Path(reg.run_dir)
    items: list[EvidenceItem] = []
    missing: list[str] = []
    manifest_path = run / "manifest.json"
    manifest: dict[str, Any] | None = None
    if not manifest_path.is_file():
        missing.append(f"run manifest ({manifest_path} not found)")
    else:
        decoded = decode_manifest(manifest_path, manifest_path.read_bytes())
        sha = manifest_sha256(decoded)
        if sha != reg.manifest_sha256:
            missing.append(f"run manifest ({manifest_path} changed since registration)")
        else:
            manifest = decoded
            items.append(EvidenceItem(kind="manifest", path="manifest.json", sha256=sha))
    if manifest is not None:
        _artifacts(run, manifest, items, missing)
        _replay(run, manifest, items, missing)
    if "gate_report" in need:
        verdicts = _gates(run, reg, manifest, items, missing)
        if verdicts is not None:
            _flag_approvals(reg, stage, report_flags(verdicts), state, items, missing)
    if "approval" in need:
        found = state.approvals.get((reg.policy, stage))
        if not found:
            missing.append(
                f"human approval for {stage} (`scarline approve {reg.policy} "
                f"--stage {stage} --by NAME --reason ...`)"
            )
        else:
            rec = found[-1]
            assert isinstance(rec.data, Approval)
            items.append(
                EvidenceItem(
                    kind="approval",
                    path=f"ledger#seq={rec.seq}",
                    sha256=rec.h,
                    detail=f"by {rec.data.by}: {rec.data.reason}",
                )
            )
    return items, missing


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
        elif _sha256_file(path) != sha:
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
    from scarline.replay import replay_run  # the kernel: imported only when promoting

    try:
        result = replay_run(run)
    except ScarlineError as err:
        missing.append(f"replay parity (replay failed: {err})")
        return
    if not result.parity:  # the record-by-record comparison of `scarline replay`
        missing.append(f"replay parity ({result.describe()})")
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
        if not naming:
            missing.append(
                f"human approval naming flag {flag} (gates.json flags this policy: "
                f"{FLAGS.get(flag, 'unknown flag')}; `scarline approve {reg.policy} --stage "
                f"{stage} --flag {flag} --by NAME --reason ...`)"
            )
            continue
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


def _gates(
    run: Path,
    reg: PolicyRegistered,
    manifest: dict[str, Any] | None,
    items: list[EvidenceItem],
    missing: list[str],
) -> dict[str, Any] | None:
    """Check the policy's verdicts in gates.json; they are returned when the report is
    readable and has them (even when a gate failed), else None."""
    path = run / "gates.json"
    if not path.is_file():
        missing.append(f"gate report gates.json ({path} not found; run `scarline gates`)")
        return None
    raw = path.read_bytes()
    sha = hashlib.sha256(raw).hexdigest()
    bound = (manifest or {}).get("gate_report_sha256")
    if bound and bound != sha:
        missing.append(f"gate report gates.json (sha256 {sha} != manifest gate_report_sha256)")
        return None
    try:
        report = msgspec.json.decode(raw)
        agents = report["agents"]
        if not isinstance(agents, dict):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        missing.append(f"gate report gates.json ({path} has no 'agents' object)")
        return None
    keys = [k for k in (str(reg.agent) if reg.agent is not None else None, reg.policy_hash) if k]
    key = next((k for k in keys if k in agents), None)
    if key is None and reg.policy_hash is not None:  # gates.json is keyed by agent id
        key = next(
            (
                k
                for k, v in agents.items()
                if isinstance(v, dict) and v.get("policy_hash") == reg.policy_hash
            ),
            None,
        )
    if key is None:
        missing.append(f"gate verdicts for {reg.policy} in gates.json (no agent {keys[0]!r})")
        return None
    items.append(
        EvidenceItem(
            kind="gate_report",
            path="gates.json",
            sha256=sha,
            detail="bound in manifest" if bound else "not bound in manifest; bound here",
        )
    )
    verdicts = agents[key] if isinstance(agents[key], dict) else {}
    failed = [
        g
        for g in GATES
        if not (isinstance(verdicts.get(g), dict) and verdicts[g].get("pass") is True)
    ]
    if verdicts.get("pass") is not True and not failed:
        failed.append("overall pass")
    if failed:
        missing.append(f"passing gates for agent {key} (not passed: {', '.join(failed)})")
    else:
        items.append(
            EvidenceItem(
                kind="gates_pass",
                path=f"gates.json#/agents/{key}",
                sha256=_sha256_json(verdicts),
                detail="G0-G4 pass",
            )
        )
    g3 = verdicts.get("G3") if isinstance(verdicts.get("G3"), dict) else {}
    for name, label in zip(
        G3_REQUIRED_KEYS, ("cost sensitivity", "regime-sliced metrics"), strict=True
    ):
        value = g3.get(name)
        if value is None:
            missing.append(f"{label} (gates.json agents.{key}.G3.{name})")
        else:
            items.append(
                EvidenceItem(
                    kind=name,
                    path=f"gates.json#/agents/{key}/G3/{name}",
                    sha256=_sha256_json(value),
                )
            )
    return verdicts

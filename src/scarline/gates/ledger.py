"""The policy ledger: an append-only, hash-chained record of policies, approvals, promotions
and rollbacks (Research → Candidate → Shadow → LimitedLive → Production).

Storage reuses the journal's format and chain (see ``docs/wal.md``): a directory of
``000000.jsonl`` segments, one record per line, ``h`` = BLAKE2b-256(previous ``h`` ‖ canonical
bytes), the genesis hash being that of :data:`LEDGER_ID`. So ``scarline.journal.verify``
checks it, and a torn last line is truncated on the next write exactly as for a run's WAL.
Ledger records are their own msgspec structs (not run events): a run's WAL cannot hold them
and the ledger cannot hold run events.

Each promotion re-checks, from the run directory the policy was registered from, all the
evidence its stage requires (see :data:`REQUIRES` and ``docs/ledger.md``) and binds what it
checked (paths and sha256) into the :class:`Promotion` record; without it, it refuses with a
:class:`PromotionRefused` naming what is missing.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from scarline.errors import ScarlineError
from scarline.gates.flags import FLAGGED_FROM, FLAGS, report_flags, unknown_flags
from scarline.journal.format import H_CLOSE, H_OPEN, TAIL, chain_hash, seal, segment_name
from scarline.journal.lock import DirLock
from scarline.journal.recovery import repair
from scarline.journal.scan import scan
from scarline.journal.segments import list_segments
from scarline.journal.verify import VerifyReport, verify

LEDGER_ID = "scarline-policy-ledger"
"""The chain's genesis is BLAKE2b-256 of this (a run's WAL starts from its run id instead)."""

LEDGER_ENV = "SCARLINE_LEDGER"
DEFAULT_LEDGER = Path("ledger")

STAGES: tuple[str, ...] = ("Research", "Candidate", "Shadow", "LimitedLive", "Production")
APPROVAL_STAGES: frozenset[str] = frozenset({"LimitedLive", "Production"})
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


class LedgerError(ScarlineError):
    """The ledger is missing, tampered with, or a command names an unknown policy/stage."""


class PromotionRefused(LedgerError):
    """A promotion lacks evidence or approval (the message names what is missing)."""


# --- records ------------------------------------------------------------------------------


class LedgerEvent(msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="kind"):
    """Base of every ledger record."""


class EvidenceItem(msgspec.Struct, frozen=True, kw_only=True):
    """One piece of evidence a promotion checked: what, where, its sha256 (and a note)."""

    kind: str
    path: str
    sha256: str
    detail: str = ""


class PolicyRegistered(LedgerEvent, frozen=True, kw_only=True):
    """A policy enters the ledger at Research, bound to the run (and manifest) it came from."""

    policy: str
    run_dir: str
    run_id: str
    manifest_sha256: str
    agent: int | None = None
    policy_hash: str | None = None


class Approval(LedgerEvent, frozen=True, kw_only=True, omit_defaults=True):
    """A human's sign-off for moving ``policy`` to ``stage``; ``flags``: the gate-report
    flags (:data:`scarline.gates.flags.FLAGS`) the person looked at and accepts. Without
    flags the record is byte-for-byte the older format (``omit_defaults``)."""

    policy: str
    stage: str
    by: str
    reason: str
    flags: tuple[str, ...] = ()


class Promotion(LedgerEvent, frozen=True, kw_only=True):
    policy: str
    from_stage: str
    to_stage: str
    evidence: list[EvidenceItem]


class Rollback(LedgerEvent, frozen=True, kw_only=True):
    """``from_policy`` leaves ``stage`` (back to the stage below); ``to_policy`` (the one
    promoted there before, if any) is current there again."""

    stage: str
    from_policy: str
    to_policy: str | None
    reason: str


LedgerRecordData = PolicyRegistered | Approval | Promotion | Rollback


class _Envelope(msgspec.Struct):
    """Same layout as the journal's envelope, so the journal's scan/verify apply unchanged."""

    seq: int
    ts: int
    kind: str
    data: LedgerRecordData


@dataclass(frozen=True)
class LedgerRecord:
    seq: int
    ts: int
    kind: str
    data: LedgerRecordData
    h: str


# --- state --------------------------------------------------------------------------------


@dataclass
class PolicyState:
    registered: PolicyRegistered
    stage: str = "Research"


@dataclass
class LedgerState:
    """The ledger folded: each policy's stage, each stage's promotion history, approvals."""

    policies: dict[str, PolicyState] = field(default_factory=dict)
    history: dict[str, list[str]] = field(default_factory=lambda: {s: [] for s in STAGES})
    approvals: dict[tuple[str, str], list[LedgerRecord]] = field(default_factory=dict)
    records: list[LedgerRecord] = field(default_factory=list)

    def current(self, stage: str) -> str | None:
        """The policy most recently promoted to ``stage`` that is still there."""
        for policy in reversed(self.history[stage]):
            if self.policies[policy].stage == stage:
                return policy
        return None

    def apply(self, rec: LedgerRecord) -> None:
        data = rec.data
        self.records.append(rec)
        if isinstance(data, PolicyRegistered):
            self.policies[data.policy] = PolicyState(data)
            self.history["Research"].append(data.policy)
        elif isinstance(data, Approval):
            self.approvals.setdefault((data.policy, data.stage), []).append(rec)
        elif isinstance(data, Promotion):
            self.policies[data.policy].stage = data.to_stage
            self.history[data.to_stage].append(data.policy)
        elif isinstance(data, Rollback):
            below = STAGES[STAGES.index(data.stage) - 1]
            self.policies[data.from_policy].stage = below
            # the approval it went up with is spent: going back up needs a new one
            self.approvals.pop((data.from_policy, data.stage), None)

    def resolve(self, ref: str) -> str:
        """A registered policy id from an exact id, a unique prefix, or an agent id (``N``
        matching ``<run_id>:N``)."""
        if ref in self.policies:
            return ref
        found = [p for p in self.policies if p.startswith(ref)]
        if not found and ref.isdigit():
            found = [p for p in self.policies if p.endswith(f":{ref}")]
        if len(found) == 1:
            return found[0]
        if not found:
            raise LedgerError(
                f"policy {ref!r} is not in the ledger (register it: "
                f"`scarline promote {ref} --to candidate --run RUN_DIR`)"
            )
        raise LedgerError(f"policy {ref!r} is ambiguous: {', '.join(sorted(found))}")

    def to_json(self) -> dict[str, Any]:
        return {
            "current": {s: self.current(s) for s in STAGES},
            "policies": {
                p: {
                    "stage": st.stage,
                    "run_dir": st.registered.run_dir,
                    "run_id": st.registered.run_id,
                    "agent": st.registered.agent,
                    "policy_hash": st.registered.policy_hash,
                }
                for p, st in self.policies.items()
            },
            "history": [
                {"seq": r.seq, "ts": r.ts, "kind": r.kind, "h": r.h, "data": r.data}
                for r in self.records
            ],
        }


def parse_stage(text: str) -> str:
    """``limited-live``, ``LimitedLive``, ``limited_live`` … → ``LimitedLive``."""
    key = text.replace("-", "").replace("_", "").replace(" ", "").lower()
    for stage in STAGES:
        if stage.lower() == key:
            return stage
    raise LedgerError(f"unknown stage {text!r} (stages: {', '.join(STAGES)})")


def default_ledger_dir() -> Path:
    return Path(os.environ.get(LEDGER_ENV) or DEFAULT_LEDGER)


# --- the ledger ---------------------------------------------------------------------------


class Ledger:
    """The ledger directory: read its state, append records under the directory lock."""

    def __init__(self, directory: Path | str | None = None) -> None:
        self.dir = Path(directory) if directory is not None else default_ledger_dir()
        self._decode = msgspec.json.Decoder(_Envelope).decode
        self._encode = msgspec.json.Encoder().encode

    # reading

    def verify(self) -> VerifyReport:
        if not self.dir.is_dir():
            raise LedgerError(f"no ledger at {self.dir}")
        return verify(self.dir, LEDGER_ID)

    def records(self) -> list[LedgerRecord]:
        """Every record, after checking the whole chain (a tampered ledger proves nothing)."""
        if not self.dir.is_dir():
            return []
        found = scan(self.dir, LEDGER_ID)
        if found.bad is not None:
            bad = found.bad
            raise LedgerError(
                f"ledger {self.dir} fails verification at segment {bad.segment}, seq {bad.seq} "
                f"(line {bad.line}): {bad.reason}"
            )
        return self._read()

    def state(self) -> LedgerState:
        st = LedgerState()
        for rec in self.records():
            st.apply(rec)
        return st

    def _read(self) -> list[LedgerRecord]:
        out: list[LedgerRecord] = []
        for path in list_segments(self.dir):
            with path.open("rb") as f:
                for n, line in enumerate(f, 1):
                    if not line.endswith(b"\n"):
                        break
                    body = line[:-1]
                    try:
                        env = self._decode(body)
                    except ValueError as err:
                        raise LedgerError(f"{path}: line {n}: {err}") from None
                    h = body[-TAIL + len(H_OPEN) : -len(H_CLOSE)].decode()
                    out.append(LedgerRecord(env.seq, env.ts, env.kind, env.data, h))
        return out

    # writing

    @contextmanager
    def _locked(self) -> Iterator[_Appender]:
        self.dir.mkdir(parents=True, exist_ok=True)
        with DirLock(self.dir):
            bad = scan(self.dir, LEDGER_ID).bad
            if bad is not None and not bad.reason.startswith("line has no newline"):
                # Only a torn (unterminated) last line is repaired; an edited record, even the
                # last one, is tampering and blocks every write until someone looks.
                raise LedgerError(
                    f"ledger {self.dir} is corrupt at segment {bad.segment}, seq {bad.seq} "
                    f"(line {bad.line}): {bad.reason}; refusing to write (see `scarline ledger "
                    "verify`)"
                )
            found, _ = repair(self.dir, LEDGER_ID)
            st = LedgerState()
            for rec in self._read():
                st.apply(rec)
            segments = found.segments
            path = segments[-1] if segments else self.dir / segment_name(0)
            yield _Appender(self, st, path, found.head, found.records)

    def register(self, policy: str, run_dir: Path, *, now: int | None = None) -> PolicyRegistered:
        with self._locked() as app:
            event = app.register(policy, run_dir)
            app.append(event, now)
            return event

    def approve(
        self,
        policy: str,
        *,
        stage: str | None,
        by: str,
        reason: str,
        flags: tuple[str, ...] | list[str] = (),
        now: int | None = None,
    ) -> Approval:
        """Record a human approval; ``flags`` names the gate-report flags it accepts."""
        if not by.strip():
            raise LedgerError("an approval needs --by NAME (who approves)")
        if not reason.strip():
            raise LedgerError("an approval needs --reason TEXT (why)")
        if unknown := unknown_flags(tuple(flags)):
            raise LedgerError(
                f"unknown flag(s) {', '.join(unknown)} (flags: {', '.join(sorted(FLAGS))})"
            )
        with self._locked() as app:
            pid = app.state.resolve(policy)
            target = parse_stage(stage) if stage else _next_stage(app.state.policies[pid].stage)
            if target == "Research":
                raise LedgerError("nothing to approve for Research")
            event = Approval(
                policy=pid,
                stage=target,
                by=by.strip(),
                reason=reason.strip(),
                flags=tuple(sorted(set(flags))),
            )
            app.append(event, now)
            return event

    def promote(
        self,
        policy: str,
        to: str,
        *,
        run_dir: Path | None = None,
        now: int | None = None,
    ) -> Promotion:
        """Move ``policy`` up one stage, re-checking (and binding) every piece of evidence."""
        target = parse_stage(to)
        with self._locked() as app:
            try:
                pid = app.state.resolve(policy)
            except LedgerError:
                if run_dir is None:
                    raise
                reg = app.register(policy, run_dir)
                app.append(reg, now)
                pid = reg.policy
            st = app.state.policies[pid]
            if run_dir is not None and Path(run_dir).resolve() != Path(st.registered.run_dir):
                raise LedgerError(
                    f"policy {pid} was registered from {st.registered.run_dir}, not {run_dir}"
                )
            here = st.stage
            if target == "Research" or STAGES.index(target) != STAGES.index(here) + 1:
                nxt = _next_stage(here) if here != STAGES[-1] else None
                raise PromotionRefused(
                    f"cannot promote {pid} from {here} to {target}: one stage at a time"
                    + (f" (next: {nxt})" if nxt else f" ({here} is the last stage)")
                )
            evidence, missing = collect_evidence(st.registered, target, app.state)
            if missing:
                raise PromotionRefused(
                    f"cannot promote {pid} to {target}: missing evidence: " + "; ".join(missing)
                )
            event = Promotion(policy=pid, from_stage=here, to_stage=target, evidence=evidence)
            app.append(event, now)
            return event

    def rollback(self, target: str, *, reason: str = "", now: int | None = None) -> Rollback:
        """Take the current policy of a stage (or the stage of ``target`` policy) back one stage;
        the policy promoted to that stage before it is current again."""
        with self._locked() as app:
            st = app.state
            try:
                stage: str | None = parse_stage(target)
            except LedgerError:
                stage = None
            if stage is not None:
                current = st.current(stage)
                if current is None:
                    raise LedgerError(f"no policy is at {stage}; nothing to roll back")
            else:
                current = st.resolve(target)
                stage = st.policies[current].stage
                if st.current(stage) != current:
                    raise LedgerError(
                        f"policy {current} is not the current {stage} policy "
                        f"({st.current(stage)} is); roll back {stage} instead"
                    )
            if stage == "Research":
                raise LedgerError("cannot roll back Research (nothing is below it)")
            st.policies[current].stage = STAGES[STAGES.index(stage) - 1]
            previous = st.current(stage)
            st.policies[current].stage = stage
            event = Rollback(
                stage=stage,
                from_policy=current,
                to_policy=previous,
                reason=reason.strip() or "rollback",
            )
            app.append(event, now)
            return event


class _Appender:
    """Inside the lock: the folded state and the chain head; appends one record at a time."""

    def __init__(
        self, ledger: Ledger, state: LedgerState, path: Path, head: bytes, seq: int
    ) -> None:
        self.ledger = ledger
        self.state = state
        self._path = path
        self._head = head
        self._seq = seq

    def append(self, event: LedgerRecordData, now: int | None) -> LedgerRecord:
        ts = time.time_ns() if now is None else now
        kind = type(event).__name__
        canonical = self.ledger._encode(_Envelope(self._seq, ts, kind, event))
        digest = chain_hash(self._head, canonical)
        with self._path.open("ab") as f:
            f.write(seal(canonical, digest))
            f.flush()
            os.fsync(f.fileno())
        rec = LedgerRecord(self._seq, ts, kind, event, digest.hex())
        self.state.apply(rec)
        self._head = digest
        self._seq += 1
        return rec

    def register(self, policy: str, run_dir: Path) -> PolicyRegistered:
        run = Path(run_dir).resolve()
        manifest_path = run / "manifest.json"
        if not manifest_path.is_file():
            raise LedgerError(f"{manifest_path}: no run manifest; cannot register {policy}")
        raw = manifest_path.read_bytes()
        manifest = _decode_manifest(manifest_path, raw)
        run_id = str(manifest.get("run_id", run.name))
        agent: int | None = None
        policy_hash: str | None = None
        if policy.isdigit():
            agent = int(policy)
            n_agents = int(manifest.get("agents", 0))
            if agent >= n_agents:
                raise LedgerError(f"{run}: no agent {agent} (the run has {n_agents} agents)")
            pid = f"{run_id}:{agent}"
        else:
            policy_hash = _vault_hash(run, policy)
            pid = policy_hash
        if pid in self.state.policies:
            raise LedgerError(f"policy {pid} is already registered")
        return PolicyRegistered(
            policy=pid,
            run_dir=str(run),
            run_id=run_id,
            manifest_sha256=manifest_sha256(manifest),
            agent=agent,
            policy_hash=policy_hash,
        )


def _next_stage(stage: str) -> str:
    i = STAGES.index(stage)
    if i + 1 >= len(STAGES):
        raise LedgerError(f"{stage} is the last stage")
    return STAGES[i + 1]


def _decode_manifest(path: Path, raw: bytes) -> dict[str, Any]:
    try:
        manifest = msgspec.json.decode(raw)
    except msgspec.DecodeError as err:
        raise LedgerError(f"{path}: not valid JSON: {err}") from None
    if not isinstance(manifest, dict):
        raise LedgerError(f"{path}: not a run manifest")
    return manifest


def _vault_hash(run: Path, prefix: str) -> str:
    from scarline.evolution.vault import Vault  # only needed for vault policies

    vault_dir = run / "vault"
    if not vault_dir.is_dir():
        raise LedgerError(
            f"{run}: {prefix!r} is not an agent id and the run has no vault/ of policy hashes"
        )
    found = [h for h in Vault(vault_dir).hashes() if h.startswith(prefix.lower())]
    if len(found) != 1:
        what = "no" if not found else f"{len(found)}"
        raise LedgerError(f"{vault_dir}: {what} policy hashes start with {prefix!r}")
    return found[0]


# --- evidence -----------------------------------------------------------------------------


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
        decoded = _decode_manifest(manifest_path, manifest_path.read_bytes())
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
    if not result.parity:
        missing.append(
            f"replay parity (decision trace {result.replayed} != manifest {result.original})"
        )
        return
    items.append(
        EvidenceItem(
            kind="replay_parity",
            path="manifest.json#decision_trace_hash",
            sha256=hashlib.sha256(result.replayed.encode()).hexdigest(),
            detail=f"decision trace {result.replayed} reproduced over {result.steps} steps",
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

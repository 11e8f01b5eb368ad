"""The stages a policy climbs and the ledger folded: each policy's stage, each stage's
promotion history, the approvals given."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from scarline.ledger.anchor import GENESIS_HEAD
from scarline.ledger.policy import LedgerPolicy, parse_policy
from scarline.ledger.records import (
    AmbiguousPolicy,
    Approval,
    LedgerError,
    LedgerRecord,
    PolicyRegistered,
    PolicySet,
    Promotion,
    Rollback,
    UnknownPolicy,
)
from scarline.session import is_agent_id

STAGES: tuple[str, ...] = ("Research", "Candidate", "Shadow", "LimitedLive", "Production")
APPROVAL_STAGES: frozenset[str] = frozenset({"LimitedLive", "Production"})
HASH_PREFIX_MIN = 6
"""A policy hash prefix names a policy only from this many hex digits on; shorter digit
strings are agent ids (``promote 2`` is agent 2, never a run id starting with 2…)."""
_HEX = re.compile(r"[0-9a-f]+")


@dataclass
class PolicyState:
    registered: PolicyRegistered
    stage: str = "Research"
    since: int = 0
    """Seq of the record that put the policy at ``stage`` (an approval for the next stage
    counts only when given after it)."""
    gate_report_sha256: str | None = None
    """The gates.json sha256 bound at registration or by the Shadow promotion."""


@dataclass(frozen=True)
class ApprovalContext:
    """Where an approval was given: the policy's stage then, the ledger head it was appended
    to (part of what the approver signed) and the ledger policy in force."""

    given_at: str
    prev: str
    policy: LedgerPolicy | None


@dataclass
class LedgerState:
    """The ledger folded: each policy's stage, each stage's promotion history, approvals."""

    policies: dict[str, PolicyState] = field(default_factory=dict)
    history: dict[str, list[str]] = field(default_factory=lambda: {s: [] for s in STAGES})
    approvals: dict[tuple[str, str], list[LedgerRecord]] = field(default_factory=dict)
    records: list[LedgerRecord] = field(default_factory=list)
    policy: LedgerPolicy | None = None
    """The ledger policy in force (the last ``PolicySet``); ``None`` before the first."""
    policy_seq: int | None = None
    context: dict[int, ApprovalContext] = field(default_factory=dict)
    """Per approval seq: where it was given."""

    @property
    def head(self) -> str:
        return self.records[-1].h if self.records else GENESIS_HEAD

    def current(self, stage: str) -> str | None:
        """The policy most recently promoted to ``stage`` that is still there."""
        for policy in reversed(self.history[stage]):
            if self.policies[policy].stage == stage:
                return policy
        return None

    def apply(self, rec: LedgerRecord) -> None:
        data = rec.data
        prev = self.head
        self.records.append(rec)
        if isinstance(data, PolicyRegistered):
            self.policies[data.policy] = PolicyState(
                data, since=rec.seq, gate_report_sha256=data.gate_report_sha256
            )
            self.history["Research"].append(data.policy)
        elif isinstance(data, Approval):
            self.approvals.setdefault((data.policy, data.stage), []).append(rec)
            st = self.policies.get(data.policy)
            given_at = st.stage if st is not None else "Research"
            self.context[rec.seq] = ApprovalContext(given_at, prev, self.policy)
        elif isinstance(data, Promotion):
            st = self.policies[data.policy]
            st.stage, st.since = data.to_stage, rec.seq
            self.history[data.to_stage].append(data.policy)
            bound = next((e.sha256 for e in data.evidence if e.kind == "gate_report"), None)
            st.gate_report_sha256 = st.gate_report_sha256 or bound
        elif isinstance(data, Rollback):
            below = STAGES[STAGES.index(data.stage) - 1]
            st = self.policies[data.from_policy]
            st.stage, st.since = below, rec.seq
            # the approval it went up with is spent: going back up needs a new one
            self.approvals.pop((data.from_policy, data.stage), None)
            if STAGES.index(below) < STAGES.index("Shadow"):  # re-gating is allowed again
                st.gate_report_sha256 = st.registered.gate_report_sha256
        elif isinstance(data, PolicySet):
            self.policy = parse_policy(data.text, f"policy at ledger seq {rec.seq}")
            self.policy_seq = rec.seq

    def resolve(self, ref: str, run_dir: str | None = None) -> str:
        """A registered policy id from, in this order: the exact ledger id; an agent id
        (``N``: exactly ``<run_id>:N``, never a prefix); a policy hash prefix of at least
        :data:`HASH_PREFIX_MIN` hex digits. ``run_dir`` (absolute) keeps only the policies
        registered from that run. None found: :class:`UnknownPolicy`; more than one:
        :class:`AmbiguousPolicy`, listing them (both exit 2)."""
        if ref in self.policies and (run_dir is None or self._from(ref, run_dir)):
            return ref
        pool = [p for p in self.policies if run_dir is None or self._from(p, run_dir)]
        found: list[str] = []
        if is_agent_id(ref):
            found = [p for p in pool if self.policies[p].registered.agent == int(ref)]
            found = [p for p in found if str(self.policies[p].registered.agent) == ref]
        key = ref.lower()
        if not found and len(key) >= HASH_PREFIX_MIN and _HEX.fullmatch(key):
            found = [
                p for p in pool if (self.policies[p].registered.policy_hash or "").startswith(key)
            ]
        if len(found) == 1:
            return found[0]
        if not found:
            where = f" from {run_dir}" if run_dir else ""
            raise UnknownPolicy(
                f"policy {ref!r}{where} is not in the ledger (register it: "
                f"`scarline promote {ref} --to candidate --run RUN_DIR`)"
            )
        raise AmbiguousPolicy(
            f"policy {ref!r} is ambiguous: it names {', '.join(sorted(found))} "
            "(give the ledger id, or --run RUN_DIR)"
        )

    def _from(self, policy: str, run_dir: str) -> bool:
        return self.policies[policy].registered.run_dir == run_dir

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


def next_stage(stage: str) -> str:
    i = STAGES.index(stage)
    if i + 1 >= len(STAGES):
        raise LedgerError(f"{stage} is the last stage")
    return STAGES[i + 1]

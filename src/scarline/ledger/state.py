"""The stages a policy climbs and the ledger folded: each policy's stage, each stage's
promotion history, the approvals given."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scarline.ledger.records import (
    Approval,
    LedgerError,
    LedgerRecord,
    PolicyRegistered,
    Promotion,
    Rollback,
)

STAGES: tuple[str, ...] = ("Research", "Candidate", "Shadow", "LimitedLive", "Production")
APPROVAL_STAGES: frozenset[str] = frozenset({"LimitedLive", "Production"})


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


def next_stage(stage: str) -> str:
    i = STAGES.index(stage)
    if i + 1 >= len(STAGES):
        raise LedgerError(f"{stage} is the last stage")
    return STAGES[i + 1]

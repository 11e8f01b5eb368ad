"""Ledger records: their own msgspec structs (not run events), tagged by class name, in the
journal's envelope layout so the journal's scan and verify read the ledger unchanged."""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from scarline.errors import ScarlineError
from scarline.signing import canonical

LEDGER_ID = "scarline-policy-ledger"
"""The chain's genesis is BLAKE2b-256 of this (a run's WAL starts from its run id instead)."""


class LedgerError(ScarlineError):
    """The ledger is missing, tampered with, or a command names an unknown policy/stage."""


class UnknownPolicy(LedgerError):
    """A policy argument names no registered policy, or more than one (bad input)."""

    exit_code = 2


class AmbiguousPolicy(LedgerError):
    """A policy argument names more than one registered policy (bad input; lists them)."""

    exit_code = 2


class PromotionRefused(LedgerError):
    """A promotion lacks evidence or approval (the message names what is missing)."""


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
    gate_report_sha256: str | None = None
    """The manifest's gate report binding when the run was gated before registration (then
    gates.json must keep that sha256); else the Shadow promotion binds it."""


class Approval(LedgerEvent, frozen=True, kw_only=True, omit_defaults=True):
    """A human's sign-off for moving ``policy`` to ``stage``; ``flags``: the gate-report
    flags (:data:`scarline.gating.flags.FLAGS`) the person looked at and accepts. Without
    flags the record is byte-for-byte the older format (``omit_defaults``).

    ``public_key`` and ``signature``: the approver's key and its signature over
    :func:`approval_payload` (which includes the ledger head the approval was appended to).
    An approval written before signatures has neither; it still decodes, but cannot satisfy
    a promotion."""

    policy: str
    stage: str
    by: str
    reason: str
    flags: tuple[str, ...] = ()
    public_key: str = ""
    signature: str = ""


class Promotion(LedgerEvent, frozen=True, kw_only=True):
    policy: str
    from_stage: str
    to_stage: str
    evidence: list[EvidenceItem]


class PolicySet(LedgerEvent, frozen=True, kw_only=True):
    """A version of ``policy.toml`` (its exact ``text``) takes effect; ``public_key`` and
    ``signature``: the key that recorded it (one the policy in force lets write the ledger;
    the first policy's own) over :func:`policy_payload`."""

    sha256: str
    text: str
    public_key: str
    signature: str


class Rollback(LedgerEvent, frozen=True, kw_only=True):
    """``from_policy`` leaves ``stage`` (back to the stage below); ``to_policy`` (the one
    promoted there before, if any) is current there again."""

    stage: str
    from_policy: str
    to_policy: str | None
    reason: str


LedgerRecordData = PolicyRegistered | Approval | Promotion | Rollback | PolicySet


def approval_payload(prev: str, approval: Approval) -> bytes:
    """What an approver signs: the approval and the ledger head (``h`` of the record before
    it), so a signed approval cannot be replayed at another place or in another ledger."""
    return canonical(
        {
            "prev": prev,
            "policy": approval.policy,
            "stage": approval.stage,
            "by": approval.by,
            "reason": approval.reason,
            "flags": list(approval.flags),
        }
    )


def policy_payload(prev: str, sha256: str) -> bytes:
    """What the key recording a policy version signs: the ledger head and the policy's sha256."""
    return canonical({"prev": prev, "policy_sha256": sha256})


class Envelope(msgspec.Struct):
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

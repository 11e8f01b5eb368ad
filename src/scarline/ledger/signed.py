"""The signatures a promotion and ``ledger verify`` check (``docs/security.md``): a run's
``manifest.sig`` and ``gates.sig`` against the keys the ledger policy lets sign them, an
approval against the keys that may approve its stage, and each recorded policy version
against the policy before it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from scarline.journal.signature import check_gates, check_manifest
from scarline.ledger.anchor import GENESIS_HEAD
from scarline.ledger.policy import ROLES, LedgerPolicy, parse_policy
from scarline.ledger.records import (
    Approval,
    EvidenceItem,
    LedgerError,
    LedgerRecord,
    PolicySet,
    approval_payload,
    policy_payload,
)
from scarline.ledger.state import ApprovalContext
from scarline.rundir import RunDir
from scarline.signing import APPROVAL_PURPOSE, POLICY_PURPOSE, FileCheck, PublicKey, sidecar

SIGNED: dict[str, tuple[Callable[[Path], FileCheck], str]] = {
    RunDir.MANIFEST: (check_manifest, "runs"),
    RunDir.GATES: (check_gates, "gates"),
}
"""Each signed run file: how its signature is checked and the role its key must hold."""


def file_signature(
    run: Path, name: str, policy: LedgerPolicy | None
) -> tuple[EvidenceItem | None, str]:
    """``(evidence, "")`` when ``run/name`` (``manifest.json`` or ``gates.json``) is signed,
    unchanged since, by a key holding its role in ``policy``; else ``(None, what is
    wrong)``."""
    checker, role = SIGNED[name]
    check = checker(run)
    if not check.ok or check.public_key is None:
        return None, check.problem
    key = check.public_key
    if policy is None:
        return None, f"{name} is signed by key {key.key_id}, but the ledger has no policy"
    if not policy.may(role, key):
        return None, (
            f"{name} is signed by key {key.key_id}, which the ledger policy does not let "
            f"{ROLES[role]} (roles.{role}: {policy.holders(role)})"
        )
    item = EvidenceItem(
        kind=f"{Path(name).stem}_signature",
        path=sidecar(Path(name)).name,
        sha256=check.sha256,
        detail=f"{name} signed by {policy.who(key)}",
    )
    return item, ""


def approval_problem(rec: LedgerRecord, ctx: ApprovalContext | None) -> str:
    """Why the approval ``rec`` does not count as signed by an approver ("" when it does)."""
    data = rec.data
    assert isinstance(data, Approval)
    where = f"the approval at seq {rec.seq}"
    if not data.signature or not data.public_key:
        return f"{where} is not signed (written before approvals were signed, or by hand)"
    try:
        key = PublicKey.parse(data.public_key)
    except ValueError:
        return f"{where} has an invalid public key"
    prev = ctx.prev if ctx is not None else ""
    if not key.verifies(APPROVAL_PURPOSE, approval_payload(prev, data), data.signature):
        return f"{where}: the signature of key {key.key_id} does not verify (forged or edited)"
    policy = ctx.policy if ctx is not None else None
    if policy is None or not policy.may_approve(data.stage, key):
        holders = policy.holders(data.stage) if policy is not None else "no policy"
        return (
            f"{where} is signed by key {key.key_id}, which may not approve {data.stage} "
            f"(approvers.{data.stage}: {holders})"
        )
    return ""


def approver(rec: LedgerRecord, ctx: ApprovalContext | None) -> str:
    """The signing approver as the policy names them (call after :func:`approval_problem`)."""
    data = rec.data
    assert isinstance(data, Approval)
    key = PublicKey.parse(data.public_key)
    policy = ctx.policy if ctx is not None else None
    return policy.who(key) if policy is not None else f"key {key.key_id}"


def policy_problem(rec: LedgerRecord, prev: str, before: LedgerPolicy | None) -> str:
    """Why the policy version ``rec`` was not recorded by a key allowed to ("" when it was):
    a ledger writer of the policy before it, or, for the first, of its own."""
    data = rec.data
    assert isinstance(data, PolicySet)
    where = f"the policy recorded at seq {rec.seq}"
    try:
        key = PublicKey.parse(data.public_key)
        policy = parse_policy(data.text, where)
    except (ValueError, LedgerError) as err:
        return f"{where}: {err}"
    if policy.sha256 != data.sha256:
        return f"{where}: its text does not have the sha256 it names"
    if not key.verifies(POLICY_PURPOSE, policy_payload(prev, data.sha256), data.signature):
        return f"{where}: the signature of key {key.key_id} does not verify (forged or edited)"
    judge = before or policy
    if not judge.may("ledger", key):
        return (
            f"{where} is signed by key {key.key_id}, which the policy in force did not let "
            f"write the ledger (roles.ledger: {judge.holders('ledger')})"
        )
    return ""


def policy_chain_problems(records: list[LedgerRecord]) -> list[str]:
    """Why recorded policy versions were not recorded by a key allowed to, one line each
    (none when every one was): anyone can append a ``PolicySet`` trusting a key of their
    own and re-chain the ledger, so only a version its predecessor's writer signed counts."""
    problems: list[str] = []
    before: LedgerPolicy | None = None
    prev = GENESIS_HEAD
    for rec in records:
        if isinstance(rec.data, PolicySet):
            if why := policy_problem(rec, prev, before):
                problems.append(why)
            try:
                before = parse_policy(rec.data.text)
            except LedgerError:
                before = None
        prev = rec.h
    return problems

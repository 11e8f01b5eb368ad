"""Whether the records of a ledger directory are the ledger's: vouched for by its own keys.

The chain is keyed by a constant, so anyone who can write the directory can append records
and re-chain them; they can also delete ``anchor.json``, sign one with a key of their own, or
append a policy version that trusts that key. None of that is signed by a key the ledger
trusts, so whatever reads the ledger to act on it — a write, ``ledger show``, the service, a
paper session running the policies at a stage — refuses it, as ``ledger verify`` does
(``docs/security.md``): the records must be anchored, the anchor signed by a ``ledger`` key
of the policy in force, and every policy version signed by a writer of the one before.
"""

from __future__ import annotations

from scarline.ledger.anchor import Anchor
from scarline.ledger.signed import policy_chain_problems
from scarline.ledger.state import LedgerState


def distrust(state: LedgerState, anchor: Anchor | None, *, adopt: bool = False) -> str:
    """Why the records folded into ``state`` are not vouched for by the ledger's keys ("" when
    they are); whether they are the anchored ones is :func:`~scarline.ledger.anchor.compare`'s
    question. ``adopt`` (``scarline ledger anchor``, run by a person who checked the ledger):
    records without an anchor or a policy are accepted, to be anchored and given one."""
    if problems := policy_chain_problems(state.records):
        return problems[0]
    if anchor is None:
        if state.records and not adopt:
            return (
                f"it holds {len(state.records)} records but no anchor.json, so neither their "
                "number nor their writer can be checked (written before anchors, or the anchor "
                "was deleted); if you trust it as it is, `scarline ledger anchor` anchors it"
            )
        return ""
    signer = anchor.signer()
    if signer is None:
        return "anchor.json: the signature does not verify (forged or edited)"
    if state.policy is None:
        if state.records and not adopt:
            return (
                "no policy recorded, so no key is trusted to have written its records "
                "(written before policies); `scarline ledger anchor` records policy.toml"
            )
        return ""
    if not state.policy.may("ledger", signer):
        return (
            f"anchor.json is signed by key {signer.key_id}, which the ledger policy does not "
            f"let write the ledger (roles.ledger: {state.policy.holders('ledger')})"
        )
    return ""

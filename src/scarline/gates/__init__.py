"""Gates and promotion: the policy ledger (``ledger``); G0–G4 gates are a separate issue."""

from scarline.gates.ledger import (
    STAGES,
    Approval,
    EvidenceItem,
    Ledger,
    LedgerError,
    PolicyRegistered,
    Promotion,
    PromotionRefused,
    Rollback,
)

__all__ = [
    "STAGES",
    "Approval",
    "EvidenceItem",
    "Ledger",
    "LedgerError",
    "PolicyRegistered",
    "Promotion",
    "PromotionRefused",
    "Rollback",
]

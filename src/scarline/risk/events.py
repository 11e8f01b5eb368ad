"""WAL records of the risk engine: builders from engine results to batch events.

One step's verdicts on all its intents are one ``RiskChecks`` record of arrays (not one
record per intent), a step's level changes one ``RiskStateChange``, a kill one
``KillSwitch``. The Struct classes live in :mod:`scarline.events` with every other WAL
kind (the kernel registered them there first; one definition per tag keeps decoding
unambiguous) and are re-exported here. Codes index :mod:`scarline.risk.codes`; each
record also lists the names (``rules``/``outcomes``, ``levels``/``causes``) so it reads on
its own without this package's version.
"""

from __future__ import annotations

import numpy as np

from scarline.events import Array, KillSwitch, RiskChecks, RiskStateChange
from scarline.execution.types import OrderBatch
from scarline.risk.codes import CAUSES, LEVELS, OUTCOMES, PASS, RULES
from scarline.risk.ladder import LadderTransitions
from scarline.risk.types import RiskDecision
from scarline.session import SessionIds

RISK_EVENT_TYPES = (RiskChecks, RiskStateChange, KillSwitch)

Shown = tuple[np.ndarray, list[str], list[str]]
"""(agent ids, rule names, outcome names) of the verdicts other than a plain pass."""

_NOTHING_SHOWN: Shown = (np.zeros(0, np.int64), [], [])
# the names as object arrays: a step's codes become names in one gather, not a Python loop
# (~1,000 notable verdicts a step while a learning population explores: 63 against 34 µs)
_RULE_NAMES = np.array(RULES, dtype=object)
_OUTCOME_NAMES = np.array(OUTCOMES, dtype=object)


def risk_checks_event(
    ids: SessionIds,
    decision_id: str,
    step: int,
    intents: OrderBatch,
    decision: RiskDecision,
) -> tuple[RiskChecks, Shown]:
    """The step's record, plus the non-pass verdicts for the run report."""
    event = RiskChecks(
        run_id=ids.run_id,
        session_id=ids.session_id,
        decision_id=decision_id,
        step=step,
        order_id=Array.of(intents.order_id),
        agent=Array.of(intents.agent),
        instrument=Array.of(intents.instrument),
        outcome=Array.of(decision.outcome),
        rule=Array.of(decision.rule),
        value=Array.of(decision.value),
        limit=Array.of(decision.limit),
        requested=Array.of(decision.requested),
        approved=Array.of(decision.approved_qty),
        outcomes=list(OUTCOMES),
        rules=list(RULES),
    )
    return event, notable_verdicts(intents, decision)


def notable_verdicts(intents: OrderBatch, decision: RiskDecision) -> Shown:
    """The verdicts other than a plain pass, for the run report."""
    notable = np.flatnonzero(decision.outcome != PASS)
    if not notable.size:  # the usual batch: all passed
        return _NOTHING_SHOWN
    return (
        intents.agent[notable],
        _RULE_NAMES[decision.rule[notable]].tolist(),
        _OUTCOME_NAMES[decision.outcome[notable]].tolist(),
    )


def state_change_event(
    ids: SessionIds, step: int, transitions: LadderTransitions
) -> RiskStateChange:
    """The record of a step's ladder transitions (agent -1 = the global level)."""
    t = transitions
    return RiskStateChange(
        run_id=ids.run_id,
        session_id=ids.session_id,
        step=step,
        agent=Array.of(t.agent),
        from_level=Array.of(t.from_level),
        to_level=Array.of(t.to_level),
        cause=Array.of(t.cause),
        value=Array.of(t.value),
        limit=Array.of(t.limit),
        levels=list(LEVELS),
        causes=list(CAUSES),
    )

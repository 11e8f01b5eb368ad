"""Risk WAL records: one batch record per step, exact round trip, names listed in the record."""

from __future__ import annotations

import msgspec
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from risk_fixtures import context, engine, intents, money

from scarline.events import AnyEvent, RiskChecks, RiskStateChange
from scarline.risk import OUTCOMES, RULES, LadderConfig
from scarline.risk.events import notable_verdicts, risk_checks_event, state_change_event
from scarline.risk.types import RiskDecision
from scarline.session import SessionIds


def roundtrip(event: object) -> object:
    return msgspec.json.decode(msgspec.json.encode(event), type=AnyEvent)


def test_risk_checks_record_every_verdict() -> None:
    eng = engine(max_position_lots=10)
    batch = intents([0, 1, 1], [1, 1, -1], [4, 20, 2], first_id=7)
    d = eng.check(0, batch, context(position=[[0], [5]]))
    event, (agents, rules, outcomes) = risk_checks_event(SessionIds("r", "s"), "d0", 0, batch, d)
    assert isinstance(event, RiskChecks)
    back = roundtrip(event)
    assert back == event
    np.testing.assert_array_equal(back.order_id.numpy(), [7, 8, 9])
    np.testing.assert_array_equal(back.approved.numpy(), [4, 5, 2])
    np.testing.assert_array_equal(back.requested.numpy(), [4, 20, 2])
    assert [back.rules[c] for c in back.rule.numpy()] == ["none", "max_position", "none"]
    assert [back.outcomes[c] for c in back.outcome.numpy()] == ["pass", "throttle", "pass"]
    assert back.value.numpy()[1] == 25.0 and back.limit.numpy()[1] == 10.0
    assert back.rules == list(RULES) and back.outcomes == list(OUTCOMES)
    # what the run report shows: anything but a plain pass
    assert (agents.tolist(), rules, outcomes) == ([1], ["max_position"], ["throttle"])


def test_state_change_record() -> None:
    eng = engine(ladder=LadderConfig(warn_drawdown_pct=10.0))
    eng.update(0, np.array([money(100), money(100)]))
    t = eng.update(1, np.array([money(80), money(100)]))
    event = state_change_event(SessionIds("r", "s"), 1, t)
    assert isinstance(event, RiskStateChange)
    back = roundtrip(event)
    assert back == event
    assert back.agent.numpy().tolist() == [0, -1]
    assert [back.levels[x] for x in back.to_level.numpy()] == ["WARN", "WARN"]
    assert [back.causes[x] for x in back.cause.numpy()] == ["drawdown", "drawdown"]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(OUTCOMES) - 1), st.integers(0, len(RULES) - 1))))
def test_notable_verdicts_name_every_non_pass(codes: list[tuple[int, int]]) -> None:
    """The names gathered from the codes are each code's name, passes left out, in order."""
    outcome = np.array([o for o, _ in codes], dtype=np.int8)
    rule = np.array([r for _, r in codes], dtype=np.int16)
    k = len(codes)
    batch = intents(list(range(k)), [1] * k, [1] * k)
    decision = RiskDecision(
        intents=batch,
        approved=batch,
        outcome=outcome,
        rule=rule,
        value=np.zeros(k),
        limit=np.zeros(k),
        requested=batch.qty,
        approved_qty=batch.qty,
    )
    agents, rules, outcomes = notable_verdicts(batch, decision)
    shown = [i for i, (o, _) in enumerate(codes) if OUTCOMES[o] != "pass"]
    assert agents.tolist() == shown
    assert rules == [RULES[codes[i][1]] for i in shown]
    assert outcomes == [OUTCOMES[codes[i][0]] for i in shown]
    assert all(type(name) is str for name in rules + outcomes)

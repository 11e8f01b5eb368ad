"""Working orders by side (schema 14): a buy is checked as if every working buy fills and no
working sell does, and conversely; the schema 13 check nets them, and replays so."""

from __future__ import annotations

import numpy as np
from risk_fixtures import context, engine, intents
from test_check_compiled import _view, assert_same

from scarline.risk import check_compiled
from scarline.risk.check import evaluate
from scarline.risk.codes import RULES


def test_a_working_sell_that_may_fail_no_longer_makes_room_for_a_buy() -> None:
    """Flat, a sell of 10 working, limit 10: netted, a buy of 15 looks like +5 and passes in
    full, and reaches +15 if the sell fails; by side it is sized to the 10 the limit holds."""
    e = engine(n=1, max_position_lots=10)
    view = _view(1)
    for sells, approved, rule in ((None, 15, "none"), (np.array([[10]]), 10, "max_position")):
        ctx = context(1, pending=[[-10]], pending_sells=sells)
        got = evaluate(e.limits, intents([0], [1], [15]), ctx, view)
        assert (int(got.approved[0]), RULES[got.rule[0]]) == (approved, rule)
        compiled = check_compiled.try_evaluate(e.limits, intents([0], [1], [15]), ctx, view)
        assert_same(compiled, got)


def test_an_order_against_a_working_one_of_its_own_side_is_unchanged() -> None:
    """Long 4 with a buy of 3 working: a buy of 5 is checked against 7 either way (netting
    changes only what the other side's working orders hide)."""
    e = engine(n=1, max_position_lots=10)
    for sells in (None, np.array([[0]])):
        ctx = context(1, position=[[4]], pending=[[3]], pending_sells=sells)
        got = evaluate(e.limits, intents([0], [1], [5]), ctx, _view(1))
        assert int(got.approved[0]) == 3 and RULES[got.rule[0]] == "max_position"


def test_working_buys_commit_cash_whatever_sells_work_beside_them() -> None:
    """A buy of 10 and a sell of 10 working (net 0), cash for 20 lots at 100.00: netted,
    they commit no cash and a buy of 18 passes; by side the working buy's 10 lots are spent,
    so min_cash sizes the new buy to the 10 left."""
    e = engine(n=1, min_cash=0.0)
    approved = {}
    for sells in (None, np.array([[10]])):
        ctx = context(1, pending=[[0]], pending_sells=sells, cash=2_000.0)
        verdict = evaluate(e.limits, intents([0], [1], [18]), ctx, _view(1))
        assert_same(
            check_compiled.try_evaluate(e.limits, intents([0], [1], [18]), ctx, _view(1)), verdict
        )
        approved[sells is None] = int(verdict.approved[0])
    assert approved == {True: 18, False: 10}

"""A synthetic breach of each pre-trade invariant: refused (or scaled) with rule, value, limit."""

from __future__ import annotations

import numpy as np
import pytest
from risk_fixtures import PRICE, context, engine, intents, money, outcomes_of, rules_of

from scarline.risk import rules


def test_defaults_pass_everything_unchanged() -> None:
    eng = engine()
    d = eng.check(0, intents([0, 1, 1], [1, -1, 1], [10**6, 3, 7]), context())
    assert outcomes_of(d) == ["pass"] * 3
    assert rules_of(d) == ["none"] * 3
    np.testing.assert_array_equal(d.approved_qty, [10**6, 3, 7])
    np.testing.assert_array_equal(d.approved.qty, [10**6, 3, 7])


def test_max_position_scales_then_rejects() -> None:
    eng = engine(max_position_lots=10)
    d = eng.check(0, intents([0, 1], [1, -1], [5, 1]), context(position=[[8], [-10]]))
    assert outcomes_of(d) == ["throttle", "reject"]
    assert rules_of(d) == ["max_position", "max_position"]
    np.testing.assert_array_equal(d.approved_qty, [2, 0])
    np.testing.assert_array_equal(d.value, [13, 11])  # |position + qty| at the requested qty
    np.testing.assert_array_equal(d.limit, [10, 10])
    np.testing.assert_array_equal(d.approved.order_id, [0])  # rejected rows are removed
    np.testing.assert_array_equal(d.approved.qty, [2])


def test_max_position_counts_pending_and_lets_reducing_orders_through() -> None:
    eng = engine(max_position_lots=10)
    ctx = context(position=[[4], [15]], pending=[[6], [0]])  # agent 1 is over (limit lowered)
    d = eng.check(0, intents([0, 1, 1], [1, -1, 1], [1, 5, 1]), ctx)
    assert outcomes_of(d) == ["reject", "pass", "reject"]
    np.testing.assert_array_equal(d.approved_qty, [0, 5, 0])


def test_max_notional_per_instrument() -> None:
    eng = engine(max_notional=1_000.0)  # 10 lots at 100.00
    d = eng.check(0, intents([0, 1], [-1, 1], [15, 1]), context(position=[[0], [10]]))
    assert outcomes_of(d) == ["throttle", "reject"]
    assert rules_of(d) == ["max_notional", "max_notional"]
    np.testing.assert_array_equal(d.approved_qty, [10, 0])
    np.testing.assert_allclose(d.value, [1_500.0, 1_100.0])
    np.testing.assert_allclose(d.limit, [1_000.0, 1_000.0])


def test_max_gross_notional_across_instruments() -> None:
    eng = engine(n=1, m=2, max_gross_notional=1_000.0)
    ctx = context(n=1, m=2, position=[[5, 0]], last=[PRICE, PRICE // 2])  # 500 + 0
    d = eng.check(0, intents([0], [1], [20], instrument=[1]), ctx)  # 50.00 a lot
    assert outcomes_of(d) == ["throttle"]
    assert rules_of(d) == ["max_gross_notional"]
    np.testing.assert_array_equal(d.approved_qty, [10])
    np.testing.assert_allclose(d.value, [1_500.0])
    np.testing.assert_allclose(d.limit, [1_000.0])


def test_order_rate_counts_approved_orders_in_the_window() -> None:
    eng = engine(max_orders_per_window=2, order_window_steps=3)
    ctx = context()
    d0 = eng.check(0, intents([0, 0, 0, 1], [1, 1, 1, 1], [1, 1, 1, 1]), ctx)
    assert outcomes_of(d0) == ["pass", "pass", "reject", "pass"]
    assert rules_of(d0)[2] == "order_rate"
    assert (d0.value[2], d0.limit[2]) == (3.0, 2.0)
    d2 = eng.check(2, intents([0, 1], [1, 1], [1, 1], first_id=4), ctx)
    assert outcomes_of(d2) == ["reject", "pass"]  # agent 0: 2 orders at step 0 in (−1, 2]
    d3 = eng.check(3, intents([0, 1, 1], [1, 1, 1], [1, 1, 1], first_id=6), ctx)
    assert outcomes_of(d3) == ["pass", "pass", "reject"]  # step 0 left the window (1, 3]


def test_price_band_on_limit_orders_only() -> None:
    eng = engine(price_band_pct=5.0)
    d = eng.check(
        0, intents([0, 0, 1], [1, -1, 1], [1, 1, 1], limit_price=[11_000, 9_600, 0]), context()
    )
    assert outcomes_of(d) == ["reject", "pass", "pass"]
    assert rules_of(d)[0] == "price_band"
    assert d.value[0] == pytest.approx(10.0)
    assert d.limit[0] == 5.0


def test_quote_age() -> None:
    eng = engine(m=2, max_quote_age_ns=5_000)
    ctx = context(m=2, quote_ts=np.array([0, 9_000]), now_ts=10_000)
    d = eng.check(0, intents([0, 0], [1, 1], [1, 1], instrument=[0, 1]), ctx)
    assert outcomes_of(d) == ["reject", "pass"]
    assert rules_of(d)[0] == "quote_age"
    assert (d.value[0], d.limit[0]) == (10_000.0, 5_000.0)
    # no quote feed (bars only): the rule has nothing to measure
    assert outcomes_of(
        engine(max_quote_age_ns=5_000).check(0, intents([0], [1], [1]), context())
    ) == ["pass"]


def test_spread_bound_only_when_quoted() -> None:
    eng = engine(m=2, max_spread_bps=10.0)
    ctx = context(m=2, bid=np.array([9_990, 0]), ask=np.array([10_010, 0]))
    d = eng.check(0, intents([0, 0], [1, 1], [1, 1], instrument=[0, 1]), ctx)
    assert outcomes_of(d) == ["reject", "pass"]
    assert rules_of(d)[0] == "spread"
    assert d.value[0] == pytest.approx(20.0)
    assert d.limit[0] == 10.0


def test_min_cash_scales_buys_and_spares_sells() -> None:
    eng = engine(min_cash=500.0)
    ctx = context(cash=1_000.0)
    d = eng.check(0, intents([0, 1], [1, -1], [8, 8]), ctx)
    assert outcomes_of(d) == ["throttle", "pass"]
    assert rules_of(d)[0] == "min_cash"
    np.testing.assert_array_equal(d.approved_qty, [5, 8])
    assert (d.value[0], d.limit[0]) == (200.0, 500.0)  # 1000 − 8 × 100
    poor = context(cash=400.0)
    d = engine(min_cash=500.0).check(0, intents([0], [1], [1]), poor)
    assert outcomes_of(d) == ["reject"]
    assert rules_of(d) == ["min_cash"]


def test_an_agent_in_debit_covers_but_opens_nothing() -> None:
    """Cash below zero (a cover filled into debit, schema 15): a buy that reduces its short
    passes, a buy that would open a long is refused, a sell passes."""
    ctx = context(n=1, position=[[-10]], cash=-1_000.0)
    d = engine(n=1, min_cash=0.0).check(0, intents([0, 0, 0], [1, 1, -1], [10, 5, 3]), ctx)
    assert outcomes_of(d) == ["pass", "reject", "pass"]
    assert rules_of(d)[1] == "min_cash"
    np.testing.assert_array_equal(d.approved_qty, [10, 0, 3])


def test_min_cash_uses_the_limit_price_of_limit_buys() -> None:
    eng = engine(min_cash=0.0)
    d = eng.check(0, intents([0], [1], [10], limit_price=[20_000]), context(cash=1_000.0))
    np.testing.assert_array_equal(d.approved_qty, [5])  # 200.00 a lot


def test_max_drawdown_refuses_opening_orders() -> None:
    eng = engine(max_drawdown_pct=25.0)
    eng.update(0, np.array([money(100), money(100)]))
    ctx = context(position=[[3], [3]], equity=np.array([money(70), money(90)]))
    d = eng.check(1, intents([0, 0, 1], [1, -1, 1], [1, 2, 1]), ctx)
    assert outcomes_of(d) == ["halt", "pass", "pass"]
    assert rules_of(d)[0] == "max_drawdown"
    assert (d.value[0], d.limit[0]) == (pytest.approx(30.0), 25.0)


def test_no_price_rejects() -> None:
    d = engine(m=2).check(0, intents([0], [1], [1], instrument=[1]), context(m=2, last=[1, 0]))
    assert outcomes_of(d) == ["reject"]
    assert rules_of(d) == ["no_price"]


def test_smallest_cap_names_the_rule() -> None:
    eng = engine(max_position_lots=50, max_notional=2_000.0, min_cash=0.0)
    d = eng.check(0, intents([0], [1], [100]), context(cash=500.0))
    assert rules_of(d) == ["min_cash"]
    np.testing.assert_array_equal(d.approved_qty, [5])


def test_earlier_intents_of_an_agent_consume_the_limit() -> None:
    eng = engine(max_position_lots=10)
    d = eng.check(0, intents([0, 0, 0], [1, 1, 1], [6, 6, 6]), context())
    np.testing.assert_array_equal(d.approved_qty, [6, 4, 0])
    assert outcomes_of(d) == ["pass", "throttle", "reject"]


def test_an_unfilled_sell_does_not_make_room_for_a_buy() -> None:
    # long 10 at the limit: selling 5 and buying 5 in one batch could end at 15 if only the
    # buy fills, so the buy is refused
    eng = engine(max_position_lots=10)
    d = eng.check(0, intents([0, 0], [-1, 1], [5, 5]), context(position=[[10], [0]]))
    assert outcomes_of(d) == ["pass", "reject"]


def test_flip_is_capped_on_the_far_side() -> None:
    eng = engine(max_position_lots=10)
    d = eng.check(0, intents([0], [-1], [30]), context(position=[[10], [0]]))
    np.testing.assert_array_equal(d.approved_qty, [20])  # +10 → −10
    assert rules_of(d) == ["max_position"]


def test_malformed_intents_fail_loudly() -> None:
    eng = engine()
    with pytest.raises(ValueError, match="qty > 0"):
        eng.check(0, intents([0], [1], [0]), context())
    with pytest.raises(ValueError, match="agent out of range"):
        eng.check(0, intents([5], [1], [1]), context())
    with pytest.raises(ValueError, match="side"):
        eng.check(0, intents([0, 1], [1, 0], [1, 1]), context())
    with pytest.raises(ValueError, match="instrument out of range"):
        eng.check(0, intents([0], [1], [1], instrument=[-1]), context())
    ids_out_of_order = intents([0, 1], [1, 1], [1, 1])
    ids_out_of_order.order_id[:] = [5, 3]  # not the risk engine's concern (the broker's)
    eng.check(0, ids_out_of_order, context())
    with pytest.raises(ValueError, match="position must have shape"):
        eng.check(0, intents([0], [1], [1]), context(n=3))


def test_pure_rules_report_value_limit_and_cap() -> None:
    side, exposure, qty = np.array([1, -1, 1]), np.array([3, 3, -8]), np.array([9, 20, 2])
    v = rules.position(side, exposure, qty, 10)
    np.testing.assert_array_equal(v.ok, [False, False, True])
    np.testing.assert_array_equal(v.value, [12, 17, 6])
    np.testing.assert_array_equal(v.cap, [7, 13, 18])
    np.testing.assert_array_equal(rules.reduces(side, exposure, qty), [False, False, True])
    band = rules.price_band(np.array([1, 0]), np.array([95, 0]), np.array([100, 100]), 4.0)
    np.testing.assert_array_equal(band.ok, [False, True])

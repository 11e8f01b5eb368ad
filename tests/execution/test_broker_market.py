"""Market orders through the simulated broker: timing, prices, costs, liquidity, rejects."""

import numpy as np
import pytest
from broker_fixtures import UV, bar, broker, cash, flat, orders

from scarline.execution.types import CASH_SCALE, REJECT_REASONS, SELL, OrderBatch, RejectBatch


def reasons(rejects: RejectBatch) -> list[str]:
    return [REJECT_REASONS[r] for r in rejects.reason]


def test_decision_on_a_close_fills_at_the_next_open_never_the_decision_bar() -> None:
    opens = [10_000, 10_200, 9_900, 10_400]
    closes = [10_100, 10_050, 10_300, 10_500]
    b = broker(1)
    prices: list[tuple[int, int]] = []
    for t in range(len(opens)):  # the kernel's order: execute at t, then decide and submit
        fills, _ = b.execute(bar(t, open_=opens[t], close=closes[t]), cash(1), flat(b))
        prices += [(t, int(p)) for p in fills.price]
        if t < len(opens) - 1:
            b.submit(orders([0], [1], first_id=t, step=t), step=t, ts=t)
    assert prices == [(1, 10_200), (2, 9_900), (3, 10_400)]


def test_an_idle_broker_has_nothing_to_execute() -> None:
    """The kernel skips executing while the broker is idle: then execute would do nothing."""
    b = broker(1)
    assert b.idle
    fills, rejects = b.execute(bar(0, open_=10_000, close=10_000), cash(1), flat(b))
    assert len(fills) == len(rejects) == 0 and b.idle
    b.submit(orders([0], [1], first_id=0, step=0), step=0, ts=0)
    assert not b.idle
    fills, _ = b.execute(bar(1, open_=10_000, close=10_000), cash(1), flat(b))
    assert len(fills) == 1 and b.idle  # filled in full: nothing pending


def test_frictionless_fill_is_exactly_the_open_with_no_costs() -> None:
    b = broker(2)
    b.submit(orders([0, 1], [7, 3], side=[1, SELL]), 0, 0)
    fills, rejects = b.execute(bar(1, open_=123_457, volatility=0.3), cash(2), flat(b))
    assert len(rejects) == 0
    assert fills.price.tolist() == [123_457, 123_457] == fills.ref_price.tolist()
    assert fills.fee.tolist() == [0, 0] and fills.slippage.tolist() == [0, 0]
    assert fills.qty.tolist() == [7, 3] and fills.maker.tolist() == [False, False]


def test_fees_and_slippage_are_charged_per_fill() -> None:
    b = broker(2, fees={"bps": 10, "minimum": 1}, slippage={"fixed_bps": 10})
    b.submit(orders([0, 1], [100, 1], side=[1, SELL]), 0, 0)
    fills, _ = b.execute(bar(1, open_=10_000), cash(2), flat(b))
    assert fills.price.tolist() == [10_010, 9_990]
    buy_notional = 100 * 10_010 * UV  # $10,010 -> 10 bps = $10.01
    assert fills.fee.tolist() == [round(buy_notional * 10 / 1e4), CASH_SCALE]  # sell: $1 minimum
    assert fills.slippage.tolist() == [10 * 100 * UV, 10 * 1 * UV]


def test_two_agents_share_a_thin_bar_pro_rata_and_the_rest_is_refused() -> None:
    b = broker(3, fill={"participation_rate": 0.1})
    b.submit(orders([0, 1, 2], [300, 100, 50], side=[1, 1, SELL]), 0, 0)
    fills, rejects = b.execute(bar(1, volume=1_000), cash(3), flat(b))  # cap 100 lots per side
    assert fills.agent.tolist() == [0, 1, 2]
    assert fills.qty.tolist() == [75, 25, 50]  # buys share 100 as 3:1, the sell fits
    assert rejects.agent.tolist() == [0, 1] and rejects.qty.tolist() == [225, 75]
    assert reasons(rejects) == ["no_liquidity", "no_liquidity"]
    assert len(b.pending()) == 0  # market orders are immediate-or-cancel


def test_participation_cap_is_per_instrument() -> None:
    b = broker(2, m=2, fill={"participation_rate": 0.5})
    b.submit(orders([0, 1], [80, 80], instrument=[0, 1]), 0, 0)
    fills, rejects = b.execute(bar(1, volume=[100, 1_000], m=2), cash(2), flat(b))
    assert fills.qty.tolist() == [50, 80] and rejects.qty.tolist() == [30]


def test_cash_caps_buys_in_order_after_sells_settle() -> None:
    # one lot at 10,000 ticks is $100; the agent has $1,000 and sells 3 lots ($300) first
    b = broker(1, m=2)
    b.submit(
        orders([0, 0, 0, 0], [5, 3, 10, 1], side=[1, SELL, 1, 1], instrument=[0, 1, 0, 0]), 0, 0
    )
    fills, rejects = b.execute(bar(1, m=2), cash(1, 1_000 * CASH_SCALE), flat(b))
    # $1,300 available: 5 lots ($500) fit, the 10-lot order is cut to 8, the last gets none
    assert fills.order_id.tolist() == [0, 1, 2] and fills.qty.tolist() == [5, 3, 8]
    assert rejects.order_id.tolist() == [2, 3] and rejects.qty.tolist() == [2, 1]
    assert reasons(rejects) == ["insufficient_cash"] * 2


def test_cash_cap_counts_fees_and_slippage() -> None:
    b = broker(1, fees={"minimum": 1}, slippage={"vol_coef": 1.0})
    b.submit(orders([0], [10]), 0, 0)
    # slip = 0.04 * sqrt(q / 100): 9 lots -> 1.2 % -> 10,120 ticks -> $910.80 + $1 fee
    fills, rejects = b.execute(
        bar(1, volume=100, volatility=0.04), cash(1, 913 * CASH_SCALE), flat(b)
    )
    assert fills.qty.tolist() == [9] and fills.price.tolist() == [10_120]
    assert fills.slippage.tolist() == [120 * 9 * UV] and fills.fee.tolist() == [CASH_SCALE]
    assert rejects.qty.tolist() == [1] and reasons(rejects) == ["insufficient_cash"]


def test_liquidity_and_cash_rejects_of_one_order_are_both_reported() -> None:
    b = broker(1, fill={"participation_rate": 0.1})
    b.submit(orders([0], [50]), 0, 0)
    fills, rejects = b.execute(bar(1, volume=200), cash(1, 15 * 100 * CASH_SCALE), flat(b))
    assert fills.qty.tolist() == [15]  # capped to 20, then cash for 15
    assert rejects.qty.tolist() == [5, 30]
    assert reasons(rejects) == ["insufficient_cash", "no_liquidity"]


def test_market_order_on_a_missing_bar_is_rejected_no_bar() -> None:
    b = broker(2, m=2)
    b.submit(orders([0, 1], [4, 6], instrument=[0, 1]), 0, 0)
    fills, rejects = b.execute(bar(1, valid=[True, False], m=2), cash(2), flat(b))
    assert fills.agent.tolist() == [0]
    assert rejects.agent.tolist() == [1] and rejects.qty.tolist() == [6]
    assert reasons(rejects) == ["no_bar"]


def test_cancel_drops_the_pending_orders_of_the_masked_agents() -> None:
    b = broker(3, m=2)
    b.submit(
        orders([0, 1, 2, 1], [4, 6, 2, 3], side=[1, 1, SELL, SELL], instrument=[0, 0, 1, 1]), 0, 0
    )
    assert b.pending_qty().tolist() == [[4, 0], [6, -3], [0, -2]]
    rejects = b.cancel(np.array([False, True, False]))
    assert rejects.order_id.tolist() == [1, 3] and rejects.qty.tolist() == [6, 3]
    assert reasons(rejects) == ["cancelled"] * 2
    assert b.pending().order_id.tolist() == [0, 2]
    assert b.pending_qty().tolist() == [[4, 0], [0, 0], [0, -2]]
    assert len(b.cancel(np.array([False, True, False]))) == 0
    fills, _ = b.execute(bar(1, m=2), cash(3), flat(b))
    assert fills.order_id.tolist() == [0, 2]


@pytest.mark.parametrize(
    ("field", "batch"),
    [
        ("qty", orders([0], [0])),
        ("agent", orders([5], [1])),
        ("instrument", orders([0], [1], instrument=[3])),
        ("side", orders([0], [1], side=[0])),
    ],
)
def test_invalid_orders_are_refused_naming_the_field(field: str, batch: OrderBatch) -> None:
    with pytest.raises(ValueError, match=field):
        broker(2).submit(batch, 0, 0)


def test_order_ids_must_keep_increasing_across_submits() -> None:
    b = broker(2)
    b.submit(orders([0], [1], first_id=10), 0, 0)
    with pytest.raises(ValueError, match="order_id"):
        b.submit(orders([1], [1], first_id=10), 0, 0)

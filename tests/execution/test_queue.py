"""The limit-order queue model, alone and inside the broker."""

import numpy as np
from broker_fixtures import UV, bar, broker, cash, flat, orders

from scarline.execution.queue import RiskAverseBarQueue, limit_fill_price
from scarline.execution.types import REJECT_REASONS, SELL

i64 = np.int64


def match(
    model: RiskAverseBarQueue,
    side: int,
    limit: int,
    qty: int,
    queue: int,
    low: int,
    high: int,
    volume: int,
) -> tuple[int, int]:
    a = lambda x: np.array([x], dtype=i64)  # noqa: E731
    fill, after = model.match(
        np.array([side], dtype=np.int8), a(limit), a(qty), a(queue), a(low), a(high), a(volume)
    )
    return int(fill[0]), int(after[0])


def test_queue_model_through_touch_and_miss() -> None:
    model = RiskAverseBarQueue(touch_share=0.1, queue_ahead_share=0.5)
    assert model.initial(np.array([1_000, 7])).tolist() == [500, 3]
    # buy 100 @ 9950 with 500 ahead
    assert match(model, 1, 9950, 100, 500, low=9949, high=10_100, volume=10) == (100, 0)
    assert match(model, 1, 9950, 100, 500, low=9950, high=10_100, volume=3_000) == (0, 200)
    assert match(model, 1, 9950, 100, 200, low=9950, high=10_100, volume=3_000) == (100, 0)
    assert match(model, 1, 9950, 100, 250, low=9950, high=10_100, volume=3_000) == (50, 0)
    assert match(model, 1, 9950, 100, 250, low=9951, high=10_100, volume=3_000) == (0, 250)
    # the sell side mirrors on the high
    assert match(model, -1, 10_050, 100, 0, low=9_900, high=10_051, volume=10) == (100, 0)
    assert match(model, -1, 10_050, 100, 280, low=9_900, high=10_050, volume=3_000) == (20, 0)
    assert match(model, -1, 10_050, 100, 280, low=9_900, high=10_049, volume=3_000) == (0, 280)


def test_limit_price_is_never_worse_than_the_limit() -> None:
    side = np.array([1, 1, -1, -1], dtype=np.int8)
    limit = np.array([100, 100, 100, 100], dtype=i64)
    open_ = np.array([90, 110, 90, 110], dtype=i64)
    assert limit_fill_price(side, limit, open_).tolist() == [90, 100, 100, 110]


def test_resting_buy_waits_out_its_queue_then_fills_on_touch_and_through() -> None:
    b = broker(1, fill={"touch_share": 0.1, "queue_ahead_share": 0.5}, fees={"bps": 10})
    b.submit(orders([0], [150], limit=[9_950]), step=0, ts=0, volume=np.array([1_000]))
    c = cash(1)
    # bar 1 does not reach the limit: nothing, queue still 500
    fills, rejects = b.execute(bar(1, low=9_960), c, flat(b))
    assert len(fills) == 0 and len(rejects) == 0
    # bar 2 touches: 300 traded at our price, all of it queue ahead (200 left)
    fills, _ = b.execute(bar(2, low=9_950, volume=3_000), c, flat(b))
    assert len(fills) == 0
    # bar 3 touches again: 200 more ahead, then 100 for us
    fills, _ = b.execute(bar(3, low=9_950, volume=3_000), c, flat(b))
    assert fills.qty.tolist() == [100] and fills.price.tolist() == [9_950]
    assert fills.maker.tolist() == [True] and fills.slippage.tolist() == [0]
    assert fills.fee.tolist() == [round(100 * 9_950 * UV * 10 / 1e4)]
    assert b.pending().qty.tolist() == [50]
    assert b.pending_qty().tolist() == [[50]]
    # bar 4 trades through: the rest fills at the limit
    fills, rejects = b.execute(bar(4, low=9_900), c, flat(b))
    assert fills.qty.tolist() == [50] and fills.price.tolist() == [9_950]
    assert len(rejects) == 0 and len(b.pending()) == 0


def test_gap_through_the_limit_fills_at_the_open() -> None:
    b = broker(2)
    b.submit(
        orders([0, 1], [10, 10], side=[1, SELL], limit=[9_950, 10_050]),
        0,
        0,
        volume=np.array([1_000]),
    )
    fills, _ = b.execute(bar(1, open_=9_900, low=9_800, high=9_990), cash(2), flat(b))
    assert fills.agent.tolist() == [0] and fills.price.tolist() == [9_900]
    assert fills.ref_price.tolist() == [9_900] and fills.slippage.tolist() == [0]
    fills, _ = b.execute(bar(2, open_=10_100, low=10_060, high=10_200), cash(2), flat(b))
    assert fills.agent.tolist() == [1] and fills.price.tolist() == [10_100]


def test_unfilled_limit_expires_after_its_time_in_force() -> None:
    b = broker(1, fill={"limit_tif_steps": 2})
    b.submit(orders([0], [10], limit=[9_000]), 0, 0, volume=np.array([1_000]))
    for step in (1, 2):  # due at 1, rests through 1 + 2 = 3
        fills, rejects = b.execute(bar(step), cash(1), flat(b))
        assert len(fills) == 0 and len(rejects) == 0
    fills, rejects = b.execute(bar(3), cash(1), flat(b))
    assert len(fills) == 0 and len(b.pending()) == 0
    assert rejects.qty.tolist() == [10]
    assert [REJECT_REASONS[r] for r in rejects.reason] == ["limit_expired"]


def test_partially_filled_limit_expires_with_its_remainder() -> None:
    b = broker(1, fill={"limit_tif_steps": 0, "queue_ahead_share": 0.0, "touch_share": 0.1})
    b.submit(orders([0], [100], limit=[9_950]), 0, 0, volume=np.array([1_000]))
    fills, rejects = b.execute(bar(1, low=9_950, volume=400), cash(1), flat(b))
    assert fills.qty.tolist() == [40]
    assert rejects.qty.tolist() == [60] and REJECT_REASONS[rejects.reason[0]] == "limit_expired"


def test_limit_rests_through_a_missing_bar() -> None:
    b = broker(1)
    b.submit(orders([0], [10], limit=[10_500]), 0, 0, volume=np.array([1_000]))
    fills, rejects = b.execute(bar(1, valid=False), cash(1), flat(b))
    assert len(fills) == 0 and len(rejects) == 0 and len(b.pending()) == 1
    fills, _ = b.execute(bar(2, open_=10_000), cash(1), flat(b))
    assert fills.price.tolist() == [10_000]


def test_limit_orders_need_the_submit_bar_volume() -> None:
    import pytest

    with pytest.raises(ValueError, match="volume"):
        broker(1).submit(orders([0], [10], limit=[10_500]), 0, 0)

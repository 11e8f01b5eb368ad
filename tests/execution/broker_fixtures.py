"""Small builders for broker tests: orders, bars and brokers from keyword arguments."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from scarline.execution.broker import SimBroker
from scarline.execution.config import ExecutionConfig
from scarline.execution.types import (
    BUY,
    CASH_SCALE,
    LIMIT,
    MARKET,
    BarSlice,
    FillBatch,
    OrderBatch,
    RejectBatch,
    unit_values,
)

UV = int(unit_values(["0.01"], ["1"])[0])  # cash units per lot per tick: tick 0.01, lot 1
RICH = 10**9 * CASH_SCALE  # cash that never binds


def orders(
    agent: list[int],
    qty: list[int],
    side: list[int] | None = None,
    instrument: list[int] | None = None,
    limit: list[int] | None = None,
    first_id: int = 0,
    step: int = 0,
) -> OrderBatch:
    """Market orders, or limit orders where ``limit`` is given (0 in ``limit`` = market)."""
    k = len(agent)
    lim = np.array(limit if limit is not None else [0] * k, dtype=np.int64)
    return OrderBatch(
        order_id=np.arange(first_id, first_id + k, dtype=np.int64),
        agent=np.array(agent, dtype=np.int64),
        instrument=np.array(instrument if instrument is not None else [0] * k, dtype=np.int64),
        side=np.array(side if side is not None else [BUY] * k, dtype=np.int8),
        qty=np.array(qty, dtype=np.int64),
        order_type=np.where(lim > 0, LIMIT, MARKET).astype(np.int8),
        limit_price=lim,
        decision_step=np.full(k, step, dtype=np.int64),
        reducing=np.zeros(k, dtype=bool),
    )


def bar(
    step: int,
    open_: int | list[int] = 10_000,
    high: int | list[int] | None = None,
    low: int | list[int] | None = None,
    close: int | list[int] | None = None,
    volume: int | list[int] = 1_000_000,
    valid: bool | list[bool] = True,
    volatility: float | list[float] = 0.0,
    ts: int | None = None,
    m: int = 1,
) -> BarSlice:
    def arr(x: object, dtype: type) -> np.ndarray:
        return np.broadcast_to(np.asarray(x, dtype=dtype), (m,)).copy()

    o = arr(open_, np.int64)
    return BarSlice(
        step=step,
        ts=step * 60_000_000_000 if ts is None else ts,
        open=o,
        high=arr(high if high is not None else o + 100, np.int64),
        low=arr(low if low is not None else o - 100, np.int64),
        close=arr(close if close is not None else o, np.int64),
        volume=arr(volume, np.int64),
        valid=arr(valid, bool),
        volatility=arr(volatility, np.float64),
    )


def broker(n_agents: int = 2, m: int = 1, cover_uncapped: bool = True, **cfg: dict) -> SimBroker:
    """A broker from ``ExecutionConfig(**cfg)`` (nested dicts), unit value :data:`UV`;
    ``cover_uncapped``: schema 15's covers (False: schema 14's cap)."""
    config = ExecutionConfig.model_validate(cfg)
    values = np.full(m, UV, dtype=np.int64)
    return SimBroker.from_config(config, n_agents, values, cover_uncapped=cover_uncapped)


def cash(n: int, amount: int = RICH) -> np.ndarray:
    return np.full(n, amount, dtype=np.int64)


def flat(b: SimBroker) -> np.ndarray:
    """Every agent of ``b`` without a position: no buy covers a short."""
    return np.zeros((b.n_agents, b.n_instruments), dtype=np.int64)


def same(a: FillBatch | RejectBatch | OrderBatch, b: FillBatch | RejectBatch | OrderBatch) -> None:
    """Field for field equal, dtypes included (the compiled paths against the numpy one)."""
    for field in a.__dataclass_fields__:
        x, y = getattr(a, field), getattr(b, field)
        assert x.dtype == y.dtype, field
        np.testing.assert_array_equal(x, y, err_msg=field)


def play(broker: SimBroker, s: dict) -> list[tuple[FillBatch, RejectBatch]]:
    """Run session ``s`` (its ``steps``, ``cash``, ``m`` and ``uv``; ``position``, lots per
    agent and instrument, is optional: flat) through ``broker``: each step executes its bar
    against the cash and positions left, books the fills into them, then submits the step's
    orders (a step's ``limit``, ``high`` and ``low`` are optional)."""
    out, next_id = [], 0
    money = np.array(s["cash"], dtype=np.int64)
    shape = (broker.n_agents, broker.n_instruments)
    held = np.array(s.get("position", np.zeros(shape)), dtype=np.int64).reshape(shape)
    for t, step in enumerate(s["steps"]):
        b = bar(
            t,
            open_=step["open"],
            high=step.get("high"),
            low=step.get("low"),
            volume=step["volume"],
            valid=step["valid"],
            volatility=step["sigma"],
            m=s["m"],
        )
        fills, rejects = broker.execute(b, money, held)
        out.append((fills, rejects))
        spent = np.zeros_like(money)
        notional = fills.qty * fills.price * s["uv"]
        np.add.at(spent, fills.agent, np.where(fills.side > 0, notional, -notional) + fills.fee)
        money = money - spent
        held = held.copy()
        np.add.at(held, (fills.agent, fills.instrument), fills.side.astype(np.int64) * fills.qty)
        k = len(step["agent"])
        if k:
            o = orders(
                step["agent"],
                step["qty"],
                step["side"],
                step["instrument"],
                limit=step.get("limit"),
                first_id=next_id,
                step=t,
            )
            broker.submit(o, t, b.ts, b.volume)
            next_id += k
    return out


def numpy_and_compiled(
    n: int, m: int, cfg: dict, uv: int = UV, cover_uncapped: bool = True
) -> tuple[SimBroker, SimBroker]:
    """Two brokers of ``ExecutionConfig(**cfg)``: one on the numpy path (the reference), one
    that may take the compiled bars (market orders, and limit orders under the risk-averse
    queue); ``cover_uncapped``: schema 15's covers (False: schema 14's cap)."""
    config = ExecutionConfig.model_validate(cfg)
    values = np.full(m, uv, dtype=np.int64)
    ref = SimBroker.from_config(config, n, values, cover_uncapped=cover_uncapped)
    ref._market_params = ref._touch_share = None
    fast = SimBroker.from_config(config, n, values, cover_uncapped=cover_uncapped)
    assert fast._market_params is not None and fast._touch_share is not None
    return ref, fast


SIGMA = st.one_of(
    st.floats(0, 0.2), st.just(float("nan")), st.just(float("inf")), st.just(-float("inf"))
)
"""A bar's volatility estimate, the absurd ones included."""

HELD = st.one_of(st.integers(-(10**7), -1), st.integers(-50, 50), st.just(0))
"""An agent's lots in one instrument at a session's start: often short (as large as the
orders, so buys cover, flip or only open), some flat or long."""


def same_session(s: dict) -> None:
    """Session ``s`` played on the numpy path and on the compiled bars gives the same fills
    and rejects at every bar, and leaves the same book (orders, due steps, queues); ``s``'s
    ``cover`` (default True) says whether covers are held to cash (False: schema 14)."""
    ref, fast = numpy_and_compiled(s["n"], s["m"], s["cfg"], s["uv"], s.get("cover", True))
    for (f_ref, r_ref), (f_fast, r_fast) in zip(play(ref, s), play(fast, s), strict=True):
        same(f_ref, f_fast)
        same(r_ref, r_fast)
    same(ref.pending(), fast.pending())
    for field in ("min_step", "min_ts", "first_due", "queue"):
        np.testing.assert_array_equal(getattr(ref._book, field), getattr(fast._book, field))

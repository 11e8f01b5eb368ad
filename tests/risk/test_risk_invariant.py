"""Hypothesis: whatever the policies ask, approved orders never take a book past its limits.

Limits hold in the worst case over fills: position + the working and every approved buy (if
only the buys fill) and − the working and every approved sell (if only the sells fill), per
agent × instrument, for position, notional and gross notional; cash for buys of long-only
agents. Working orders count by side (schema 14) or netted (before: then the worst case is
over the approved orders only, the working ones filling as their net).
"""

from __future__ import annotations

import msgspec
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from risk_fixtures import UV, context, intents, money

from scarline.events import AnyEvent
from scarline.execution.types import LIMIT
from scarline.risk import RiskConfig, RiskEngine
from scarline.risk.codes import HALT, PASS, REJECT, THROTTLE, WARN
from scarline.risk.events import risk_checks_event
from scarline.session import SessionIds

IDS = SessionIds("r", "s")

N, M = 3, 2


@st.composite
def scenarios(draw: st.DrawFn) -> dict:
    prices = np.array(draw(st.lists(st.integers(1, 30_000), min_size=M, max_size=M)), np.int64)
    lot_value = prices * UV  # cash units per lot
    max_lots = draw(st.integers(0, 40))
    max_notional = draw(st.integers(0, 200_000))  # currency
    max_gross = draw(st.integers(0, 300_000))
    notional_lots = money(max_notional) // lot_value
    bound = np.minimum(max_lots, notional_lots)
    by_side = draw(st.booleans())
    up, dn = np.zeros((N, M), np.int64), np.zeros((N, M), np.int64)
    for a in range(N):  # existing books within every limit, whichever working side fills
        room = money(max_gross)
        for m in range(M):
            top = int(min(bound[m], room // lot_value[m]))
            dn[a, m] = draw(st.integers(-top, top))
            up[a, m] = draw(st.integers(int(dn[a, m]), top)) if by_side else dn[a, m]
            room -= max(abs(int(up[a, m])), abs(int(dn[a, m]))) * int(lot_value[m])
    if by_side:  # working sells of up to the spread, the rest working buys
        spread = (up - dn).ravel().tolist()
        sells = np.array([draw(st.integers(0, w)) for w in spread], np.int64).reshape(N, M)
        pending = up - dn - 2 * sells  # buys − sells, buys = up − dn − sells
        position = dn + sells
    else:
        sells = None
        pending = np.array(
            draw(st.lists(st.integers(-5, 5), min_size=N * M, max_size=N * M)), np.int64
        ).reshape(N, M)
        position = up - pending
    steps = []
    for _ in range(draw(st.integers(1, 3))):
        k = draw(st.integers(0, 25))
        rows = draw(
            st.lists(
                st.tuples(
                    st.integers(0, N - 1),
                    st.integers(0, M - 1),
                    st.sampled_from([-1, 1]),
                    st.integers(1, 60),
                    st.booleans(),
                    st.booleans(),
                ),
                min_size=k,
                max_size=k,
            )
        )
        steps.append(rows)
    return {
        "prices": prices,
        "position": position,
        "pending": pending,
        "sells": sells,
        "cash": draw(st.integers(0, 500_000)),
        "steps": steps,
        "cfg": RiskConfig(
            max_position_lots=max_lots,
            max_notional=float(max_notional),
            max_gross_notional=float(max_gross),
            min_cash=0.0,
            max_orders_per_window=draw(st.none() | st.integers(0, 10)),
            order_window_steps=2,
        ),
    }


def _batch(rows: list, first: int, prices: np.ndarray):
    agent = [r[0] for r in rows]
    instrument = [r[1] for r in rows]
    limit = [int(prices[r[1]]) + 1 if r[4] else 0 for r in rows]  # some limit orders
    b = intents(
        agent,
        [r[2] for r in rows],
        [r[3] for r in rows],
        instrument=instrument,
        limit_price=limit,
        first_id=first,
    )
    # the kernel's `reducing` flag is random here: risk must not trust it
    return b.__class__(
        *(
            getattr(b, f) if f != "reducing" else np.array([r[5] for r in rows], bool)
            for f in b.__dataclass_fields__
        )
    )


def run(s: dict) -> list:
    cfg, prices = s["cfg"], s["prices"]
    eng = RiskEngine(cfg, N, np.full(M, UV, np.int64))
    position, pending, working_sells = s["position"].copy(), s["pending"], s["sells"]
    lot_value = prices * UV
    out, first = [], 0
    for step, rows in enumerate(s["steps"]):
        ctx = context(
            N, M, position=position, pending=pending, cash=float(s["cash"]), last=prices,
            pending_sells=working_sells,
        )  # fmt: skip
        eng.update(step, ctx.equity)
        batch = _batch(rows, first, prices)
        first += len(rows)
        d = eng.check(step, batch, ctx)
        out.append(d)
        base = position + pending
        if working_sells is None:  # netted: the working orders fill as their net
            base_up = base_dn = base
        else:
            base_up, base_dn = base + working_sells, position - working_sells
        buys, sells = np.zeros((N, M), np.int64), np.zeros((N, M), np.int64)
        signed = d.intents.side.astype(np.int64)
        np.add.at(buys, (batch.agent, batch.instrument), np.where(signed > 0, d.approved_qty, 0))
        np.add.at(sells, (batch.agent, batch.instrument), np.where(signed < 0, d.approved_qty, 0))
        worst = np.maximum(np.abs(base_up + buys), np.abs(base_dn - sells))
        assert (worst <= cfg.max_position_lots).all()
        assert (worst * lot_value <= money(cfg.max_notional)).all()
        assert (((worst * lot_value).sum(axis=1)) <= money(cfg.max_gross_notional)).all()
        long_only = (base_dn >= 0).all(axis=1)
        working_buys = np.maximum(base_up - position, 0)
        committed = (working_buys * lot_value).sum(axis=1)
        cost_ref = np.where(batch.order_type == LIMIT, batch.limit_price, prices[batch.instrument])
        cost = np.zeros(N, np.int64)
        np.add.at(cost, batch.agent, np.where(signed > 0, d.approved_qty, 0) * cost_ref * UV)
        free = ctx.cash - committed
        assert ((cost == 0) | (free - cost >= 0) | ~long_only).all()
        # verdicts agree with quantities
        q, ok = d.requested, d.approved_qty
        assert ((ok >= 0) & (ok <= q)).all()
        assert np.isin(d.outcome[ok == q], [PASS, WARN]).all()
        assert (d.outcome[(ok > 0) & (ok < q)] == THROTTLE).all()
        assert np.isin(d.outcome[ok == 0], [REJECT, HALT]).all()
        np.testing.assert_array_equal(d.approved.order_id, batch.order_id[ok > 0])
        np.testing.assert_array_equal(d.approved.qty, ok[ok > 0])
        if cfg.max_orders_per_window is not None:
            assert (
                np.bincount(batch.agent[ok > 0], minlength=N) <= cfg.max_orders_per_window
            ).all()
        position = base + buys - sells - pending  # everything approved filled
    return out


@given(scenarios())
@settings(max_examples=150, deadline=None)
def test_no_limit_is_ever_exceeded(s: dict) -> None:
    run(s)


@given(scenarios())
@settings(max_examples=20, deadline=None)
def test_verdicts_are_deterministic(s: dict) -> None:
    a, b = run(s), run(s)
    for x, y in zip(a, b, strict=True):
        for f in ("outcome", "rule", "value", "limit", "requested", "approved_qty"):
            np.testing.assert_array_equal(getattr(x, f), getattr(y, f))
        if len(x):
            ex, _ = risk_checks_event(IDS, "d", 0, x.intents, x)
            ey, _ = risk_checks_event(IDS, "d", 0, y.intents, y)
            raw = msgspec.json.encode(ex)
            assert raw == msgspec.json.encode(ey)
            assert msgspec.json.decode(raw, type=AnyEvent) == ex

"""Hypothesis strategies and small builders for canonical events (shared by the WAL tests)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from scarline.events import (
    Array,
    Bar,
    Decision,
    Event,
    Fill,
    OrderIntent,
    RiskCheck,
    SessionStart,
)
from scarline.instrument import InstrumentSpec

RUN = "run-test"

# Any text JSON can carry, including quotes, backslashes, newlines and non-ASCII
# (lone surrogates are not valid UTF-8, so no writer could store them).
texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
int64s = st.integers(-(2**63), 2**63 - 1)
# NaN/inf have no JSON form (msgspec writes null), so canonical events carry finite floats.
floats = st.floats(allow_nan=False, allow_infinity=False)
sides = st.sampled_from(["buy", "sell"])


def _ids() -> dict[str, st.SearchStrategy[str]]:
    return {"run_id": st.just(RUN), "session_id": texts}


bars = st.builds(
    Bar,
    **_ids(),
    instrument=st.integers(0, 64),
    open=int64s,
    high=int64s,
    low=int64s,
    close=int64s,
    volume=int64s,
    exog=st.lists(floats, max_size=4),
)


@st.composite
def decisions(draw: st.DrawFn) -> Decision:
    n = draw(st.integers(0, 6))
    m = draw(st.integers(1, 3))
    agents = draw(hnp.arrays(np.int64, (n,), unique=True))
    actions = draw(hnp.arrays(np.int8, (n, m), elements=st.integers(-1, 1)))
    target = draw(hnp.arrays(np.int64, (n, m)))
    return Decision(
        run_id=RUN,
        session_id=draw(texts),
        decision_id=draw(texts),
        step=draw(st.integers(0, 10**9)),
        policy=draw(texts),
        agents=Array.of(agents),
        actions=Array.of(actions),
        target_qty=Array.of(target),
    )


order_intents = st.builds(
    OrderIntent,
    **_ids(),
    order_id=texts,
    decision_id=texts,
    agent=st.integers(0, 10**6),
    instrument=st.integers(0, 64),
    side=sides,
    qty=int64s,
    order_type=st.sampled_from(["market", "limit"]),
    limit_price=int64s,
)
fills = st.builds(
    Fill,
    **_ids(),
    fill_id=texts,
    order_id=texts,
    decision_id=texts,
    agent=st.integers(0, 10**6),
    instrument=st.integers(0, 64),
    side=sides,
    price=int64s,
    qty=int64s,
    fee=int64s,
    liquidity=st.sampled_from(["maker", "taker"]),
)
risk_checks = st.builds(
    RiskCheck,
    **_ids(),
    check_id=texts,
    decision_id=texts,
    rule=texts,
    outcome=st.sampled_from(["pass", "warn", "throttle", "reject", "halt"]),
    agent=st.integers(-1, 10**6),
    order_id=texts,
    value=floats,
    limit=floats,
    detail=texts,
)
instrument_specs = st.builds(
    InstrumentSpec, symbol=texts, tick_size=st.sampled_from(["0.01", "1", "0.0001"])
)
session_starts = st.builds(
    SessionStart,
    **_ids(),
    profile=st.sampled_from(["sim", "paper"]),
    universe=texts,
    instruments=st.lists(instrument_specs, max_size=3),
    exog_names=st.lists(texts, max_size=3),
    seed=st.integers(0, 2**63 - 1),
)
events = st.one_of(bars, decisions(), order_intents, fills, risk_checks, session_starts)
stamped = st.tuples(events, st.integers(0, 2**63 - 1))


def bar(i: int, run_id: str = RUN) -> Bar:
    """A small, typical bar whose fields depend on ``i`` (so records differ)."""
    return Bar(
        run_id=run_id,
        session_id="s0",
        instrument=i % 3,
        open=10_000 + i,
        high=10_100 + i,
        low=9_900 + i,
        close=10_050 + i,
        volume=i,
    )


def mixed(n: int) -> list[tuple[Event, int]]:
    """``n`` deterministic events cycling through four kinds, ts = 1000 * seq (filter tests)."""
    ids = {"run_id": RUN, "session_id": "s0"}

    def make(i: int) -> Event:
        if i % 4 == 0:
            return bar(i)
        if i % 4 == 1:
            return OrderIntent(
                **ids,
                order_id=f"o{i}",
                decision_id=f"d{i}",
                agent=i,
                instrument=0,
                side="buy",
                qty=i,
            )
        if i % 4 == 2:
            return Fill(
                **ids,
                fill_id=f"f{i}",
                order_id=f"o{i}",
                decision_id=f"d{i}",
                agent=i,
                instrument=0,
                side="sell",
                price=100 + i,
                qty=1,
            )
        return RiskCheck(
            **ids,
            check_id=f"c{i}",
            decision_id=f"d{i}",
            rule="max_pos",
            outcome="pass",
            value=i / 2,
        )

    return [(make(i), 1_000 * i) for i in range(n)]

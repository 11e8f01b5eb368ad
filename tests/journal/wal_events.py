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
    KillSwitch,
    Quote,
    RegimeChange,
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


quotes = st.builds(
    Quote,
    **_ids(),
    instrument=st.integers(0, 64),
    bid=int64s,
    ask=int64s,
    bid_size=int64s,
    ask_size=int64s,
)
kill_switches = st.builds(
    KillSwitch,
    **_ids(),
    step=st.integers(0, 10**9),
    reason=texts,
    source=st.sampled_from(["config", "flag-file", "cli", "api"]),
)
regime_changes = st.builds(
    RegimeChange,
    **_ids(),
    step=st.integers(0, 10**9),
    from_regime=texts,
    to_regime=texts,
    confidence=floats,
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
events = st.one_of(bars, decisions(), quotes, kill_switches, regime_changes, session_starts)
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
            return Quote(**ids, instrument=0, bid=100 + i, ask=101 + i, bid_size=i, ask_size=1)
        if i % 4 == 2:
            return KillSwitch(**ids, step=i, reason=f"r{i}", source="flag-file")
        return RegimeChange(**ids, step=i, from_regime="calm", to_regime="chaos", confidence=i / 2)

    return [(make(i), 1_000 * i) for i in range(n)]

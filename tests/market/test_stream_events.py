"""Rebuilding a market from WAL events: the same arrays as a loop over them, and a bad
record named in the error."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scarline.errors import WalError
from scarline.events import Bar, InstrumentSpec, SessionStart
from scarline.market.stream import market_from_events

M, K = 3, 2


def start() -> SessionStart:
    return SessionStart(
        run_id="r", session_id="s", profile="sim", universe="u", exog_names=["a", "b"],
        instruments=[InstrumentSpec(symbol=f"S{m}") for m in range(M)],
    )  # fmt: skip


def bar(m: int, close: int, exog: list[float] | None = None, **fields: int) -> Bar:
    values = {"open": close, "high": close + 1, "low": close - 1, "volume": 10} | fields
    return Bar(
        run_id="r", session_id="s", instrument=m, close=close,
        exog=[0.5, -1.0] if exog is None else exog, **values,
    )  # fmt: skip


def loop_reference(events: list[tuple[int, Bar]]) -> dict[str, np.ndarray]:
    """The arrays, one record at a time: a later record of a cell wins."""
    stamps = sorted({ts for ts, _ in events})
    row = {ts: i for i, ts in enumerate(stamps)}
    close = np.zeros((len(stamps), M), dtype=np.int64)
    valid = np.zeros((len(stamps), M), dtype=bool)
    exog = np.zeros((len(stamps), M, K))
    for ts, b in events:
        close[row[ts], b.instrument] = b.close
        valid[row[ts], b.instrument] = True
        exog[row[ts], b.instrument] = b.exog
    return {"timestamps": np.array(stamps, dtype=np.int64), "close": close, "valid": valid,
            "exog": exog}  # fmt: skip


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 6), st.integers(0, M - 1), st.integers(1, 10**12),
                  st.floats(-5, 5)),
        max_size=30,
    )
)  # fmt: skip
def test_the_market_equals_a_loop_over_the_records(rows: list) -> None:
    events = [(ts * 1000, bar(m, c, [x, -x])) for ts, m, c, x in rows]
    market = market_from_events(start(), events)
    for name, want in loop_reference(events).items():
        np.testing.assert_array_equal(getattr(market, name), want, err_msg=name)


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        (bar(7, 100), "names instrument 7"),
        (bar(1, 100, high=2**63), "has high 9223372036854775808, outside int64"),
        (bar(2, 100, exog=[1.0]), "has 1 exogenous values, its SessionStart names 2"),
    ],
)
def test_a_bad_record_is_named(bad: Bar, says: str) -> None:
    events = [(1000, bar(0, 100)), (2000, bad), (3000, bar(1, 100))]
    with pytest.raises(WalError, match=says) as err:
        market_from_events(start(), events)
    assert "at ts 2000" in str(err.value)

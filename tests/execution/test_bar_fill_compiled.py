"""The compiled bar of market and limit orders equals the broker's numpy path, field for
field, the resting book included."""

import numpy as np
from broker_fixtures import HELD, SIGMA, UV, numpy_and_compiled, play, same, same_session
from hypothesis import given, settings
from hypothesis import strategies as st

from scarline.execution import bar_fill_compiled
from scarline.execution.broker import SimBroker
from scarline.execution.config import ExecutionConfig
from scarline.execution.types import CASH_SCALE, REJECT_REASONS


def test_reject_codes_match_the_reject_reasons() -> None:
    assert REJECT_REASONS.index("no_bar") == bar_fill_compiled._NO_BAR
    assert REJECT_REASONS.index("insufficient_cash") == bar_fill_compiled._INSUFFICIENT_CASH
    assert REJECT_REASONS.index("limit_expired") == bar_fill_compiled._LIMIT_EXPIRED


@st.composite
def sessions(draw: st.DrawFn) -> dict:
    """Bars of market and limit orders from a few agents: limits below, at and above each
    bar's range (through, touch, miss), queues that take several bars, cash from ample to
    nearly nothing (or overdrawn), positions flat, long or short (buys that cover, flip or
    open) under schema 15's covers or schema 14's cap, time in force from one bar to many."""
    n, m, bars = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 6))
    ints = lambda lo, hi, size: draw(st.lists(st.integers(lo, hi), min_size=size, max_size=size))  # noqa: E731
    steps = []
    for _ in range(bars):
        k = draw(st.integers(0, 10))
        open_ = ints(9_900, 10_100, m)
        steps.append(
            {
                "agent": sorted(ints(0, n - 1, k)) if draw(st.booleans()) else ints(0, n - 1, k),
                "instrument": ints(0, m - 1, k),
                "side": [1 if s else -1 for s in ints(0, 1, k)],
                "qty": ints(1, 10 ** draw(st.integers(1, 6)), k),
                # 0: a market order; else a limit around the bar's range
                "limit": [0 if x < 9_850 else x for x in ints(9_700, 10_200, k)],
                "open": open_,
                "high": [o + h for o, h in zip(open_, ints(0, 100, m), strict=True)],
                "low": [o - d for o, d in zip(open_, ints(0, 100, m), strict=True)],
                "volume": ints(0, 10**5, m),
                "valid": [bool(v) for v in ints(0, 4, m)],
                "sigma": draw(st.lists(SIGMA, min_size=m, max_size=m)),
            }
        )
    uv = draw(st.sampled_from([1, 10, UV]))
    return {
        "n": n,
        "m": m,
        "uv": uv,
        "cash": [c * uv * 10 for c in ints(-1_000, 10_000_000, n)],  # an overdrawn agent too
        "position": [draw(st.lists(HELD, min_size=m, max_size=m)) for _ in range(n)],
        "cover": draw(st.booleans()),
        "steps": steps,
        "cfg": {
            "fees": {
                "bps": draw(st.sampled_from([0.0, 0.5, 7.0])),
                "minimum": draw(st.sampled_from([0.0, 20.0])),
            },
            "slippage": {
                "fixed_bps": draw(st.sampled_from([0.0, 1.5, 30.0])),
                "vol_coef": draw(st.sampled_from([0.0, 0.8])),
            },
            "latency": {"steps": draw(st.integers(0, 2))},
            "fill": {
                "touch_share": draw(st.sampled_from([0.0, 0.1, 0.29, 1.0])),
                "queue_ahead_share": draw(st.sampled_from([0.0, 0.5, 2.0])),
                "limit_tif_steps": draw(st.integers(1, 4)),
            },
        },
    }


@settings(max_examples=300, deadline=None)
@given(sessions())
def test_the_compiled_bar_equals_the_numpy_path(s: dict) -> None:
    same_session(s)


def test_a_touched_limit_fills_after_its_queue_and_a_stale_one_expires() -> None:
    """A buy at 9,900 joins 500 lots ahead (half the submit bar's 1,000); touches of 300 lots
    eat the queue, then fill 100; untouched, the rest expires after its time in force."""
    cfg = {
        "fees": {"bps": 1.0},
        "slippage": {"fixed_bps": 1.0, "vol_coef": 0.0},
        "fill": {"touch_share": 0.3, "queue_ahead_share": 0.5, "limit_tif_steps": 4},
    }
    touch = {"open": [10_000], "high": [10_050], "low": [9_900], "volume": [1_000]}
    miss = {"open": [10_000], "high": [10_050], "low": [9_950], "volume": [1_000]}
    none: dict = {"agent": [], "instrument": [], "side": [], "qty": [], "limit": []}
    common = {"valid": [True], "sigma": [0.0]}
    s = {
        "n": 1,
        "m": 1,
        "uv": UV,
        "cash": [10**6 * CASH_SCALE],
        "steps": [
            {**touch, **common, "agent": [0], "instrument": [0], "side": [1], "qty": [150],
             "limit": [9_900]},
            {**touch, **common, **none},  # queue 500 -> 200, nothing fills
            {**touch, **common, **none},  # 100 of the 300 fill, the queue is gone
            {**miss, **common, **none},
            {**miss, **common, **none},
            {**miss, **common, **none},  # due since bar 1: expired at bar 1 + 4
        ],
    }  # fmt: skip
    ref, fast = numpy_and_compiled(1, 1, cfg, UV)
    got = play(fast, s)
    assert [len(f) for f, _ in got] == [0, 0, 1, 0, 0, 0]
    fills = got[2][0]
    assert fills.qty[0] == 100 and fills.price[0] == 9_900 and fills.maker[0]
    assert fills.ref_price[0] == 9_900  # a maker fill is referenced at its own price
    expired = [r for _, r in got if len(r)]
    assert len(expired) == 1 and REJECT_REASONS[expired[0].reason[0]] == "limit_expired"
    assert expired[0].qty[0] == 50
    for (f_ref, r_ref), (f_fast, r_fast) in zip(play(ref, s), got, strict=True):
        same(f_ref, f_fast)
        same(r_ref, r_fast)


def test_a_custom_queue_model_keeps_the_numpy_path() -> None:
    class Queue:
        def initial(self, volume: np.ndarray) -> np.ndarray:
            return np.zeros(len(volume), dtype=np.int64)

        def match(self, side, limit, qty, queue, low, high, volume):  # type: ignore[no-untyped-def]
            return qty, queue

    config = ExecutionConfig()
    fast = SimBroker.from_config(config, 1, np.full(1, UV))
    custom = SimBroker(
        1, np.full(1, UV), fast.fees, fast.slippage, fast.latency, fast.fill_cfg, queue=Queue()
    )
    assert fast._touch_share is not None and custom._touch_share is None

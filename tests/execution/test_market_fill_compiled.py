"""The compiled bar of market orders equals the broker's numpy path, field for field."""

import numpy as np
from broker_fixtures import HELD, SIGMA, UV, numpy_and_compiled, play, same, same_session
from hypothesis import given, settings
from hypothesis import strategies as st

from scarline.execution import market_fill_compiled
from scarline.execution.broker import SimBroker
from scarline.execution.config import ExecutionConfig
from scarline.execution.types import CASH_SCALE, REJECT_REASONS


def test_reject_codes_match_the_reject_reasons() -> None:
    assert REJECT_REASONS.index("no_bar") == market_fill_compiled._NO_BAR
    assert REJECT_REASONS.index("insufficient_cash") == market_fill_compiled._INSUFFICIENT_CASH


@st.composite
def sessions(draw: st.DrawFn) -> dict:
    """A few bars of market orders from a few agents; cash from ample to nearly nothing (or
    overdrawn), positions flat, long or short (buys that cover, flip or open), under
    schema 15's covers or schema 14's cap."""
    n, m, bars = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 4))
    ints = lambda lo, hi, size: draw(st.lists(st.integers(lo, hi), min_size=size, max_size=size))  # noqa: E731
    steps = []
    for _ in range(bars):
        k = draw(st.integers(0, 12))
        steps.append(
            {
                "agent": sorted(ints(0, n - 1, k)) if draw(st.booleans()) else ints(0, n - 1, k),
                "instrument": ints(0, m - 1, k),
                "side": [1 if s else -1 for s in ints(0, 1, k)],
                "qty": ints(1, 10 ** draw(st.integers(1, 7)), k),
                "open": ints(1, 20_000, m),
                "volume": ints(0, 10**6, m),
                "valid": [bool(v) for v in ints(0, 4, m)],
                "sigma": draw(st.lists(SIGMA, min_size=m, max_size=m)),
            }
        )
    uv = draw(st.sampled_from([1, 7, 10, 1_000, UV]))  # crypto lots to stock lots
    return {
        "n": n,
        "m": m,
        "uv": uv,
        "cash": [c * uv * 10 for c in ints(-1_000, 10_000_000, n)],
        "position": [draw(st.lists(HELD, min_size=m, max_size=m)) for _ in range(n)],
        "cover": draw(st.booleans()),
        "steps": steps,
        "cfg": {
            "fees": {
                "bps": draw(st.sampled_from([0.0, 0.5, 7.0, 100.0])),
                "minimum": draw(st.sampled_from([0.0, 0.5, 20.0])),
            },
            "slippage": {
                "fixed_bps": draw(st.sampled_from([0.0, 1.5, 30.0])),
                "vol_coef": draw(st.sampled_from([0.0, 0.1, 0.8])),
            },
            "latency": {"steps": draw(st.integers(0, 2))},
        },
    }


@settings(max_examples=300, deadline=None)
@given(sessions())
def test_the_compiled_bar_equals_the_numpy_path(s: dict) -> None:
    same_session(s)


def test_a_cash_cut_buy_fills_the_largest_affordable_qty() -> None:
    """One agent, two buys it cannot both pay: the first is cut, the second gets nothing."""
    cfg = {"fees": {"bps": 7.0, "minimum": 0.5}, "slippage": {"fixed_bps": 3.0, "vol_coef": 0.8}}
    ref, fast = numpy_and_compiled(1, 1, cfg)
    s = {
        "n": 1,
        "m": 1,
        "uv": UV,
        "cash": [5_000 * CASH_SCALE],
        "steps": [
            {"agent": [0, 0], "instrument": [0, 0], "side": [1, 1], "qty": [900, 50],
             "open": [10_000], "volume": [10_000], "valid": [True], "sigma": [0.02]},
            {"agent": [], "instrument": [], "side": [], "qty": [],
             "open": [10_000], "volume": [10_000], "valid": [True], "sigma": [0.02]},
        ],
    }  # fmt: skip
    got = play(fast, s)
    fills, rejects = got[1]
    assert 0 < fills.qty[0] < 900 and len(fills) == 1
    assert REJECT_REASONS[rejects.reason[0]] == "insufficient_cash" and len(rejects) == 2
    cost = fills.qty[0] * fills.price[0] * UV + fills.fee[0]
    assert cost <= 5_000 * CASH_SCALE
    for (f_ref, r_ref), (f_fast, r_fast) in zip(play(ref, s), got, strict=True):
        same(f_ref, f_fast)
        same(r_ref, r_fast)


def test_limit_orders_or_a_participation_cap_keep_the_numpy_path() -> None:
    config = ExecutionConfig.model_validate({"fill": {"participation_rate": 0.1}})
    assert SimBroker.from_config(config, 1, np.full(1, UV))._market_params is None
    assert SimBroker(1, np.full(1, UV), *_models(), compiled=False)._market_params is None


def _models() -> tuple:
    from scarline.execution.fees import BpsMinFee
    from scarline.execution.latency import build_latency_model
    from scarline.execution.slippage import FixedPlusVolatility

    config = ExecutionConfig()
    return (
        BpsMinFee(1.0, 0.0),
        FixedPlusVolatility(1.0, 0.1),
        build_latency_model(config.latency),
        config.fill,
    )

"""The compiled pre-trade check equals the Python reference exactly, and the engine uses it
only where it covers the configuration.

Random batches (several intents per agent, unsorted agents, limit and market orders, kill
and halt states, every limit on or off, money limits beyond 2**53) go through both
:func:`scarline.risk.check.evaluate` and :func:`scarline.risk.check_compiled.try_evaluate`:
every verdict array must have the same dtype and the same bytes (floats bit for bit).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from risk_fixtures import UV, context, engine, intents

from scarline.execution.types import CASH_SCALE, LIMIT, MARKET, OrderBatch
from scarline.risk import RULES, RiskContext, check_compiled
from scarline.risk.check import LadderView, Verdicts, evaluate
from scarline.risk.config import MicrostructureConfig
from scarline.risk.limits import Limits, VenueMinimums, to_cash_units

FIELDS = ("outcome", "rule", "value", "limit", "approved", "breach")


def assert_same(got: Verdicts | None, want: Verdicts) -> None:
    assert got is not None, "the compiled path declined a batch it covers"
    for name in FIELDS:
        g, w = getattr(got, name), getattr(want, name)
        assert g.dtype == w.dtype, name
        assert g.tobytes() == w.tobytes(), f"{name}: {g} != {w}"


def maybe(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.none() | strategy


money = st.sampled_from([0.0, 50.0, 1_000.0, 12_345.67, 200_000.0, 1e10, 3.3e12])
"""Currency amounts; 1e10 and up are beyond 2**53 cash units (float division differs)."""


@st.composite
def limits(draw: st.DrawFn, m: int) -> Limits:
    venue = None
    if draw(st.booleans()):
        venue = VenueMinimums(
            np.array(draw(st.lists(st.integers(0, 8), min_size=m, max_size=m)), np.int64),
            np.array(
                draw(st.lists(st.sampled_from([0, 10**9, 10**11]), min_size=m, max_size=m)),
                np.int64,
            ),
        )
    return Limits(
        unit_values=np.array(
            draw(st.lists(st.sampled_from([UV, 1, 7, 10**6]), min_size=m, max_size=m)), np.int64
        ),
        max_position=draw(maybe(st.integers(0, 60))),
        max_notional=to_cash_units(draw(maybe(money))),
        max_gross=to_cash_units(draw(maybe(money))),
        min_cash=to_cash_units(draw(maybe(st.sampled_from([-100.0, 0.0, 500.0, 90_000.0])))),
        max_orders=draw(maybe(st.integers(0, 4))),
        price_band_pct=draw(maybe(st.sampled_from([0.0, 0.5, 5.0, 33.3]))),
        max_quote_age_ns=draw(maybe(st.sampled_from([0, 50, 100]))),
        max_spread_bps=draw(maybe(st.sampled_from([0.0, 3.0, 20.0, 50.0, 1e4]))),  # 20: at a spread
        max_drawdown_pct=draw(maybe(st.sampled_from([0.0, 10.0, 33.3]))),
        throttle_scale=draw(st.sampled_from([0.0, 0.1, 0.25, 0.5, 1 / 3, 1.0])),
        venue_min=venue,
    )


@st.composite
def batches(draw: st.DrawFn) -> tuple[Limits, OrderBatch, RiskContext, LadderView]:
    n, m = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    k = draw(st.integers(1, 16))
    ints = st.integers
    rows = draw(
        st.lists(
            st.tuples(
                ints(0, n - 1),  # agent
                ints(0, m - 1),  # instrument
                st.sampled_from([-1, 1]),  # side
                ints(1, 60),  # qty
                st.sampled_from([MARKET, LIMIT]),
                st.sampled_from([0, 1, 9_000, 10_000, 10_700]),  # limit price
            ),
            min_size=k,
            max_size=k,
        )
    )
    if draw(st.booleans()):  # the kernel's batches are sorted by agent
        rows.sort(key=lambda r: r[0])
    cols = list(zip(*rows, strict=True))
    batch = OrderBatch(
        order_id=np.arange(k, dtype=np.int64),
        agent=np.array(cols[0], np.int64),
        instrument=np.array(cols[1], np.int64),
        side=np.array(cols[2], np.int8),
        qty=np.array(cols[3], np.int64),
        order_type=np.array(cols[4], np.int8),
        limit_price=np.array(cols[5], np.int64),
        decision_step=np.zeros(k, np.int64),
        reducing=np.zeros(k, bool),
    )

    def book(lo: int, hi: int) -> np.ndarray:
        return np.array(draw(st.lists(ints(lo, hi), min_size=n * m, max_size=n * m))).reshape(n, m)

    def per_instrument(values: st.SearchStrategy) -> np.ndarray:
        return np.array(draw(st.lists(values, min_size=m, max_size=m)), np.int64)

    # working orders by side (schema 14 on: pending is their net) or netted (before)
    sells = book(0, 8).astype(np.int64) if draw(st.booleans()) else None
    pending = book(-8, 8).astype(np.int64) if sells is None else book(0, 8) - sells
    quoted = draw(st.booleans())
    bid = per_instrument(st.sampled_from([0, 9_990, 10_000])) if quoted else None
    ask = per_instrument(st.sampled_from([-1, 10_000, 10_010, 11_000])) if quoted else None
    cash = ints(-200_000 * CASH_SCALE, 2_000_000 * CASH_SCALE)  # in debit too (schema 15)
    ctx = RiskContext(
        position=book(-50, 50).astype(np.int64),
        pending=pending.astype(np.int64),
        pending_sells=sells,
        cash=np.array(draw(st.lists(cash, min_size=n, max_size=n)), np.int64),
        equity=np.zeros(n, np.int64),
        last_price=per_instrument(st.sampled_from([-3, 0, *[1, 9_999, 10_000, 25_001] * 4])),
        bid=bid,
        ask=ask,
        quote_ts=per_instrument(st.sampled_from([0, 50, 100, 150]))
        if draw(st.booleans())
        else None,
        now_ts=draw(st.sampled_from([100, 150])),  # ages at a limit are frequent
    )
    floats = st.sampled_from([0.0, 1.5, 20.0, 33.3, float("nan"), float("inf")])

    def per_agent(values: st.SearchStrategy, dtype: type) -> np.ndarray:
        return np.array(draw(st.lists(values, min_size=n, max_size=n)), dtype)

    view = LadderView(
        killed=draw(st.booleans()) and draw(st.booleans()),
        level=per_agent(st.sampled_from([0, 0, 0, 1, 2, 3]), np.int8),
        value=per_agent(floats, np.float64),
        limit=per_agent(floats, np.float64),
        global_level=draw(st.sampled_from([0, 0, 0, 0, 1, 2, 3])),
        global_value=draw(floats),
        global_limit=draw(floats),
        drawdown=per_agent(st.sampled_from([0.0, 5.0, 10.0, 40.0, float("nan")]), np.float64)
        if draw(st.booleans())
        else None,
        orders_used=per_agent(ints(0, 5), np.int64),
    )
    return draw(limits(m)), batch, ctx, view


def _view(n: int, **kw: object) -> LadderView:
    base: dict[str, object] = {
        "killed": False,
        "level": np.zeros(n, np.int8),
        "value": np.zeros(n),
        "limit": np.zeros(n),
        "global_level": 0,
        "global_value": 0.0,
        "global_limit": 0.0,
        "drawdown": None,
        "orders_used": np.zeros(n, np.int64),
    }
    return LadderView(**(base | kw))  # type: ignore[arg-type]


@settings(max_examples=400, deadline=None)
@given(batches())
def test_compiled_verdicts_equal_the_reference(case) -> None:
    lim, batch, ctx, view = case
    assert_same(check_compiled.try_evaluate(lim, batch, ctx, view), evaluate(lim, batch, ctx, view))


@pytest.mark.parametrize("by_side", [False, True])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_large_population_with_every_rule_on(seed: int, by_side: bool) -> None:
    """300 agents × 5 instruments, ~3 intents per agent in random row order, every limit
    on and every agent ladder level present: larger books than hypothesis draws; working
    orders netted (schema 13) or by side (14)."""
    rng = np.random.default_rng(seed)
    n, m, k = 300, 5, 900
    lim = Limits(
        unit_values=np.array([UV, 10**5, 7, 10**6, UV], np.int64),
        max_position=40,
        max_notional=to_cash_units(30_000.0),
        max_gross=to_cash_units(60_000.0),
        min_cash=to_cash_units(1_000.0),
        max_orders=3,
        price_band_pct=5.0,
        max_quote_age_ns=50,
        max_spread_bps=30.0,
        max_drawdown_pct=30.0,
        throttle_scale=0.5,
        venue_min=VenueMinimums(np.array([0, 2, 0, 1, 0]), np.array([0, 0, 10**5, 0, 0])),
    )
    last = np.array([10_000, 2_000_000, 5_000, 3, 0])  # the last one has no price yet
    limit_price = np.where(rng.random(k) < 0.3, rng.integers(9_000, 11_000, k), 0)
    batch = OrderBatch(
        order_id=np.arange(k, dtype=np.int64),
        agent=rng.integers(0, n, k),
        instrument=rng.integers(0, m, k),
        side=rng.choice(np.array([-1, 1], np.int8), k),
        qty=rng.integers(1, 30, k),
        order_type=(limit_price > 0).astype(np.int8),
        limit_price=limit_price,
        decision_step=np.zeros(k, np.int64),
        reducing=np.zeros(k, bool),
    )
    ctx = RiskContext(
        position=rng.integers(-30, 30, (n, m)),
        pending=rng.integers(-3, 3, (n, m)),
        pending_sells=rng.integers(0, 3, (n, m)) if by_side else None,
        cash=rng.integers(0, 100_000 * CASH_SCALE, n),
        equity=np.zeros(n, np.int64),
        last_price=last,
        bid=last - np.array([1, 100, 10, 0, 0]),  # the third's spread is too wide
        ask=last + np.array([1, 100, 10, 1, 0]),
        quote_ts=np.array([110, 100, 90, 10, 0]),  # the fourth's quote is too old
        now_ts=120,
    )
    view = _view(
        n,
        level=rng.choice(np.array([0, 0, 0, 1, 2, 3], np.int8), n),
        value=rng.random(n) * 50,
        limit=rng.random(n) * 50,
        drawdown=rng.random(n) * 35,
        orders_used=rng.integers(0, 3, n),
    )
    want = evaluate(lim, batch, ctx, view)
    assert len(set(want.rule.tolist())) >= 14  # most rules bind somewhere
    assert_same(check_compiled.try_evaluate(lim, batch, ctx, view), want)


@pytest.mark.parametrize("cap", [4, 5, 6])
def test_a_cap_equal_to_the_throttled_request_leaves_the_ladder_binding(cap: int) -> None:
    """Ties go to the (throttled) request, as argmin's do: at cap 5 the ladder names it."""
    e = engine(n=1, max_position_lots=cap)
    batch, ctx = intents([0], [1], [10]), context(1)
    view = _view(1, level=np.array([2], np.int8), value=np.array([12.5]), limit=np.array([10.0]))
    want = evaluate(e.limits, batch, ctx, view)
    assert RULES[want.rule[0]] == ("max_position" if cap < 5 else "ladder_throttle")
    assert_same(check_compiled.try_evaluate(e.limits, batch, ctx, view), want)


def test_an_agent_with_many_intents_sees_its_earlier_approvals() -> None:
    """Deep rounds on one agent (the position cap binds mid-way), interleaved with another."""
    e = engine(n=2, m=2, max_position_lots=25, max_gross_notional=3_500.0, min_cash=0.0)
    agent, instrument = [0, 1, 0, 0, 1, 0, 0, 0], [0, 0, 1, 0, 1, 0, 0, 1]
    batch = intents(agent, [1, 1, 1, -1, 1, 1, 1, -1], [10] * 8, instrument=instrument)
    ctx = context(2, 2, position=[[3, -2], [0, 0]], pending=[[1, 0], [0, 4]])
    view = _view(2)
    want = evaluate(e.limits, batch, ctx, view)
    assert {RULES[r] for r in want.rule} == {"none", "max_position", "max_gross_notional"}
    assert_same(check_compiled.try_evaluate(e.limits, batch, ctx, view), want)


def test_inputs_outside_the_kernels_domain_are_left_to_the_reference() -> None:
    e = engine(n=2, max_position_lots=5)
    ctx, view = context(2), _view(2)
    assert check_compiled.try_evaluate(e.limits, intents([0], [1], [0]), ctx, view) is None
    assert check_compiled.try_evaluate(e.limits, intents([2], [1], [1]), ctx, view) is None
    as_int32 = replace(intents([0], [1], [1]), qty=np.array([1], np.int32))
    assert check_compiled.try_evaluate(e.limits, as_int32, ctx, view) is None
    assert check_compiled.try_evaluate(e.limits, intents([0], [1], [1]), ctx, view) is not None
    huge = replace(e.limits, max_position=2**70)  # beyond int64 (the config refuses it)
    assert check_compiled.try_evaluate(huge, intents([0], [1], [1]), ctx, view) is None


def _spy(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Which path each RiskEngine.check took."""
    import scarline.risk.engine as engine_module

    calls: list[str] = []
    reference, compiled = engine_module.evaluate, check_compiled._kernel

    def ref(*args: object) -> Verdicts:
        calls.append("python")
        return reference(*args)  # type: ignore[arg-type]

    def jit(*args: object) -> object:
        calls.append("compiled")
        return compiled(*args)

    monkeypatch.setattr(engine_module, "evaluate", ref)
    monkeypatch.setattr(check_compiled, "_kernel", jit)
    return calls


def test_microstructure_filters_take_the_python_path(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _spy(monkeypatch)
    covered = engine(n=2, max_position_lots=5)
    covered.check(0, intents([0, 1], [1, 1], [3, 9]), context(2))
    micro = engine(n=2, max_position_lots=5, microstructure=MicrostructureConfig(vpin_throttle=0.7))
    assert micro.limits.micro is not None
    vpin = np.array([0.9])
    d = micro.check(0, intents([0, 1], [1, 1], [3, 9]), context(2, vpin=vpin))
    assert calls == ["compiled", "python"]
    assert d.approved_qty.tolist() == [1, 4]  # the VPIN throttle halved them


def test_the_switch_turns_the_compiled_path_off(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _spy(monkeypatch)
    monkeypatch.setattr(check_compiled, "ENABLED", False)
    engine(n=2, max_position_lots=5).check(0, intents([0], [1], [3]), context(2))
    assert calls == ["python"]


def test_a_run_writes_the_same_wal_on_either_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run with most rules on, several instruments (several intents per agent) and the
    ladder's levels reached: its WAL bytes do not depend on the path."""
    from scarline.journal import read_records
    from scarline.market.io import write_market
    from scarline.market.synthetic import SynthSpec, generate

    market = generate(SynthSpec(n_steps=300, n_instruments=3, seed=5, quotes=True))
    data = write_market(market, tmp_path / "m.csv")
    calls = _spy(monkeypatch)
    wals, paths, rules = {}, {}, set()
    for on in (True, False):
        monkeypatch.setattr(check_compiled, "ENABLED", on)
        wal = _run_wal(data, tmp_path / str(on))
        wals[on] = [p.read_bytes() for p in sorted(wal.iterdir())]
        paths[on] = set(calls)
        calls.clear()
    assert paths == {True: {"compiled"}, False: {"python"}}
    for rec in read_records(wal, kinds=("RiskChecks",)):
        rules |= {rec.data.rules[c] for c in rec.data.rule.numpy()}
    assert {"max_position", "order_rate", "ladder_warn"} <= rules  # the run exercised them
    assert wals[True] == wals[False]


def _run_wal(data: Path, out: Path) -> Path:
    """The WAL directory of a run on ``data`` with most risk rules on."""
    from scarline.config import RunConfig
    from scarline.runner import execute_run

    cfg = RunConfig(
        data={"source": str(data)},
        agents=[
            {
                "kind": "random-entry",
                "count": 8,
                "p_entry": 0.3,
                "p_exit": 0.1,
                "allow_short": True,
                "sizing": {"mode": "fraction", "fraction": 3.0},
            },
            {"kind": "sma-crossover", "fast": [3, 5], "slow": [20]},
        ],
        risk={
            "max_position_lots": 400,
            "max_gross_notional": 300_000.0,
            "min_cash": 1_000.0,
            "max_orders_per_window": 4,
            "order_window_steps": 5,
            "max_spread_bps": 40.0,
            "ladder": {
                "warn_drawdown_pct": 1.0,
                "throttle_drawdown_pct": 2.0,
                "halt_drawdown_pct": 6.0,
                "breach_warn": 2,
                "breach_throttle": 4,
            },
        },
        report=False,
    )
    return execute_run(cfg, run_id="jit", out_dir=out).run_dir / "wal"

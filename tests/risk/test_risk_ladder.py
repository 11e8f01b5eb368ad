"""The ladder: drawdown and repeated breaches escalate WARN → THROTTLE → HALT, with effects."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from risk_fixtures import context, engine, intents, money, outcomes_of, rules_of

from scarline.risk import LEVELS, STATES, LadderConfig, RiskConfig
from scarline.risk.codes import CAUSES
from scarline.risk.ladder import Ladder, LadderTransitions

LADDER = LadderConfig(
    warn_drawdown_pct=10.0,
    throttle_drawdown_pct=20.0,
    halt_drawdown_pct=30.0,
    global_drawdown=False,
)  # per-agent tests; the global row is tested below


def names(levels: np.ndarray) -> list[str]:
    return [LEVELS[x] for x in levels]


def eq(*currency: float) -> np.ndarray:
    return np.array([money(c) for c in currency], np.int64)


def test_drawdown_escalates_warn_throttle_halt_in_order() -> None:
    eng = engine(n=1, ladder=LADDER)
    seen = []
    for step, e in enumerate([100, 105, 95, 94, 83, 80, 73, 70, 110]):
        t = eng.update(step, eq(e))
        seen += [
            (step, LEVELS[a], LEVELS[b], CAUSES[c], v, lim)
            for a, b, c, v, lim in zip(
                t.from_level, t.to_level, t.cause, t.value, t.limit, strict=True
            )
        ]
    assert [s[:4] for s in seen] == [
        (3, "NORMAL", "WARN", "drawdown"),  # 94 is 10.5 % below the 105 peak
        (4, "WARN", "THROTTLE", "drawdown"),  # 83: 20.95 %
        (6, "THROTTLE", "HALT", "drawdown"),  # 73: 30.5 %
    ]
    assert [s[5] for s in seen] == [10.0, 20.0, 30.0]
    assert seen[0][4] == pytest.approx(100 * 11 / 105)
    assert names(eng.level) == ["HALT"]  # sticky: back above the peak at step 8
    assert STATES[eng.state[0]] == "REDUCING"


def test_a_jump_goes_straight_to_the_level_reached() -> None:
    eng = engine(n=2, ladder=LADDER)
    eng.update(0, eq(100, 100))
    t = eng.update(1, eq(60, 100))
    assert (names(t.from_level), names(t.to_level), t.agent.tolist()) == (["NORMAL"], ["HALT"], [0])


@pytest.mark.parametrize("scale, expected", [(0.5, 5), (0.3, 3), (1.0, 10)])
def test_throttle_scales_opening_qty(scale: float, expected: int) -> None:
    ladder = LADDER.model_copy(update={"throttle_scale": scale})
    eng = engine(n=2, ladder=ladder)
    eng.update(0, eq(100, 100))
    eng.update(1, eq(75, 100))  # agent 0 at THROTTLE
    ctx = context(position=[[4], [0]])
    d = eng.check(1, intents([0, 0, 1], [1, -1, 1], [10, 4, 10]), ctx)
    np.testing.assert_array_equal(d.approved_qty, [expected, 4, 10])  # reducing sell untouched
    if expected < 10:
        assert outcomes_of(d)[0] == "throttle"
        assert rules_of(d)[0] == "ladder_throttle"
        assert (d.value[0], d.limit[0]) == (pytest.approx(25.0), 20.0)


def test_throttle_to_zero_rejects() -> None:
    eng = engine(n=1, ladder=LADDER)
    eng.update(0, eq(100))
    eng.update(1, eq(75))
    d = eng.check(1, intents([0], [1], [1]), context(n=1))
    assert (outcomes_of(d), rules_of(d)) == (["reject"], ["ladder_throttle"])


def test_warn_is_logged_only() -> None:
    eng = engine(n=1, ladder=LADDER)
    eng.update(0, eq(100))
    eng.update(1, eq(88))
    d = eng.check(1, intents([0], [1], [7]), context(n=1))
    assert (outcomes_of(d), rules_of(d)) == (["warn"], ["ladder_warn"])
    np.testing.assert_array_equal(d.approved_qty, [7])


def test_after_halt_only_reducing_orders_pass() -> None:
    eng = engine(n=2, ladder=LADDER)
    eng.update(0, eq(100, 100))
    eng.update(1, eq(65, 100))
    ctx = context(position=[[5], [-5]])
    d = eng.check(1, intents([0, 0, 0, 0, 1], [1, -1, -1, -1, 1], [1, 3, 2, 1, 1]), ctx)
    # +1 opens; −3 and −2 bring 5 to 0; the last −1 would go short
    assert outcomes_of(d) == ["halt", "pass", "pass", "halt", "pass"]
    assert rules_of(d)[0] == "ladder_halt"
    np.testing.assert_array_equal(d.approved_qty, [0, 3, 2, 0, 1])
    assert [STATES[s] for s in eng.state] == ["REDUCING", "ACTIVE"]


def test_repeated_breaches_escalate() -> None:
    ladder = LadderConfig(breach_warn=2, breach_throttle=3, breach_halt=4, breach_window_steps=10)
    eng = engine(n=2, max_position_lots=10, ladder=ladder)
    ctx = context(position=[[10], [0]])
    levels = []
    for step in range(4):
        eng.update(step, eq(100, 100))
        levels.append(LEVELS[eng.level[0]])
        d = eng.check(step, intents([0, 1], [1, 1], [2, 1], first_id=2 * step), ctx)
        assert rules_of(d)[0] == "max_position"
        assert outcomes_of(d)[1] == "pass"
    t = eng.update(4, eq(100, 100))
    levels.append(LEVELS[eng.level[0]])
    assert levels == ["NORMAL", "NORMAL", "WARN", "THROTTLE", "HALT"]
    assert (names(t.to_level), [CAUSES[c] for c in t.cause]) == (["HALT"], ["breaches"])
    assert (t.value[0], t.limit[0]) == (4.0, 4.0)  # four breaches in the window
    assert LEVELS[eng.level[1]] == "NORMAL"
    d = eng.check(4, intents([0], [1], [1], first_id=99), ctx)
    assert (outcomes_of(d), rules_of(d)) == (["halt"], ["ladder_halt"])
    assert (d.value[0], d.limit[0]) == (4.0, 4.0)


def test_breaches_outside_the_window_do_not_add_up() -> None:
    ladder = LadderConfig(breach_warn=2, breach_window_steps=3)
    eng = engine(n=1, max_position_lots=0, ladder=ladder)
    for step in range(0, 12, 3):
        eng.update(step, eq(100))
        eng.check(step, intents([0], [1], [1], first_id=step), context(n=1))
    assert LEVELS[eng.level[0]] == "NORMAL"


def test_recovery_rule_brings_warn_back_but_not_halt() -> None:
    ladder = LADDER.model_copy(update={"recover_below_pct": 5.0})
    eng = engine(n=2, ladder=ladder)
    eng.update(0, eq(100, 100))
    eng.update(1, eq(85, 65))
    assert names(eng.level) == ["WARN", "HALT"]
    t = eng.update(2, eq(97, 99))
    assert names(eng.level) == ["NORMAL", "HALT"]
    assert [CAUSES[c] for c in t.cause] == ["recovery"]


def test_config_rejects_unordered_thresholds() -> None:
    with pytest.raises(ValueError, match="throttle_drawdown_pct"):
        LadderConfig(warn_drawdown_pct=20.0, throttle_drawdown_pct=10.0)
    with pytest.raises(ValueError, match="recover_below_pct"):
        LadderConfig(warn_drawdown_pct=10.0, recover_below_pct=10.0)
    with pytest.raises(ValueError):
        RiskConfig(unknown=1)  # type: ignore[call-arg]


def test_global_level_follows_the_populations_summed_equity() -> None:
    eng = engine(n=2, ladder=LADDER.model_copy(update={"global_drawdown": True}))
    eng.update(0, eq(100, 200))
    t = eng.update(1, eq(60, 200))  # agent 0: −40 % → HALT; population: 300 → 260, −13 %
    rows = dict(zip(t.agent.tolist(), names(t.to_level), strict=True))
    assert rows == {0: "HALT", -1: "WARN"}
    assert LEVELS[eng.global_level] == "WARN"
    d = eng.check(1, intents([1], [1], [3]), context())
    assert (outcomes_of(d), rules_of(d)) == (["warn"], ["ladder_warn"])
    eng.update(2, eq(60, 140))  # 200 of 300: −33 % → global HALT halts everyone
    d = eng.check(2, intents([1], [1], [3]), context())
    assert (outcomes_of(d), rules_of(d)) == (["halt"], ["global_halt"])
    assert [STATES[s] for s in eng.state] == ["REDUCING", "REDUCING"]


def test_global_ladder_can_be_switched_off() -> None:
    eng = engine(n=2, ladder=LADDER)
    eng.update(0, eq(100, 100))
    eng.update(1, eq(50, 50))
    assert LEVELS[eng.global_level] == "NORMAL"


def test_reset_gives_a_newborn_agent_a_fresh_ladder() -> None:
    eng = engine(n=2, ladder=LADDER)
    eng.update(0, eq(100, 100))
    eng.update(1, eq(50, 100))
    t = eng.reset_agents(1, np.array([0]), eq(40))
    assert [CAUSES[c] for c in t.cause] == ["reset"]
    assert names(eng.level) == ["NORMAL", "NORMAL"]
    eng.update(2, eq(40, 100))  # 40 is the new peak, not a 60 % drawdown
    assert names(eng.level) == ["NORMAL", "NORMAL"]


class _Exact(Ladder):
    """The ladder without its fast path: every step computes every drawdown exactly."""

    def _peaks_positive(self) -> bool:
        return False


def _bits(t: LadderTransitions) -> list[tuple[str, bytes]]:
    return [(a.dtype.str, a.tobytes()) for a in (getattr(t, f) for f in t.__dataclass_fields__)]


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 5),
    steps=st.integers(1, 60),
    hard=st.sampled_from([None, 25.0]),
    breaches=st.booleans(),
)
def test_the_fast_path_moves_levels_exactly_like_the_full_computation(
    seed: int, n: int, steps: int, hard: float | None, breaches: bool
) -> None:
    """Walks that land on the thresholds exactly (and a unit either side), for the agents and
    the population: the same transitions, bit for bit, as computing every drawdown."""
    rng = np.random.default_rng(seed)
    ladder = LADDER.model_copy(
        update={"global_drawdown": True}
        | ({"breach_warn": 2, "breach_halt": 4} if breaches else {})
    )
    cfg = RiskConfig(ladder=ladder, max_drawdown_pct=hard)
    fast, exact = Ladder(cfg, n), _Exact(cfg, n)
    peak = np.full(n, 10**9, np.int64)
    for t in range(steps):
        cut = rng.choice([0.0, 10.0, 20.0, 25.0, 30.0, 5.0], n)
        on_edge = np.rint(peak * (1.0 - cut / 100.0)).astype(np.int64) + rng.integers(-1, 2, n)
        walk = (peak * rng.uniform(0.6, 1.1, n)).astype(np.int64)
        equity = np.where(rng.random(n) < 0.5, on_edge, walk)
        peak = np.maximum(peak, equity)
        if breaches:
            counts = rng.integers(0, 2, n)
            fast.breaches.add(t, counts)
            exact.breaches.add(t, counts)
        assert _bits(fast.update(t, equity, frozen=False)) == _bits(
            exact.update(t, equity, frozen=False)
        )
        assert fast.level.tolist() == exact.level.tolist()
        assert fast.global_level == exact.global_level

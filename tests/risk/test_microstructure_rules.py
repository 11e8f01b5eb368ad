"""Microstructure filters in the risk engine: block or throttle opening orders, never reducing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError
from risk_fixtures import context, engine, intents, outcomes_of, rules_of

from scarline.config import load_config
from scarline.errors import ConfigError
from scarline.risk import RULES, RiskConfig, RiskEngine
from scarline.risk.codes import BREACH_RULES
from scarline.risk.config import MicrostructureConfig
from scarline.risk.events import risk_checks_event
from scarline.risk.limits import Limits
from scarline.session import SessionIds


def micro(n: int = 2, m: int = 1, **cfg: object) -> RiskEngine:
    return engine(n=n, m=m, microstructure=cfg)


def arr(*values: float) -> np.ndarray:
    return np.asarray(values, dtype=np.float64)


def test_defaults_are_off() -> None:
    cfg = RiskConfig()
    assert not cfg.microstructure.enabled
    dumped = cfg.microstructure.model_dump()
    for key in ("vpin_throttle", "vpin_block", "max_imbalance", "max_stale_bars", "spread_shock_z"):
        assert dumped[key] is None, key
    assert dumped["block_invalid_quotes"] is False
    assert Limits.of(cfg, np.array([1])).micro is None
    assert MicrostructureConfig(spread_shock_z=3.0).enabled
    assert MicrostructureConfig(block_invalid_quotes=True).enabled
    # with everything off, measures in the context change nothing
    d = engine().check(0, intents([0], [1], [5]), context(spread_z=arr(99.0), vpin=arr(1.0)))
    assert outcomes_of(d) == ["pass"]


def test_new_codes_are_appended_and_are_not_breaches() -> None:
    assert RULES[:16][-1] == "ladder_warn"  # the old codes keep their numbers
    micro = ("vpin", "imbalance", "stale_quote", "spread_shock", "bad_quote")
    assert RULES[16:21] == micro
    assert not set(micro) & set(BREACH_RULES)


def test_spread_shock_blocks_an_opening_order_and_lets_a_closing_order_through() -> None:
    eng = micro(n=3, spread_shock_z=4.0)
    ctx = context(n=3, position=[[0], [10], [10]], spread_z=arr(6.5))
    # agent 0 opens, agent 1 closes part of its long, agent 2 sells through zero (opens short)
    d = eng.check(0, intents([0, 1, 2], [1, -1, -1], [5, 4, 15]), ctx)
    assert outcomes_of(d) == ["reject", "pass", "reject"]
    assert rules_of(d) == ["spread_shock", "none", "spread_shock"]
    np.testing.assert_array_equal(d.approved_qty, [0, 4, 0])
    np.testing.assert_allclose(d.value[[0, 2]], [6.5, 6.5])
    np.testing.assert_allclose(d.limit[[0, 2]], [4.0, 4.0])
    calm = eng.check(1, intents([0], [1], [5], first_id=3), context(n=3, spread_z=arr(3.9)))
    assert outcomes_of(calm) == ["pass"]


def test_undefined_or_absent_measures_pass() -> None:
    eng = micro(spread_shock_z=1.0, vpin_block=0.1, max_imbalance=0.1, max_stale_bars=0)
    nan = arr(np.nan)
    ctx = context(spread_z=nan, vpin=nan, imbalance=nan, stale_bars=np.array([-1]))
    assert outcomes_of(eng.check(0, intents([0], [1], [5]), ctx)) == ["pass"]
    # a market without quotes: the context has no quote measures at all
    assert outcomes_of(eng.check(1, intents([0], [1], [5], first_id=1), context())) == ["pass"]


def test_vpin_throttle_scales_opening_orders_down() -> None:
    eng = micro(n=4, vpin_throttle=0.6, throttle_factor=0.5)
    ctx = context(n=4, position=[[0], [0], [8], [0]], vpin=arr(0.7))
    d = eng.check(0, intents([0, 1, 2, 3], [1, 1, -1, -1], [10, 1, 8, 7]), ctx)
    # 10 -> 5; 1 -> 0 is a reject; a closing sell passes whole; a short of 7 -> 3
    assert outcomes_of(d) == ["throttle", "reject", "pass", "throttle"]
    assert rules_of(d) == ["vpin", "vpin", "none", "vpin"]
    np.testing.assert_array_equal(d.requested, [10, 1, 8, 7])
    np.testing.assert_array_equal(d.approved_qty, [5, 0, 8, 3])
    np.testing.assert_array_equal(d.approved.qty, [5, 8, 3])
    np.testing.assert_allclose(d.value[[0, 1, 3]], 0.7)
    np.testing.assert_allclose(d.limit[[0, 1, 3]], 0.6)
    low = eng.check(1, intents([0], [1], [10], first_id=4), context(n=4, vpin=arr(0.6)))
    assert outcomes_of(low) == ["pass"] and low.approved_qty.tolist() == [10]


def test_a_throttle_factor_of_one_changes_nothing() -> None:
    eng = micro(vpin_throttle=0.1, throttle_factor=1.0)
    d = eng.check(0, intents([0], [1], [7]), context(vpin=arr(0.9)))
    assert (outcomes_of(d), rules_of(d), d.approved_qty.tolist()) == (["pass"], ["none"], [7])


def test_vpin_throttle_then_a_cap_names_the_cap() -> None:
    eng = engine(max_position_lots=3, microstructure={"vpin_throttle": 0.5})
    d = eng.check(0, intents([0, 1], [1, 1], [10, 4]), context(vpin=arr(0.9)))
    assert outcomes_of(d) == ["throttle", "throttle"]
    assert rules_of(d) == ["max_position", "vpin"]  # 10 -> 5 -> cap 3; 4 -> 2 within the cap
    np.testing.assert_array_equal(d.approved_qty, [3, 2])


def test_vpin_throttle_stacks_with_the_ladder_throttle() -> None:
    eng = engine(
        microstructure={"vpin_throttle": 0.5, "throttle_factor": 0.5},
        ladder={"throttle_drawdown_pct": 10.0, "throttle_scale": 0.5, "global_drawdown": False},
    )
    eng.update(0, np.array([100, 100]))
    eng.update(1, np.array([80, 100]))  # agent 0 at THROTTLE
    d = eng.check(1, intents([0, 1], [1, 1], [20, 20]), context(vpin=arr(0.9)))
    np.testing.assert_array_equal(d.approved_qty, [5, 10])
    assert rules_of(d) == ["ladder_throttle", "vpin"]


def test_vpin_block_and_order_of_thresholds() -> None:
    eng = micro(vpin_throttle=0.5, vpin_block=0.8)
    d = eng.check(0, intents([0, 1], [1, 1], [10, 10]), context(vpin=arr(0.85)))
    assert (outcomes_of(d), rules_of(d)) == (["reject"] * 2, ["vpin"] * 2)
    np.testing.assert_allclose(d.limit, [0.8, 0.8])
    with pytest.raises(ValidationError, match="vpin_block"):
        MicrostructureConfig(vpin_throttle=0.9, vpin_block=0.8)


def test_imbalance_blocks_orders_that_consume_the_thin_side() -> None:
    eng = micro(n=4, max_imbalance=0.5)
    pos = [[0], [0], [0], [-5]]
    # ask thin (bid heavy, +0.8): an opening buy is refused, an opening sell is not;
    # a buy that covers a short only reduces and passes
    d = eng.check(
        0, intents([0, 1, 3], [1, -1, 1], [5, 5, 5]), context(n=4, position=pos, imbalance=arr(0.8))
    )
    assert (outcomes_of(d), rules_of(d)) == (
        ["reject", "pass", "pass"],
        ["imbalance", "none", "none"],
    )
    np.testing.assert_allclose(d.value[0], 0.8)
    d = eng.check(1, intents([2], [-1], [5], first_id=3), context(n=4, imbalance=arr(-0.8)))
    assert (outcomes_of(d), rules_of(d)) == (["reject"], ["imbalance"])
    np.testing.assert_allclose(d.value, [0.8])  # side x imbalance: measured against the order


def test_stale_and_invalid_quotes_block_opening_orders() -> None:
    eng = micro(n=3, m=3, max_stale_bars=3, block_invalid_quotes=True)
    ctx = context(
        n=3,
        m=3,
        position=[[0, 0, 0], [0, 0, 0], [0, 4, 0]],
        stale_bars=np.array([4, 3, 0]),
        quote_invalid=np.array([False, False, True]),
    )
    d = eng.check(
        0, intents([0, 1, 2, 2], [1, 1, 1, -1], [1, 1, 1, 2], instrument=[0, 1, 2, 1]), ctx
    )
    assert outcomes_of(d) == ["reject", "pass", "reject", "pass"]
    assert rules_of(d) == ["stale_quote", "none", "bad_quote", "none"]
    np.testing.assert_allclose(d.value[[0, 2]], [4.0, 1.0])
    np.testing.assert_allclose(d.limit[[0, 2]], [3.0, 0.0])


def test_filters_act_per_instrument() -> None:
    eng = engine(n=1, m=2, microstructure={"spread_shock_z": 3.0})
    ctx = context(n=1, m=2, spread_z=arr(9.0, 0.5))
    d = eng.check(0, intents([0, 0], [1, 1], [2, 2], instrument=[0, 1]), ctx)
    assert rules_of(d) == ["spread_shock", "none"]
    np.testing.assert_array_equal(d.approved_qty, [0, 2])


def test_microstructure_rejects_do_not_count_as_breaches() -> None:
    eng = engine(microstructure={"spread_shock_z": 1.0}, ladder={"breach_warn": 1})
    eng.check(0, intents([0], [1], [5]), context(spread_z=arr(2.0)))
    eng.update(1, np.array([100, 100]))
    assert eng.level.tolist() == [0, 0]


def test_the_kill_switch_still_wins_and_flattening_passes() -> None:
    eng = micro(spread_shock_z=1.0)
    eng.kill(0, "test")
    ctx = context(position=[[5], [0]], spread_z=arr(9.0))
    d = eng.check(0, intents([0, 1], [-1, 1], [5, 5]), ctx)
    assert rules_of(d) == ["none", "kill_switch"]
    assert d.approved_qty.tolist() == [5, 0]


def test_rejects_and_throttles_are_in_the_wal_record() -> None:
    eng = micro(m=2, vpin_throttle=0.5, spread_shock_z=2.0)
    ctx = context(m=2, position=[[0, 0], [0, 0]], spread_z=arr(5.0, 0.0), vpin=arr(0.1, 0.9))
    it = intents([0, 1], [1, 1], [6, 6], instrument=[0, 1])
    d = eng.check(0, it, ctx)
    ids = SessionIds("r", "s")
    event, (agents, rule_names, outcome_names) = risk_checks_event(ids, "d0", 0, it, d)
    codes = event.rule.numpy()
    assert [event.rules[c] for c in codes] == ["spread_shock", "vpin"]
    assert [event.outcomes[c] for c in event.outcome.numpy()] == ["reject", "throttle"]
    assert event.approved.numpy().tolist() == [0, 3]
    assert rule_names == ["spread_shock", "vpin"] and outcome_names == ["reject", "throttle"]
    assert agents.tolist() == [0, 1]


def test_context_shapes_are_checked() -> None:
    eng = micro(spread_shock_z=1.0)
    with pytest.raises(ValueError, match="spread_z"):
        eng.check(0, intents([0], [1], [1]), context(spread_z=arr(1.0, 2.0)))


def test_toml_keys(tmp_path: Path) -> None:
    path = tmp_path / "run.toml"
    path.write_text(
        "[risk.microstructure]\n"
        "vpin_throttle = 0.6\nvpin_block = 0.8\nthrottle_factor = 0.25\n"
        "max_imbalance = 0.7\nmax_stale_bars = 5\nblock_invalid_quotes = true\n"
        "spread_shock_z = 4.0\nvpin_window = 30\n"
    )
    mc = load_config(path).risk.microstructure
    assert (mc.vpin_throttle, mc.vpin_block, mc.throttle_factor) == (0.6, 0.8, 0.25)
    assert (mc.max_imbalance, mc.max_stale_bars, mc.spread_shock_z) == (0.7, 5, 4.0)
    assert mc.block_invalid_quotes and mc.vpin_window == 30 and mc.enabled
    path.write_text("[risk.microstructure]\nvpin_blok = 0.8\n")
    with pytest.raises(ConfigError, match=r"risk\.microstructure\.vpin_blok"):
        load_config(path)

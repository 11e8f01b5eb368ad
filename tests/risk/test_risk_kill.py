"""The kill switch: halts and flattens everything, always wins; config, flag file and API."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from risk_fixtures import context, engine, intents, money, outcomes_of, rules_of

from scarline.risk import LEVELS, STATES, LadderConfig, kill_file
from scarline.risk.codes import CAUSES, GLOBAL
from scarline.risk.kill import KillState


def test_after_kill_no_opening_order_passes() -> None:
    eng = engine(n=3)
    eng.update(0, np.full(3, money(100)))
    t = eng.kill(0, "operator")
    assert sorted(t.agent.tolist()) == [GLOBAL, 0, 1, 2]
    assert {CAUSES[c] for c in t.cause} == {"kill"}
    assert {LEVELS[x] for x in t.to_level} == {"HALT"}
    assert [STATES[s] for s in eng.state] == ["HALTED"] * 3
    ctx = context(n=3, position=[[5], [-5], [0]])
    for step in (1, 2, 50):
        eng.update(step, np.full(3, money(100)))
        d = eng.check(
            step,
            intents(
                [0, 0, 1, 1, 2, 2], [1, -1, -1, 1, 1, -1], [1, 5, 1, 5, 1, 1], first_id=10 * step
            ),
            ctx,
        )
        assert outcomes_of(d) == ["halt", "pass", "halt", "pass", "halt", "halt"]
        assert rules_of(d) == [
            "kill_switch",
            "none",
            "kill_switch",
            "none",
            "kill_switch",
            "kill_switch",
        ]
        assert d.flatten


def test_kill_wins_over_everything() -> None:
    ladder = LadderConfig(warn_drawdown_pct=10.0, recover_below_pct=1.0)
    eng = engine(n=2, ladder=ladder)
    eng.update(0, np.array([money(100), money(100)]))
    eng.kill(0, "stop", source="cli")
    assert eng.kill(1, "again").agent.size == 0  # idempotent: the first firing stays
    assert (eng.kill_state.step, eng.kill_state.reason, eng.kill_state.source) == (
        0,
        "stop",
        "cli",
    )
    assert len(eng.reset_agents(1, np.array([0, 1]), np.array([money(100)] * 2))) == 0
    assert len(eng.update(2, np.array([money(200), money(200)]))) == 0  # no recovery
    assert [LEVELS[x] for x in eng.level] == ["HALT", "HALT"]
    assert [STATES[s] for s in eng.state] == ["HALTED", "HALTED"]
    assert STATES[eng.global_state] == "HALTED"
    d = eng.check(2, intents([0], [1], [1]), context())
    assert rules_of(d) == ["kill_switch"]


def test_config_kill_halts_from_the_first_check_and_fires_at_update() -> None:
    eng = engine(kill=True)
    assert eng.killed
    d = eng.check(0, intents([0], [1], [1]), context())
    assert rules_of(d) == ["kill_switch"]
    t = eng.update(0, np.array([money(1), money(1)]))
    assert {CAUSES[c] for c in t.cause} == {"kill"}
    assert eng.kill_state.source == "config"


def test_flag_file_is_detected(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    run_dir = runs / "r1"
    run_dir.mkdir(parents=True)
    assert kill_file(run_dir, runs) is None
    (run_dir / "KILL").write_text("")
    assert kill_file(run_dir) == run_dir / "KILL"
    (run_dir / "KILL").unlink()
    (runs / "KILL").write_text("all")
    assert kill_file(run_dir) is None  # the --all file only counts with the runs root
    assert kill_file(run_dir, runs) == runs / "KILL"


def test_kill_switch_fires_once() -> None:
    switch = KillState()
    assert switch.fire(4, "first", "api")
    assert not switch.fire(5, "second", "config")
    assert (switch.step, switch.reason, switch.source) == (4, "first", "api")


def test_steps_never_go_backwards() -> None:
    eng = engine()
    eng.update(5, np.array([money(1), money(1)]))
    with pytest.raises(ValueError, match="before the last step"):
        eng.check(4, intents([0], [1], [1]), context())

"""The ``[alerts]`` config and :class:`AlertRules`: what fires, once, and the cool-down."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from scarline.alerts_config import (
    DEFAULT_FEED_DOWN_SECONDS,
    DEFAULT_STALE_HEARTBEAT_SECONDS,
    AlertsConfig,
)
from scarline.service.alerts import AlertInputs, AlertRules, alert_id

S = 1_000_000_000
T0 = 1_700_000_000 * S
DISCORD = {"kind": "discord", "url": "http://127.0.0.1:9/hook"}


def at(step: int, seconds: float, **facts: Any) -> AlertInputs:
    """The inputs of ``step`` (1-minute bars) evaluated ``seconds`` after T0 (wall time)."""
    wall = T0 + round(seconds * S)
    return AlertInputs(step=step, bar_ts=T0 + step * 60 * S, wall_ns=wall, **facts)


def rules(**config: object) -> AlertRules:
    return AlertRules(AlertsConfig.model_validate(config))


def fired(rules_: AlertRules, inputs: AlertInputs) -> list[tuple[str, str]]:
    return [(a.rule, a.subject) for a in rules_.evaluate(inputs)]


# -- config -----------------------------------------------------------------------------


def test_sink_only_config_turns_on_kill_halt_feed_and_heartbeat() -> None:
    config = AlertsConfig.model_validate({"sinks": [DISCORD]})
    on = config.effective()
    assert on.kill is True and on.ladder_levels == ["HALT"]
    assert on.feed_down_seconds == DEFAULT_FEED_DOWN_SECONDS
    assert on.stale_heartbeat_seconds == DEFAULT_STALE_HEARTBEAT_SECONDS
    assert on.drawdown_pct is None and not on.drift and on.p99_latency_seconds is None
    assert config.effective(bar_seconds=60).stale_heartbeat_seconds == 180  # 3 bars
    r = AlertRules(config)
    assert r.enabled == ["ladder", "kill", "feed_down", "stale_heartbeat"]


def test_a_written_rule_turns_the_defaults_off() -> None:
    assert rules(drawdown_pct=5.0, sinks=[DISCORD]).enabled == ["drawdown"]
    assert rules(kill=False, sinks=[DISCORD]).enabled == []  # an explicit false counts
    assert rules().enabled == []  # no sink, no rule: nothing


@pytest.mark.parametrize(
    "bad",
    [
        {"sinks": [{"kind": "telegram", "url": "http://127.0.0.1:9"}]},  # no token_env
        {"sinks": [{"kind": "discord"}]},  # no url
        {"sinks": [{"kind": "slack", "url": "ftp://example.org/x"}]},
        {"sinks": [{"kind": "webhook", "url": "http://h/x", "token_env": "T"}]},
        {"sinks": [DISCORD, DISCORD]},  # two sinks named "discord"
        {"sinks": [{"kind": "sms", "url": "http://h/"}]},
        {"ladder_levels": ["HALT", "HALT"]},
        {"ladder_levels": ["PANIC"]},
        {"drawdown_pct": 0},
        {"cooldown_seconds": -1.0},
        {"kill": "yes"},
        {"webhook": "http://h/"},
    ],
)
def test_bad_alerts_config_is_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        AlertsConfig.model_validate(bad)


# -- conditions -------------------------------------------------------------------------


def test_population_drawdown_fires_once_then_respects_the_cooldown() -> None:
    r = rules(drawdown_pct=10.0, cooldown_seconds=300.0)
    assert fired(r, at(0, 0, population_drawdown_pct=5.0)) == []
    alerts = r.evaluate(at(1, 1, population_drawdown_pct=12.0))
    assert [(a.rule, a.subject, a.severity) for a in alerts] == [
        ("drawdown", "population", "warning")
    ]
    assert alerts[0].value == 12.0 and alerts[0].threshold == 10.0 and "12.00%" in alerts[0].message
    assert fired(r, at(2, 2, population_drawdown_pct=15.0)) == []  # same episode
    assert fired(r, at(3, 10, population_drawdown_pct=4.0)) == []  # clears: re-armed
    assert fired(r, at(4, 20, population_drawdown_pct=11.0)) == []  # inside the cool-down
    assert fired(r, at(5, 30, population_drawdown_pct=3.0)) == []
    assert fired(r, at(6, 301, population_drawdown_pct=11.0)) == [("drawdown", "population")]
    assert fired(r, at(7, 302, population_drawdown_pct=math.nan)) == []  # unknown: no change


def test_agent_drawdowns_fire_per_agent_and_ignore_nan() -> None:
    r = rules(drawdown_pct=10.0, drawdown_scope="agents")
    ids = ["a0", "a1", "a2"]
    dd = np.array([12.0, math.nan, 3.0])
    out = fired(r, at(0, 0, agent_ids=ids, agent_drawdown_pct=dd, population_drawdown_pct=50.0))
    assert out == [("drawdown", "a0")]  # the population is out of scope
    dd2 = np.array([13.0, 11.0, 20.0])
    assert fired(r, at(1, 1, agent_ids=ids, agent_drawdown_pct=dd2)) == [
        ("drawdown", "a1"),
        ("drawdown", "a2"),
    ]
    both = rules(drawdown_pct=10.0, drawdown_scope="both")
    assert fired(both, at(0, 0, agent_drawdown_pct=[11.0], population_drawdown_pct=10.0)) == [
        ("drawdown", "population"),
        ("drawdown", "agent:0"),
    ]


def test_feed_down_for_n_seconds() -> None:
    r = rules(feed_down_seconds=60.0, cooldown_seconds=0.0)
    assert fired(r, at(5, 0, feed_up=False, feed_down_seconds=30.0)) == []
    assert fired(r, at(5, 61, feed_up=False, feed_down_seconds=61.0)) == [("feed_down", "feed")]
    assert fired(r, at(5, 90, feed_up=False, feed_down_seconds=90.0)) == []
    assert fired(r, at(5, 95)) == []  # feed state not measured: keeps the episode
    assert fired(r, at(5, 100, feed_up=True)) == []
    second = r.evaluate(at(5, 200, feed_up=False, feed_down_seconds=70.0))
    assert [a.rule for a in second] == ["feed_down"]  # a new outage at the same step
    assert second[0].id != alert_id("feed_down", "feed", 5)  # ... with its own id


def test_stale_heartbeat_and_p99_latency() -> None:
    r = rules(stale_heartbeat_seconds=180.0, p99_latency_seconds=0.5)
    assert fired(r, at(9, 0, heartbeat_age_seconds=100.0, p99_latency_seconds=0.2)) == []
    assert fired(r, at(9, 200, heartbeat_age_seconds=200.0, p99_latency_seconds=0.7)) == [
        ("stale_heartbeat", "session"),
        ("p99_latency", "session"),
    ]
    assert fired(r, at(9, 250, heartbeat_age_seconds=250.0, p99_latency_seconds=0.9)) == []


# -- events -----------------------------------------------------------------------------


def test_ladder_transitions_to_configured_levels() -> None:
    r = rules(ladder_levels=["THROTTLE", "HALT"])
    ids = ["alpha", "beta"]
    out = r.evaluate(at(3, 0, agent_ids=ids, ladder=[(0, "WARN"), (1, "THROTTLE"), (-1, "HALT")]))
    assert [(a.rule, a.subject, a.severity) for a in out] == [
        ("ladder_throttle", "beta", "warning"),
        ("ladder_halt", "population", "critical"),
    ]
    # a HALT right after a THROTTLE is not muted by the THROTTLE's cool-down
    assert fired(r, at(4, 1, agent_ids=ids, ladder=[(1, "HALT")])) == [("ladder_halt", "beta")]
    assert fired(r, at(5, 2, agent_ids=ids, ladder=[(1, "THROTTLE")])) == []  # cooling down


def test_kill_fires_once_with_its_reason_and_source() -> None:
    r = rules(kill=True)
    (alert,) = r.evaluate(at(7, 0, killed_now=True, kill_reason="fat finger", kill_source="api"))
    assert (alert.rule, alert.subject, alert.severity) == ("kill", "population", "critical")
    assert "fat finger" in alert.message and "(api)" in alert.message
    assert alert.id == alert_id("kill", "population", 7)
    assert fired(r, at(7, 0, killed_now=True)) == []
    assert fired(rules(), at(7, 0, killed_now=True)) == []  # rule off


def test_drift_alarms_per_agent() -> None:
    r = rules(drift=True)
    assert fired(r, at(2, 0, agent_ids=["x", "y", "z"], drift_rows=[0, 2])) == [
        ("drift", "x"),
        ("drift", "z"),
    ]
    assert fired(rules(drawdown_pct=5.0), at(2, 0, drift_rows=[0])) == []


def test_ids_are_stable_across_rule_instances() -> None:
    inputs = at(11, 0, killed_now=True, population_drawdown_pct=50.0)
    a = [x.id for x in rules(kill=True, drawdown_pct=5.0).evaluate(inputs)]
    b = [x.id for x in rules(kill=True, drawdown_pct=5.0).evaluate(inputs)]
    assert a == b and len(set(a)) == 2


# -- properties -------------------------------------------------------------------------

ALL_RULES = {
    "drawdown_pct": 10.0,
    "drawdown_scope": "both",
    "ladder_levels": ["WARN", "THROTTLE", "HALT"],
    "kill": True,
    "drift": True,
    "feed_down_seconds": 30.0,
    "stale_heartbeat_seconds": 60.0,
    "p99_latency_seconds": 0.5,
}

maybe = st.none() | st.floats(0, 200, allow_nan=False)
inputs_st = st.builds(
    AlertInputs,
    step=st.integers(0, 5),
    bar_ts=st.just(T0),
    wall_ns=st.integers(0, 10_000).map(lambda s: T0 + s * S),
    agent_drawdown_pct=st.none() | st.lists(st.floats(0, 30) | st.just(math.nan), max_size=4),
    population_drawdown_pct=st.none() | st.floats(0, 30),
    ladder=st.lists(
        st.tuples(st.integers(-1, 3), st.sampled_from(["WARN", "THROTTLE", "HALT"])), max_size=3
    ),
    killed_now=st.booleans(),
    drift_rows=st.lists(st.integers(0, 3), max_size=3),
    feed_up=st.none() | st.booleans(),
    feed_down_seconds=st.floats(0, 100),
    heartbeat_age_seconds=maybe,
    p99_latency_seconds=st.none() | st.floats(0, 2),
)


@settings(max_examples=150, deadline=None)
@given(
    history=st.lists(inputs_st, max_size=6),
    again=inputs_st,
    cooldown=st.sampled_from([0.0, 5.0, 300.0]),
)
def test_the_same_inputs_twice_never_fire_twice(
    history: list[AlertInputs], again: AlertInputs, cooldown: float
) -> None:
    r = rules(cooldown_seconds=cooldown, **ALL_RULES)
    for inputs in history:
        r.evaluate(inputs)
    r.evaluate(again)
    assert r.evaluate(again) == []


@settings(max_examples=150, deadline=None)
@given(steps=st.lists(inputs_st, min_size=1, max_size=12), cooldown=st.sampled_from([5.0, 300.0]))
def test_a_rule_and_subject_is_silent_for_the_cooldown(
    steps: list[AlertInputs], cooldown: float
) -> None:
    # steps and wall time move forward (a step may be evaluated more than once)
    walls, numbers = sorted(s.wall_ns for s in steps), sorted(s.step for s in steps)
    steps = [replace(s, wall_ns=w, step=n) for s, w, n in zip(steps, walls, numbers, strict=True)]
    r = rules(cooldown_seconds=cooldown, **ALL_RULES)
    last: dict[tuple[str, str], int] = {}
    ids: set[str] = set()
    for inputs in steps:
        for alert in r.evaluate(inputs):
            key = (alert.rule, alert.subject)
            if key in last:
                assert alert.wall_ns - last[key] >= cooldown * S
            last[key] = alert.wall_ns
            assert alert.id not in ids
            ids.add(alert.id)


SECRET = "SUPERSECRET"


@pytest.mark.parametrize(
    "sink",
    [
        f'kind = "slack"\nurl = "https://hooks.example/services/{SECRET}#x"',
        f'kind = "slack"\nurl = "ftp://hooks.example/services/{SECRET}"',
        f'kind = "webhook"\nurl = "https://user:{SECRET}@hooks.example/x"',
        f'kind = "discord"\nurl = "https://hooks.example/{SECRET}"\nurl_env = "HOOK"',
        f'kind = "discord"\nurl = "https://hooks.example/{SECRET}"\nchat_id = 5',
        f'url = "https://hooks.example/{SECRET}"',  # no kind
        f'kind = "discord"\nurl = "https://hooks.example/{SECRET}"\n'
        f'[[alerts.sinks]]\nkind = "discord"\nurl = "https://hooks.example/{SECRET}2"',
    ],
)
def test_a_refused_sink_never_echoes_its_url(tmp_path: Path, sink: str) -> None:
    from scarline.config import load_config
    from scarline.errors import ScarlineError

    path = tmp_path / "c.toml"
    path.write_text(f"[[alerts.sinks]]\n{sink}\n")
    with pytest.raises(ScarlineError, match="alerts") as refused:
        load_config(path)
    assert SECRET not in str(refused.value)


@pytest.mark.parametrize("kind", ["discord", "slack"])
def test_a_real_webhook_url_comes_from_the_environment(tmp_path: Path, kind: str) -> None:
    """Discord's and Slack's webhook URLs are their credentials, and the config is copied
    into every run directory: written in the file, only a loopback catcher's is taken."""
    from scarline.config import load_config
    from scarline.errors import ScarlineError

    path = tmp_path / "c.toml"
    path.write_text(f'[[alerts.sinks]]\nkind = "{kind}"\nurl = "https://hooks.example/{SECRET}"\n')
    with pytest.raises(ScarlineError, match="give it with url_env") as refused:
        load_config(path)
    assert SECRET not in str(refused.value)
    for fine in ('url = "http://127.0.0.1:9/hook"', 'url = "http://[::1]:9/h"', 'url_env = "H"'):
        path.write_text(f'[[alerts.sinks]]\nkind = "{kind}"\n{fine}\n')
        assert load_config(path).alerts.sinks[0].kind == kind

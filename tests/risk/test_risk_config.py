"""Risk config: off by default (a plain backtest is untouched), strict, readable from TOML."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from scarline.config import load_config
from scarline.errors import ConfigError
from scarline.risk import LadderConfig, RiskConfig


def test_defaults_switch_every_rule_and_threshold_off() -> None:
    cfg = RiskConfig()
    limits = cfg.model_dump(exclude={"ladder", "microstructure", "kill", "order_window_steps"})
    assert set(limits.values()) == {None}
    ladder = cfg.ladder.model_dump()
    for key in (
        "warn_drawdown_pct",
        "throttle_drawdown_pct",
        "halt_drawdown_pct",
        "breach_warn",
        "breach_throttle",
        "breach_halt",
        "recover_below_pct",
    ):
        assert ladder[key] is None, key
    assert ladder["throttle_scale"] == 0.5
    assert cfg.kill is False


def test_risk_section_loads_from_toml(tmp_path: Path) -> None:
    path = tmp_path / "run.toml"
    path.write_text(
        "[risk]\nmax_position_lots = 100\nmax_notional = 50000\nkill = false\n"
        "[risk.ladder]\nwarn_drawdown_pct = 10.0\nthrottle_drawdown_pct = 20.0\n"
        "halt_drawdown_pct = 30.0\nbreach_halt = 5\n"
    )
    cfg = load_config(path).risk
    assert cfg.max_position_lots == 100 and cfg.max_notional == 50_000.0
    assert cfg.ladder == LadderConfig(
        warn_drawdown_pct=10.0, throttle_drawdown_pct=20.0, halt_drawdown_pct=30.0, breach_halt=5
    )


def test_bad_risk_keys_name_the_key(tmp_path: Path) -> None:
    path = tmp_path / "run.toml"
    path.write_text("[risk]\nmax_postion_lots = 1\n[risk.ladder]\nthrottle_scale = 1.5\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert "risk.max_postion_lots" in str(err.value)
    assert "risk.ladder.throttle_scale" in str(err.value)


def test_limits_are_validated() -> None:
    with pytest.raises(ValidationError):
        RiskConfig(max_drawdown_pct=150.0)
    with pytest.raises(ValidationError):
        RiskConfig(max_position_lots=-1)
    with pytest.raises(ValidationError):
        LadderConfig(breach_warn=5, breach_halt=3)

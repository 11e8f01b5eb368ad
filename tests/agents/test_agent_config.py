"""Every Q-network group's genomes are stored and loaded through its gene domain (the vault,
a paper session's policies, the gates' frozen re-runs), evolving or not: a ``qnet.lr`` or a
feature set outside it is a config error naming the key, not a crash later."""

from __future__ import annotations

from typing import Any

import pytest

from scarline.config import validate_config
from scarline.errors import ConfigError

NO_WINDOWS = {"return_windows": [], "vol_windows": [], "momentum_windows": [], "rsi_windows": []}


def _group(**extra: Any) -> dict[str, Any]:
    return {"kind": "q-network", "count": 4, "qnet": {"warmup_steps": 8}, **extra}


@pytest.mark.parametrize("evolution", [{}, {"enabled": True}])
@pytest.mark.parametrize("lr", [0.05, 1e-6])
def test_an_lr_outside_the_domain_is_a_config_error(lr: float, evolution: dict) -> None:
    raw = {"agents": [{"kind": "sma-crossover"}, _group(qnet={"lr": lr}, evolution=evolution)]}
    with pytest.raises(ConfigError) as err:
        validate_config(raw, "run.toml")
    message = str(err.value)
    assert message.startswith(f"run.toml: agents[1].qnet.lr = {lr} is outside")
    assert "agents[1].evolution.domain [lr_min, lr_max] = [1e-05, 0.01]" in message
    assert "\n" not in message


def test_too_few_features_for_the_domain_is_a_config_error() -> None:
    features = {**NO_WINDOWS, "rsi_windows": [14], "include_exog": False}
    raw = {"agents": [_group(features=features, evolution={"domain": {"min_features": 2}})]}
    with pytest.raises(ConfigError, match=r"agents\[0\]\.features gives 1 market features") as err:
        validate_config(raw, "run.toml")
    assert "agents[0].evolution.domain.min_features = 2" in str(err.value)


def test_a_group_inside_the_domain_is_accepted() -> None:
    raw = {"agents": [_group(qnet={"lr": 0.01}, evolution={"enabled": True})]}
    assert validate_config(raw, "run.toml").agents[0].qnet.lr == 0.01  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("spec", "ok"),
    [("стратегии:Стратегия", True), ("é.ü:Ñ", True), ("_m.x:_C", True), ("1m:C", False),
     ("m:1C", False), ("m:C-d", False), ("my strats:C", False), ("m:", False)],
)  # fmt: skip
def test_a_python_groups_strategy_is_module_and_class_identifiers(spec: str, ok: bool) -> None:
    raw = {"agents": [{"kind": "python", "strategy": spec}]}
    if ok:
        assert validate_config(raw, "run.toml").agents[0].strategy == spec  # type: ignore[union-attr]
    else:
        with pytest.raises(ConfigError, match=r"agents\.0\.python\.strategy"):
            validate_config(raw, "run.toml")

"""The gene domain is evolution's search space: a group nothing mutates may learn at any
``qnet.lr > 0`` and observe any feature set; an evolving group's founders must fit it, and
the config says which key to change."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from scarline.assembly import kernel_for
from scarline.config import RunConfig, validate_config
from scarline.errors import ConfigError
from scarline.journal import HashOnlyWal
from scarline.market.stream import normalized
from scarline.market.synthetic import SynthSpec, generate
from scarline.operator import ReplayOperator
from scarline.session import SessionIds

NO_WINDOWS = {"return_windows": [], "vol_windows": [], "momentum_windows": [], "rsi_windows": []}


def _group(**extra: Any) -> dict[str, Any]:
    return {"kind": "q-network", "count": 4, "qnet": {"warmup_steps": 8}, **extra}


def _kernel_group(cfg: RunConfig) -> Any:
    market = normalized(generate(SynthSpec(n_steps=60, n_instruments=2, seed=1)))
    kernel = kernel_for(cfg, market, SessionIds("q", "s"), HashOnlyWal("q"), ReplayOperator([]))
    kernel.run()
    return kernel.population.learners[0][1]


@pytest.mark.parametrize("lr", [0.05, 1e-6])
def test_a_group_without_evolution_learns_at_its_lr_outside_the_domain(lr: float) -> None:
    cfg = RunConfig(agents=[_group(qnet={"warmup_steps": 8, "lr": lr})])
    group = _kernel_group(cfg)
    assert np.all(group.genes.lr == np.float32(lr)) and group.learner.lr_scale is None


def test_a_group_without_evolution_may_observe_no_market_feature() -> None:
    cfg = RunConfig(agents=[_group(features={**NO_WINDOWS, "include_exog": False})])
    group = _kernel_group(cfg)
    assert group.genes.feature_mask.shape == (4, 0)


def test_an_evolving_group_with_lr_outside_the_domain_is_a_config_error() -> None:
    raw = {
        "agents": [
            {"kind": "sma-crossover"},
            _group(qnet={"lr": 0.05}, evolution={"enabled": True}),
        ]
    }
    with pytest.raises(ConfigError) as err:
        validate_config(raw, "run.toml")
    message = str(err.value)
    assert message.startswith("run.toml: agents[1].qnet.lr = 0.05 is outside")
    assert "agents[1].evolution.domain [lr_min, lr_max] = [1e-05, 0.01]" in message
    assert "\n" not in message


def test_an_evolving_group_without_enough_features_is_a_config_error() -> None:
    features = {**NO_WINDOWS, "rsi_windows": [14], "include_exog": False}
    evolution = {"enabled": True, "domain": {"min_features": 2}}
    raw = {"agents": [_group(features=features, evolution=evolution)]}
    with pytest.raises(ConfigError, match=r"agents\[0\]\.features gives 1 market features") as err:
        validate_config(raw, "run.toml")
    assert "agents[0].evolution.domain.min_features = 2" in str(err.value)


def test_an_evolving_group_inside_the_domain_is_accepted() -> None:
    raw = {"agents": [_group(qnet={"lr": 0.01}, evolution={"enabled": True})]}
    assert validate_config(raw, "run.toml").agents[0].qnet.lr == 0.01  # type: ignore[union-attr]

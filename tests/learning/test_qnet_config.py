"""QNetConfig bounds: values that would silently turn every weight into NaN are refused
for new runs; wrong types, unknown keys and values out of range are config errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from scarline.config import check_new_run, load_config
from scarline.errors import ConfigError
from scarline.learning.config import MAX_LR, MAX_REWARD_SCALE, QNetConfig
from scarline.runner import execute_run


def _toml(tmp_path: Path, qnet: str) -> Path:
    path = tmp_path / "run.toml"
    path.write_text(f'[[agents]]\nkind = "q-network"\ncount = 2\n[agents.qnet]\n{qnet}\n')
    return path


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("reward_scale = 1e308", "qnet.reward_scale"),  # rewards were inf, weights NaN
        ("reward_scale = 1e7", "qnet.reward_scale"),
        ("lr = 1e39\n[agents.evolution.domain]\nlr_max = 1e40", "qnet.lr"),  # inf in float32
        ("lr = 3.0\n[agents.evolution.domain]\nlr_max = 10.0", "qnet.lr"),
    ],
)
def test_a_new_run_refuses_values_past_the_bounds_naming_the_key(
    tmp_path: Path, line: str, key: str
) -> None:
    """They still load (a run recorded with them replays), but no new run starts with them:
    before, the run went on with every weight NaN."""
    path = _toml(tmp_path, line)
    config = load_config(path)
    with pytest.raises(ConfigError, match=rf"run\.toml: agents\[0\]\.{key} = "):
        check_new_run(config, str(path))
    with pytest.raises(ConfigError, match=rf"config: agents\[0\]\.{key} = "):
        execute_run(config, run_id="refused", out_dir=tmp_path / "runs")
    assert not (tmp_path / "runs").exists()


def test_the_bounds_themselves_are_accepted() -> None:
    cfg = QNetConfig(lr=MAX_LR, reward_scale=MAX_REWARD_SCALE)
    assert cfg.new_run_problems("qnet") == []


@pytest.mark.parametrize(
    "line",
    [
        "gamma = 1.0",  # undiscounted: legal
        "gamma = 0.0",  # myopic: what the planted-edge studies use
        "batch_size = 512\nbuffer_capacity = 16",  # sampled with replacement
        "epsilon_start = 0.0\nepsilon_end = 0.0",
    ],
)
def test_odd_but_legal_values_load(tmp_path: Path, line: str) -> None:
    assert load_config(_toml(tmp_path, line)).agents[0].kind == "q-network"


@pytest.mark.parametrize(
    "line",
    [
        "gamma = 1.01",
        "gamma = -0.1",
        "epsilon_start = 1.5",
        "epsilon_end = -0.1",
        "hidden = [0]",
        "hidden = []",
        "lr = 0.0",
        "batch_size = 0",
        "gamma = nan",
        "epsilon_start = inf",
        "hiden = [4]",
        "batch_size = 3.0",
    ],
)
def test_bad_values_are_config_errors_naming_the_file(tmp_path: Path, line: str) -> None:
    with pytest.raises(ConfigError, match=r"run\.toml: (unknown )?key '?agents\.0\.q-network"):
        load_config(_toml(tmp_path, line))

from pathlib import Path

import pytest

from scarline.config import RunConfig, config_hash, dump_toml, load_config
from scarline.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def test_default_toml_loads_with_the_default_flags() -> None:
    cfg = load_config(ROOT / "configs" / "default.toml")
    assert cfg.profile == "sim"
    assert cfg.data.source == "sp500"
    assert cfg.flags == RunConfig().flags
    assert cfg.flags.exploration  # learning needs it: on unless a config turns it off
    assert not any(v for k, v in cfg.flags.model_dump().items() if k != "exploration")


RUN_CONFIGS = sorted(p for p in (ROOT / "configs").glob("*.toml") if p.name != "gates.toml")


@pytest.mark.parametrize("path", RUN_CONFIGS, ids=lambda p: p.name)
def test_every_bundled_config_loads_and_round_trips(path: Path) -> None:
    cfg = load_config(path)
    assert RunConfig.model_validate(cfg.model_dump()) == cfg


def test_evolve_config_turns_evolution_on() -> None:
    cfg = load_config(ROOT / "configs" / "evolve.toml")
    assert any(getattr(g, "evolution", None) and g.evolution.enabled for g in cfg.agents)


def test_unknown_key_names_key_and_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[data]\nsorce = "sp500"\n')
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(path) in str(err.value)
    assert "data.sorce" in str(err.value)
    assert "unknown key" in str(err.value)


def test_wrong_type_names_key_and_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('seed = "abc"\n[wal]\nfsync = "sometimes"\n')
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert f"{path}: key 'seed'" in message
    assert "'wal.fsync'" in message


def test_bad_profile_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('profile = "live"\n')
    with pytest.raises(ConfigError, match="profile"):
        load_config(path)


def test_invalid_toml_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("seed = = 1\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(path)
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")


def test_hash_is_canonical_and_snapshot_round_trips(tmp_path: Path) -> None:
    cfg = RunConfig().with_overrides(**{"data.source": "nasdaq", "seed": 7})
    snapshot = tmp_path / "config.toml"
    snapshot.write_text(dump_toml(cfg))
    again = load_config(snapshot)
    assert again == cfg
    assert config_hash(again) == config_hash(cfg)
    assert config_hash(cfg) != config_hash(RunConfig())
    assert len(config_hash(cfg)) == 64


def test_key_order_does_not_change_hash(tmp_path: Path) -> None:
    a = tmp_path / "a.toml"
    b = tmp_path / "b.toml"
    a.write_text('seed = 3\nprofile = "paper"\n')
    b.write_text('profile = "paper"\nseed = 3\n')
    assert config_hash(load_config(a)) == config_hash(load_config(b))

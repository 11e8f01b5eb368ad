import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from scarline.config import (
    RunConfig,
    config_hash,
    drop_none,
    dump_toml,
    load_config,
    validate_config,
)
from scarline.errors import ConfigError
from scarline.execution.types import unit_values

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


NONE_IN_LISTS = {
    "webhook sink without url": '[[alerts.sinks]]\nkind = "webhook"\nurl_env = "HOOK"\n',
    "python agent without path": '[[agents]]\nkind = "python"\nstrategy = "my_mod:Mine"\n',
    "telegram sink without url": (
        '[[alerts.sinks]]\nkind = "telegram"\ntoken_env = "TOKEN"\nchat_id = 42\n'
        '[[alerts.sinks]]\nkind = "slack"\nurl = "http://127.0.0.1:9/x"\n'
    ),
}


@pytest.mark.parametrize("text", NONE_IN_LISTS.values(), ids=list(NONE_IN_LISTS))
def test_snapshot_round_trips_tables_in_lists_with_unset_keys(tmp_path: Path, text: str) -> None:
    """Tables inside arrays ([[alerts.sinks]], [[agents]]) have ``None`` fields too: the
    snapshot leaves them out at any depth, and reads back as the same config."""
    source = tmp_path / "in.toml"
    source.write_text(text)
    cfg = load_config(source)
    snapshot = tmp_path / "config.toml"
    snapshot.write_text(dump_toml(cfg))
    again = load_config(snapshot)
    assert again == cfg
    assert config_hash(again) == config_hash(cfg)


def test_drop_none_recurses_into_lists() -> None:
    doc = {"a": None, "b": [{"c": None, "d": [{"e": None, "f": 1}]}, 2], "g": {"h": None}}
    assert drop_none(doc) == {"b": [{"d": [{"f": 1}]}, 2], "g": {}}


def _models(model: type[BaseModel], seen: set[type[BaseModel]]) -> set[type[BaseModel]]:
    """``model`` and every model reachable from its fields' annotations."""
    if model in seen:
        return seen
    seen.add(model)
    for field in model.model_fields.values():
        for inner in _types(field.annotation):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                _models(inner, seen)
    return seen


def _types(annotation: object) -> list[object]:
    """Every type an annotation names (unions, Annotated, list and dict arguments)."""
    args = typing.get_args(annotation)
    return [annotation, *(t for a in args for t in _types(a))]


def test_every_key_that_may_be_none_defaults_to_none() -> None:
    """Why dropping ``None`` from the snapshot is lossless: leaving a key out means its
    default, so a key that may be ``None`` must default to ``None``."""
    for model in _models(RunConfig, set()):
        for name, field in model.model_fields.items():
            if type(None) in _types(field.annotation):
                assert field.default is None, f"{model.__name__}.{name}"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("name = " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
        ("seed = " + "9" * 5000 + "\n", "4300 digits"),
    ],
    ids=["deep-array", "long-integer"],
)
def test_toml_python_cannot_read_is_a_config_error(tmp_path: Path, text: str, reason: str) -> None:
    path = tmp_path / "odd.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert message.startswith(f"{path}: invalid config file: ") and reason in message
    assert "\n" not in message and "set_int_max_str_digits" not in message


def test_values_nested_too_deeply_to_validate_are_a_config_error() -> None:
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(ConfigError, match=r"^<raw>: values nested too deeply"):
        validate_config({"name": deep}, "<raw>")


@pytest.mark.parametrize(
    ("data", "limit"),
    [
        ({"lot_sizes": {"SYN0": "1e30"}}, "10,000,000,000"),
        ({"lot_sizes": {"SYN0": "1e999999999"}}, "10,000,000,000"),
        ({"tick_size": "100", "lot_sizes": {"SYN0": "200000000"}}, "100,000,000"),
    ],
)
def test_a_lot_whose_tick_value_overflows_int64_cash_is_refused(
    data: dict[str, object], limit: str
) -> None:
    with pytest.raises(ConfigError) as err:
        validate_config({"data": data}, "run.toml")
    message = str(err.value)
    assert message.startswith("run.toml: key 'data.lot_sizes'") and "too large" in message
    assert f"a lot is at most {limit} at this tick" in message


def test_a_lot_at_the_int64_limit_is_accepted_and_its_unit_value_fits() -> None:
    cfg = validate_config({"data": {"tick_size": "1", "lot_sizes": {"SYN0": "1e10"}}}, "run.toml")
    assert unit_values(["1"], [cfg.data.lot_sizes["SYN0"]])[0] == 10**18


def test_a_credential_in_the_live_feed_url_is_refused_without_being_echoed() -> None:
    raw = {"live": {"base_url": "https://me:hunter2@api.example.com"}}
    with pytest.raises(ConfigError, match=r"key 'live.base_url'.*may not hold credentials") as err:
        validate_config(raw, "paper.toml")
    assert "hunter2" not in str(err.value)


def test_a_profile_that_is_not_built_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"profile 'live-shadow' is not built yet"):
        validate_config({"profile": "live-shadow"}, "run.toml")


def test_initial_cash_below_one_cash_unit_is_refused_naming_the_key(tmp_path: Path) -> None:
    """``1e-9`` became 0 cash units, and the run failed after its last step with an internal
    error (exit 1), its run directory left behind. It still loads (a run recorded with it
    replays), but no new run starts with it."""
    from scarline.assembly import cash_units
    from scarline.config import check_new_run

    path = tmp_path / "run.toml"
    path.write_text("[accounts]\ninitial_cash = 1e-9\n")
    with pytest.raises(ConfigError, match=r"run\.toml: accounts\.initial_cash = 1e-09 is less"):
        check_new_run(load_config(path), str(path))
    path.write_text("[accounts]\ninitial_cash = 1e-8\n")
    check_new_run(load_config(path), str(path))
    assert cash_units(load_config(path).accounts.initial_cash) == 1


@pytest.mark.parametrize("text", ["1_000", " 0.1 ", "١٠", "+1", "0x10", "0"])
def test_a_lot_size_is_plain_positive_decimal_text(text: str) -> None:
    """``Decimal`` alone took ``"1_000"``, padded text and other scripts' digits, which the
    run then recorded as the instrument's lot size as written."""
    with pytest.raises(ConfigError, match=r"key 'data.lot_sizes'.*is not a positive decimal"):
        validate_config({"data": {"lot_sizes": {"SYN0": text}}}, "run.toml")
    assert validate_config({"data": {"lot_sizes": {"SYN0": "1e-2"}}}, "run.toml")

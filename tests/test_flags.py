"""``[flags]`` mean what they say: exploration off is greedy everywhere, unimplemented flags are
refused, and a run of an older event schema is refused by replay with a clear message."""

from __future__ import annotations

from pathlib import Path

import msgspec
import numpy as np
import pytest
from list_journal import ListJournal

from scarline.assembly import kernel_for
from scarline.config import NOT_IMPLEMENTED_FLAGS, RunConfig, load_config
from scarline.errors import ConfigError, WalError
from scarline.events import EXPLORE, GREEDY, REPLAYABLE_SCHEMAS, SCHEMA_VERSION, Decision
from scarline.market.stream import normalized
from scarline.market.synthetic import SynthSpec, generate
from scarline.operator import ReplayOperator
from scarline.replayer import replay_run
from scarline.runner import execute_run
from scarline.session import SessionIds

Q = {
    "kind": "q-network",
    "count": 8,
    "qnet": {"hidden": [8], "warmup_steps": 16, "epsilon_start": 1.0, "epsilon_decay_steps": 400},
}


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "run.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("flag", NOT_IMPLEMENTED_FLAGS)
def test_unimplemented_flags_are_refused_naming_the_key(tmp_path: Path, flag: str) -> None:
    path = _write(tmp_path, f"[flags]\n{flag} = true\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert str(path) in message and f"flags.{flag}" in message and "not implemented" in message
    assert not getattr(load_config(_write(tmp_path, f"[flags]\n{flag} = false\n")).flags, flag)


def test_exploration_is_on_by_default_and_an_explicit_false_still_loads(tmp_path: Path) -> None:
    assert RunConfig().flags.exploration
    assert not load_config(_write(tmp_path, "[flags]\nexploration = false\n")).flags.exploration


def test_exploration_off_refuses_evolution_naming_both_keys(tmp_path: Path) -> None:
    text = (
        "[flags]\nexploration = false\n"
        '[[agents]]\nkind = "buy-and-hold"\n'
        '[[agents]]\nkind = "q-network"\n[agents.evolution]\nenabled = true\n'
    )
    with pytest.raises(ConfigError) as err:
        load_config(_write(tmp_path, text))
    assert "flags.exploration = false" in str(err.value)
    assert "agents[1].evolution" in str(err.value)


def _reasons(exploration: bool) -> tuple[np.ndarray, str]:
    """Every Q-agent decision cell's reason code over a learning run, and its trace hash."""
    cfg = RunConfig(
        seed=4,
        agents=[Q],
        flags={"exploration": exploration},
        reflect={"drift": {"enabled": True}},  # alarms freeze exploration; nothing unfreezes
    )
    market = normalized(generate(SynthSpec(n_steps=300, n_instruments=2, seed=2)))
    journal = ListJournal()
    kernel = kernel_for(cfg, market, SessionIds("f", "s"), journal, ReplayOperator([]))
    result = kernel.run()
    reasons = [d.reasons.numpy() for d in journal.of(Decision) if d.reasons is not None]
    return np.concatenate(reasons), result.decision_trace_hash


def test_exploration_off_means_every_learning_decision_is_greedy() -> None:
    off, trace_off = _reasons(False)
    on, trace_on = _reasons(True)
    assert off.size and set(off.tolist()) == {GREEDY}
    assert (on == EXPLORE).sum() > 100  # epsilon starts at 1: the same agents explore a lot
    assert trace_off != trace_on


def test_replay_refuses_a_run_of_another_schema_and_says_so(tmp_path: Path) -> None:
    cfg = RunConfig(data={"source": "sp500", "end": "1999-06-30"}, report=False)
    summary = execute_run(cfg, run_id="old", out_dir=tmp_path)
    assert replay_run(summary.run_dir).parity
    path = summary.run_dir / "manifest.json"
    manifest = msgspec.json.decode(path.read_bytes())
    assert manifest["schema_version"] == SCHEMA_VERSION
    old = min(REPLAYABLE_SCHEMAS) - 1  # schemas in REPLAYABLE_SCHEMAS only added kinds
    manifest["schema_version"] = old
    path.write_bytes(msgspec.json.encode(manifest))
    with pytest.raises(WalError) as err:
        replay_run(summary.run_dir)
    message = str(err.value)
    assert "event schema changed" in message
    assert f"schema {old}" in message and f"schema {SCHEMA_VERSION}" in message

"""A tiny evolving run (and a ledger holding one of its policies at Candidate), built once
per session for the tests that run every command."""

from __future__ import annotations

import pytest
import tomli_w
from cli_cases import TinyRun

from scarline.config import load_config
from scarline.ledger.store import Ledger
from scarline.market.io import write_market
from scarline.market.synthetic import SynthSpec, generate
from scarline.runner import execute_run


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> TinyRun:
    """200 synthetic bars, four evolving Q-agents (weights, lineage, vault, diary)."""
    root = tmp_path_factory.mktemp("cli-tiny")
    data = write_market(generate(SynthSpec(n_steps=200, seed=3)), root / "synth.csv")
    config = root / "tiny.toml"
    evolution = {"enabled": True, "every": 50, "min_age": 50}
    agents = [{"kind": "q-network", "count": 4, "qnet": {"warmup_steps": 16}}]
    agents[0]["evolution"] = evolution
    doc = {"seed": 3, "report": False, "data": {"source": str(data)}, "agents": agents}
    config.write_text(tomli_w.dumps(doc), encoding="utf-8")
    summary = execute_run(load_config(config), run_id="tiny", out_dir=root / "runs")
    best = summary.to_json()["best_policy_hash"]
    assert isinstance(best, str)
    ledger = root / "ledger"
    Ledger(ledger).promote("1", "candidate", run_dir=summary.run_dir)
    return TinyRun(root, summary.run_dir, config, data, ledger, best)

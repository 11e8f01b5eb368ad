"""G4 deployability on a real genome: every check passes, and each one fails when it should."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import numpy as np
import pytest
import torch

from scarline.agents.config import QNetGroup
from scarline.agents.qagents import QAgents
from scarline.events import Array
from scarline.evolution.genome import Genome, encode_genome, policy_hash
from scarline.evolution.vault import Vault
from scarline.gating.deploy import (
    DeployThresholds,
    deployability,
    onnx_parity,
    rebuild_check,
    rebuilt_network,
    risk_limits,
)
from scarline.learning.buffer import assemble
from scarline.learning.onnx_export import agent_model
from scarline.market.stream import normalized
from scarline.market.synthetic import SynthSpec, generate
from scarline.risk.config import RiskConfig
from scarline.rng import SeedTree

CHECKS = ("onnx_parity", "latency", "memory", "risk_limits", "rebuild")
RISK = RiskConfig(max_drawdown_pct=20.0, max_position_lots=10)
FAST = DeployThresholds(latency_calls=200)  # the default budget, fewer timed calls


@pytest.fixture(scope="module")
def agent() -> tuple[Genome, np.ndarray]:
    """Agent 0's genome and the raw observations it saw (QAgents pins torch: restored)."""
    threads, strict = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    try:
        market = normalized(generate(SynthSpec(n_steps=200, seed=1)))
        agents = QAgents(market, QNetGroup(count=2), SeedTree(0), 0)
        genome = agents.genome(0)
        private = torch.linspace(-0.5, 0.5, 2 * len(genome.private_names)).view(2, -1)
        steps = range(agents.feature_table.shape[0])
        obs = torch.stack(
            [assemble(agents.feature_table, agents._inst_t, t, private)[0] for t in steps]
        )
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(strict)
    return genome, obs.numpy()


def _perturbed(genome: Genome) -> Genome:
    """The same genome with one output bias moved by 0.01 (a tampered export's weights)."""
    weights = list(genome.weights)
    bias = weights[-1].numpy().copy()
    bias[0] += np.float32(0.01)
    weights[-1] = Array.of(bias)
    return msgspec.structs.replace(genome, weights=tuple(weights))


def test_a_real_genome_passes_with_json_ready_figures(agent: tuple[Genome, np.ndarray]) -> None:
    genome, obs = agent
    report = deployability(genome, obs, RISK, FAST)
    assert json.loads(json.dumps(report, allow_nan=False)) == report
    assert list(report) == ["pass", *CHECKS]
    assert report["pass"] is True
    assert all(report[c]["pass"] is True for c in CHECKS)
    parity = report["onnx_parity"]
    assert isinstance(parity, dict)
    assert parity["n_obs"] == len(obs) and parity["action_agreement"] == 1.0
    assert 0.0 <= parity["max_abs_diff"] <= FAST.onnx_atol
    latency = report["latency"]
    assert isinstance(latency, dict)
    assert latency["calls"] == 200 and latency["budget_us"] == 1000.0
    assert 0 < latency["p50_us"] <= latency["p99_us"] <= latency["max_us"]
    memory = report["memory"]
    assert isinstance(memory, dict)
    assert memory["model_bytes"] == parity["onnx_bytes"]
    assert memory["n_parameters"] == sum(a.numpy().size for a in genome.weights)
    rebuild = report["rebuild"]
    assert isinstance(rebuild, dict)
    assert rebuild["policy_hash"] == rebuild["reloaded_hash"] == policy_hash(genome)
    assert rebuild["from_vault"] is False and rebuild["identical"] is True


def test_the_export_is_deterministic(agent: tuple[Genome, np.ndarray]) -> None:
    genome, obs = agent
    a, b = onnx_parity(genome, obs, 1e-4), onnx_parity(genome, obs, 1e-4)
    assert a["onnx_sha256"] == b["onnx_sha256"] and a["max_abs_diff"] == b["max_abs_diff"]


def test_parity_catches_a_tampered_model(agent: tuple[Genome, np.ndarray]) -> None:
    genome, obs = agent
    pop, _ = rebuilt_network(_perturbed(genome))
    honest = onnx_parity(genome, obs, 1e-4)
    tampered = onnx_parity(genome, obs, 1e-4, model=agent_model(pop, 0))
    assert honest["pass"] is True
    assert tampered["pass"] is False
    assert tampered["max_abs_diff"] == pytest.approx(0.01, abs=1e-6)
    assert tampered["onnx_sha256"] != honest["onnx_sha256"]


def test_the_mask_is_applied_before_both_forwards(agent: tuple[Genome, np.ndarray]) -> None:
    genome, obs = agent
    mask = list(genome.feature_mask)
    mask[0] = False
    masked = msgspec.structs.replace(genome, feature_mask=tuple(mask))
    noisy = obs.copy()
    noisy[:, 0] = 1e6  # a dropped feature may hold anything
    assert onnx_parity(masked, noisy, 1e-4)["pass"] is True
    with pytest.raises(ValueError, match=r"expected float32\[T >= 1, 12\]"):
        onnx_parity(genome, obs[:, :-1], 1e-4)


def test_latency_fails_a_zero_budget(agent: tuple[Genome, np.ndarray]) -> None:
    genome, obs = agent
    thresholds = DeployThresholds(latency_p99_us=0.0, latency_calls=20)
    report = deployability(genome, obs[:5], RISK, thresholds)
    latency = report["latency"]
    assert isinstance(latency, dict)
    assert latency["pass"] is False and latency["calls"] == 20 and latency["budget_us"] == 0.0
    assert report["pass"] is False
    assert all(report[c]["pass"] is True for c in CHECKS if c != "latency")


def test_memory_fails_a_tiny_model_budget(agent: tuple[Genome, np.ndarray]) -> None:
    genome, obs = agent
    report = deployability(genome, obs, RISK, DeployThresholds(latency_calls=10, max_model_bytes=1))
    memory = report["memory"]
    assert isinstance(memory, dict)
    assert memory["pass"] is False and report["pass"] is False


def test_risk_limits_name_what_is_missing(agent: tuple[Genome, np.ndarray]) -> None:
    only_dd = RiskConfig(max_drawdown_pct=15.0)
    result = risk_limits(only_dd, DeployThresholds().required_risk_limits)
    assert result == {
        "limits": [
            {"required": "max_drawdown_pct", "set": {"max_drawdown_pct": 15.0}},
            {"required": "max_position_lots|max_notional|max_gross_notional", "set": {}},
        ],
        "missing": ["max_position_lots|max_notional|max_gross_notional"],
        "pass": False,
    }
    either = risk_limits(RiskConfig(max_gross_notional=1e6), ("max_notional|max_gross_notional",))
    assert either["pass"] is True and either["missing"] == []
    genome, obs = agent
    report = deployability(genome, obs, RiskConfig(max_position_lots=3), FAST)
    limits = report["risk_limits"]
    assert isinstance(limits, dict)
    assert limits["missing"] == ["max_drawdown_pct"] and report["pass"] is False


def test_thresholds_refuse_unknown_risk_fields() -> None:
    with pytest.raises(ValueError, match="no RiskConfig field"):
        DeployThresholds(required_risk_limits=("max_drawdown_pct|max_dd",))
    with pytest.raises(ValueError, match="latency_calls"):
        DeployThresholds(latency_calls=0)


def test_rebuild_from_the_vault(agent: tuple[Genome, np.ndarray], tmp_path: Path) -> None:
    genome, obs = agent
    full = policy_hash(genome)
    vault = Vault(tmp_path / "vault")
    other = _perturbed(genome)
    vault.put_many([(encode_genome(genome), full), (encode_genome(other), policy_hash(other))])
    report = deployability(genome, obs, RISK, FAST, vault_dir=tmp_path / "vault")
    rebuild = report["rebuild"]
    assert isinstance(rebuild, dict)
    assert rebuild["from_vault"] is True and rebuild["identical"] is True
    assert rebuild["pass"] is True and report["pass"] is True
    # a vault without this policy: nothing to compare, the rest still holds
    empty = rebuild_check(genome, tmp_path / "elsewhere")
    assert empty["from_vault"] is False and empty["pass"] is True


def test_a_vault_snapshot_that_does_not_rebuild_the_same_bytes_fails(
    agent: tuple[Genome, np.ndarray], tmp_path: Path
) -> None:
    genome, _ = agent
    vault = Vault(tmp_path / "vault")
    vault.put(encode_genome(_perturbed(genome)), policy_hash(genome))  # a lying snapshot
    result = rebuild_check(genome, tmp_path / "vault")
    assert result["from_vault"] is True
    assert result["identical"] is False and result["pass"] is False

"""export-policy: the ONNX file acts like the agent it came from."""

import hashlib
import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pyarrow.parquet as pq
import pytest
import torch
from typer.testing import CliRunner

from scarline.cli import app
from scarline.config import RunConfig
from scarline.evolution.genome import Genome
from scarline.evolution.rebuild import load_policy, obs_mask, rebuild_policy
from scarline.evolution.scars import ScarConfig
from scarline.features.market import market_features
from scarline.learning.qnet import QPopulation
from scarline.policy_store import load_agent
from scarline.runner import execute_run, load_run_market

runner = CliRunner()
CFG = RunConfig(
    seed=4,
    data={"source": "sp500-20", "start": "2020-06-01"},
    report=False,
    agents=[
        {"kind": "buy-and-hold"},
        {"kind": "q-network", "count": 8, "qnet": {"warmup_steps": 8, "train_every": 2}},
    ],
)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return execute_run(CFG, run_id="export", out_dir=tmp_path_factory.mktemp("runs")).run_dir


def test_weights_are_bound_into_the_manifest(run_dir: Path) -> None:
    manifest = json.loads((run_dir / "manifest.json").read_text())
    artifacts = manifest["artifacts"]
    ((path, digest),) = [(p, d) for p, d in artifacts.items() if p.startswith("weights/")]
    assert hashlib.sha256((run_dir / path).read_bytes()).hexdigest() == digest
    for rel, sha in artifacts.items():  # and every other artifact (the diary) is bound too
        assert hashlib.sha256((run_dir / rel).read_bytes()).hexdigest() == sha


def test_onnxruntime_and_torch_agree_on_the_agents_actions(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "agent3.onnx"
    result = runner.invoke(app, ["export-policy", str(run_dir), "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    pop, row, actions = load_agent(run_dir, 3)  # agent 3 = row 2 of the Q group (after B&H)
    assert row == 2 and actions == [-1.0, 0.0, 1.0]
    table = market_features(load_run_market(CFG), CFG.agents[1].features).values
    inst = (3 - 1) % 20
    rng = np.random.default_rng(0)
    private = rng.normal(0, 0.5, size=(len(table), 4)).astype(np.float32)
    obs = np.concatenate([table[:, inst, :], private], axis=1).astype(np.float32)
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    q_onnx = session.run(None, {session.get_inputs()[0].name: obs})[0]
    with torch.no_grad():
        batch = torch.from_numpy(obs).unsqueeze(0).expand(pop.n_agents, -1, -1)
        q_torch = pop.forward(batch)[row].numpy()
    np.testing.assert_allclose(q_onnx, q_torch, atol=1e-5)
    assert np.array_equal(q_onnx.argmax(1), q_torch.argmax(1))


def test_a_rule_agent_cannot_be_exported(run_dir: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["export-policy", str(run_dir), "0", "--out", str(tmp_path / "x.onnx")]
    )
    assert result.exit_code == 2  # not one of the run's learning agents: bad input
    assert "not a learning agent" in result.output


EVOLVED = RunConfig(
    seed=2,
    data={"source": "sp500-20", "start": "2022-06-01"},  # 146 steps: cycles at 50 and 100
    report=False,
    agents=[
        {
            "kind": "q-network",
            "count": 8,
            "qnet": {"hidden": [8], "warmup_steps": 8, "train_every": 2},
            "evolution": {
                "enabled": True,
                "every": 50,
                "min_age": 0,
                "birth_fraction": 0.5,
                "rates": {"drop_feature": 1.0, "tighten_risk": 1.0},
            },
        }
    ],
)


def test_an_evolved_agent_exports_as_it_acted(tmp_path: Path) -> None:
    """Its dropped features and capped action levels are its genome's, not the group's: the
    file took the raw network and the group's levels, so it acted on features the agent
    never saw."""
    run_dir = execute_run(EVOLVED, run_id="evo", out_dir=tmp_path).run_dir
    lineage = pq.read_table(run_dir / "lineage.parquet").to_pandas()
    newborn = lineage[(lineage.death_step == -1) & (lineage.generation > 0)].iloc[0]
    slot = int(newborn.slot)
    out = tmp_path / "evolved.onnx"
    result = runner.invoke(app, ["export-policy", str(run_dir), str(slot), "--out", str(out)])
    assert result.exit_code == 0, result.output
    pop, genome = load_policy_of(run_dir, newborn.final_hash, tmp_path / "policy")
    mask = obs_mask(genome)
    assert not mask.all() and genome.exposure_cap < 1.0  # drop and tighten did act
    obs = np.random.default_rng(1).normal(size=(32, pop.obs_dim)).astype(np.float32)
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    (q_onnx,) = session.run(["q"], {"obs": obs})
    with torch.no_grad():
        q_agent = pop.forward(torch.from_numpy(obs * mask).unsqueeze(0))[0].numpy()
    np.testing.assert_allclose(q_onnx, q_agent, atol=1e-5)
    meta = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert json.loads(meta["actions"]) == [a * genome.exposure_cap for a in genome.actions]
    assert json.loads(meta["obs_mask"]) == mask.tolist()
    assert meta["policy_hash"] == newborn.final_hash


def load_policy_of(run_dir: Path, policy: str, out: Path) -> tuple[QPopulation, Genome]:
    rebuild_policy(run_dir, policy, out)
    return load_policy(out)


def test_a_dead_agent_exports_the_policy_it_died_with(tmp_path: Path) -> None:
    """Its slot's saved weights went on training after its death (TD updates on its replay
    memory): the file held a network the agent never acted with."""
    ruinous = EVOLVED.model_copy(update={"scars": ScarConfig(ruin_fraction=0.9999)})
    run_dir = execute_run(ruinous, run_id="ruin", out_dir=tmp_path).run_dir
    lineage = pq.read_table(run_dir / "lineage.parquet").to_pandas()
    last = lineage.sort_values(["birth_step", "agent_id"]).groupby("slot").tail(1)
    dead = last[last.death_step >= 0].iloc[0]
    out = tmp_path / "dead.onnx"
    args = ["export-policy", str(run_dir), str(int(dead.slot)), "--out", str(out), "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    pop, genome = load_policy_of(run_dir, dead.final_hash, tmp_path / "policy")
    model = onnx.load(str(out))
    w0 = onnx.numpy_helper.to_array(next(i for i in model.graph.initializer if i.name == "w0"))
    expected = pop.weights[0][0].detach().numpy() * obs_mask(genome)[:, None]
    assert np.array_equal(w0, expected)
    assert json.loads(result.stdout)["died_at_step"] == int(dead.death_step)
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["died_at_step"] == str(int(dead.death_step))


def test_a_dead_learners_export_says_it_is_not_the_policy_it_acted_with(tmp_path: Path) -> None:
    """Without evolution no genome was vaulted at its death: the file is its slot's final
    weights, trained on after it died, and says so (it said nothing)."""
    ruinous = CFG.model_copy(
        update={
            "data": CFG.data.model_copy(update={"start": "2022-06-01"}),
            "scars": ScarConfig(ruin_fraction=0.9999),
        }
    )
    run_dir = execute_run(ruinous, run_id="ruin", out_dir=tmp_path).run_dir
    summary = json.loads((run_dir / "summary.json").read_text())
    dead = next(a for a in summary["agents"] if a["kind"] == "q-network" and a["died_at"])
    out = tmp_path / "dead.onnx"
    args = ["export-policy", str(run_dir), str(dead["id"]), "--out", str(out), "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["died_at_step"] == dead["died_at"]
    assert f"agent {dead['id']} died at step {dead['died_at']}" in result.stderr
    assert "not the policy it acted with" in result.stderr
    meta = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert meta["died_at_step"] == str(dead["died_at"])

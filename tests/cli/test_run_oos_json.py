"""``scarline run --json``: per-agent out-of-sample figures and the ``oos`` summary."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import msgspec
import numpy as np
import pytest
import tomli_w
from typer.testing import CliRunner

from scarline.cli import app
from scarline.events import REPLAYABLE_SCHEMAS
from scarline.market.frequency import infer_periods_per_year
from scarline.market.io import write_market
from scarline.market.synthetic import SynthSpec, generate
from scarline.replayer import replay
from scarline.report.metrics import sharpe_ratio

runner = CliRunner()


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("oos")
    source = write_market(generate(SynthSpec(n_steps=300, seed=4, planted_ic=0.2)), root / "m.csv")
    config = {
        "data": {"source": str(source)},
        "report": False,
        "evaluation": {"oos_fraction": 0.3},
        "agents": [
            {"kind": "q-network", "count": 6, "qnet": {"hidden": [8], "warmup_steps": 16}},
            {"kind": "random-entry", "count": 4, "p_entry": 0.2, "p_exit": 0.2},
            {"kind": "buy-and-hold"},
        ],
    }
    path = root / "run.toml"
    path.write_text(tomli_w.dumps(config))
    args = ["run", "-c", str(path), "--out", str(root), "--run-id", "oos", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_agents_carry_out_of_sample_sharpe_return_and_trades(out: dict) -> None:
    agents = {a["id"]: a for a in out["agents"]}
    split = out["oos"]["split_step"]
    assert split == 210
    kernel = replay(Path(out["run_dir"]), keep_equity=True).kernel
    equity = kernel.recorder.equity.astype(np.float64)
    ppy = infer_periods_per_year(kernel.market.timestamps)
    expected = sharpe_ratio(equity[split - 1 :], ppy)
    for i, agent in agents.items():
        assert agent["oos_sharpe"] == pytest.approx(expected[i])
        assert isinstance(agent["oos_trades"], int) and 0 <= agent["oos_trades"] <= agent["trades"]
        assert math.isfinite(agent["oos_return"]) and 0 <= agent["trust"] <= 1
    assert sum(a["oos_trades"] for a in agents.values()) > 0


def test_oos_summary_has_the_learning_agents_median_and_the_best_ones_sharpe(out: dict) -> None:
    oos, agents = out["oos"], {a["id"]: a for a in out["agents"]}
    learners = [agents[i]["oos_sharpe"] for i in range(6)]
    assert oos["ml_median_sharpe"] == pytest.approx(float(np.median(learners)))
    assert out["best_agent_id"] < 6
    assert oos["best_agent_oos_sharpe"] == agents[out["best_agent_id"]]["oos_sharpe"]
    assert {"ml_median_return", "placebo_median_return", "buy_and_hold_return"} <= set(oos)


def test_replay_of_another_schema_exits_1_with_the_reason(out: dict, tmp_path: Path) -> None:
    old = Path(shutil.copytree(out["run_dir"], tmp_path / "old"))
    manifest = msgspec.json.decode((old / "manifest.json").read_bytes())
    manifest["schema_version"] = min(REPLAYABLE_SCHEMAS) - 1
    (old / "manifest.json").write_bytes(msgspec.json.encode(manifest))
    result = runner.invoke(app, ["replay", str(old)])
    assert result.exit_code == 1
    assert "event schema changed" in result.output and "Traceback" not in result.output

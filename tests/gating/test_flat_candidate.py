"""An agent that never trades gets verdicts with a reason, not a traceback (the default
arena's Q-agents stay flat out of sample)."""

from __future__ import annotations

from pathlib import Path

import msgspec

from scarline.config import RunConfig
from scarline.gating.config import GatesConfig
from scarline.gating.runner import run_gates
from scarline.market.io import write_market
from scarline.market.synthetic import SynthSpec, generate
from scarline.runner import execute_run


def test_a_flat_agent_fails_dsr_and_spa_with_a_reason(tmp_path: Path) -> None:
    data = write_market(generate(SynthSpec(n_steps=300, seed=6)), tmp_path / "synth.csv")
    cfg = RunConfig(
        seed=6,
        data={"source": str(data)},
        report=False,
        agents=[{"kind": "momentum", "lookbacks": [1000]}],  # longer than the data: never in
        evaluation={"oos_fraction": 0.3},
    )
    run = execute_run(cfg, run_id="flat", out_dir=tmp_path / "runs").run_dir
    report = run_gates(run, ["0"], GatesConfig(G2={"permutations": 19}), only=["G2"])
    g2 = msgspec.to_builtins(report.agents["0"].G2)  # as gates.json holds it
    reason = "no variation in the evaluated returns (the agent did not trade)"
    assert g2["dsr"] == {
        "sharpe": 0.0,
        "dsr": 0.0,
        "selection": "population",  # an agent id, not top:K: chosen by anything
        "agents": 1,
        "generations": 1,
        "clusters": 0,  # agents that never traded are no distinct strategy
        "flat_agents": 1,
        "silhouette": 0.0,
        "trials": 1,
        "population_trials": 1,
        "trials_raw": 1,
        "error": reason,
        "pass": False,
    }
    assert g2["spa"] == {"p_value": 1.0, "error": reason, "pass": False}
    assert g2["random_entry"]["sharpe"] == 0.0 and g2["random_entry"]["pass"] is False
    assert g2["label_shuffle"]["pass"] is True  # n/a: a rule agent learned nothing
    assert g2["pbo"]["pass"] is True and g2["pbo"]["strategies"] == 0  # nothing to select
    assert g2["contracts"] == {"failed": ["random_entry", "block_permutation"], "pass": False}
    assert g2["evidence"]["failed"] == ["dsr", "spa"] and g2["evidence"]["pass"] is False
    assert g2["pass"] is False

"""Gate acceptance on noise: one seed's evolved run on a pure random walk and its G2 verdict.

A module of its own (not the test file) so that worker processes can import it: the seeds
are independent, and running them side by side keeps the acceptance test's time in check.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from scarline.config import RunConfig
from scarline.gating.config import GatesConfig
from scarline.gating.runner import run_gates
from scarline.market.io import write_market
from scarline.market.synthetic import SynthSpec, generate
from scarline.runner import execute_run

NOISE_STEPS = 600
NOISE_AGENTS = 12
NOISE_EVERY = 100
RISK = {"max_drawdown_pct": 50.0, "max_position_lots": 100000}
# cheaper than the defaults (the permutations are a median contract, not a level-alpha test)
NOISE_G2 = GatesConfig(G2={"permutations": 19, "placebo_agents": 50, "spa_reps": 500})


def noise_run(tmp: Path, seed: int) -> Path:
    """Evolving Q-agents (a life cycle every 100 bars) on a market with nothing to find."""
    spec = SynthSpec(n_steps=NOISE_STEPS, n_instruments=2, seed=seed, random_walk=True)
    data = write_market(generate(spec), tmp / f"rw{seed}.csv")
    evolution = {"enabled": True, "every": NOISE_EVERY, "min_age": NOISE_EVERY}
    cfg = RunConfig(
        seed=seed,
        data={"source": str(data)},
        report=False,
        agents=[
            {
                "kind": "q-network",
                "count": NOISE_AGENTS,
                "qnet": {"warmup_steps": 32, "train_every": 4},
                "evolution": evolution,
            }
        ],
        evaluation={"oos_fraction": 0.3},
        risk=RISK,
    )
    return execute_run(cfg, run_id=f"rw{seed}", out_dir=tmp / "runs").run_dir


def noise_verdict(tmp: str, seed: int) -> dict[str, object]:
    """The G2-only gate report entry of the top in-sample agent of seed ``seed``'s run, as
    ``gates.json`` holds it."""
    report = run_gates(noise_run(Path(tmp), seed), ["top:1"], NOISE_G2, only=["G2"])
    agents = msgspec.to_builtins(report)["agents"]
    assert isinstance(agents, dict) and len(agents) == 1
    return next(iter(agents.values()))

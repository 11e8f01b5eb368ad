"""`scarline gates` end to end: a planted-edge run (2000 bars, 16 Q-agents + 8 placebos),
then every gate on its top agent; prints the time of the run, of the gates, and of each
step of the gates (from the runner's progress messages), plus the verdicts."""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from scarline.config import RunConfig
from scarline.gates.config import GatesConfig
from scarline.gates.runner import run_gates
from scarline.market.io import write_market
from scarline.market.synthetic import SynthSpec, generate
from scarline.runner import execute_run


def measure(steps: int, permutations: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        spec = SynthSpec(
            n_steps=steps, n_instruments=2, seed=3, random_walk=True, drift_ic=0.3,
            drift_persistence=0.9,
        )  # fmt: skip
        data = write_market(generate(spec), Path(tmp) / "synth.csv")
        cfg = RunConfig(
            seed=1,
            data={"source": str(data)},
            report=False,
            agents=[
                {"kind": "q-network", "count": 16, "qnet": {"warmup_steps": 64}},
                {"kind": "random-entry", "count": 8},
            ],
            evaluation={"oos_fraction": 0.3},
            risk={"max_drawdown_pct": 50.0, "max_position_lots": 100000},
        )
        start = time.perf_counter()
        summary = execute_run(cfg, run_id="bench-gates", out_dir=Path(tmp) / "runs")
        run_s = time.perf_counter() - start
        steps_s: dict[str, float] = {}
        last = [time.perf_counter(), "replay"]

        def tick(message: str) -> None:
            now = time.perf_counter()
            key = " ".join(
                str(last[1]).split()[:2]
            )  # "block permutation 3/39" -> "block permutation"
            steps_s[key] = steps_s.get(key, 0.0) + now - float(last[0])
            last[:] = [now, message]

        start = time.perf_counter()
        report = run_gates(
            summary.run_dir, ["top:1"], GatesConfig(G2={"permutations": permutations}), tick=tick
        )
        gates_s = time.perf_counter() - start
        tick("end")
    ((agent, entry),) = report.agents.items()
    return {
        "steps": steps,
        "permutations": permutations,
        "run_seconds": round(run_s, 2),
        "gates_seconds": round(gates_s, 2),
        "by_step_seconds": {
            k: round(v, 2) for k, v in sorted(steps_s.items(), key=lambda kv: -kv[1])
        },
        "agent": agent,
        "verdicts": {g: v is not None and v.passed for g, v in entry.verdicts().items()},
        "pass": entry.passed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=2000, help="bars of the synthetic market")
    parser.add_argument("--permutations", type=int, default=39, help="block permutations")
    args = parser.parse_args()
    print(json.dumps(measure(args.steps, args.permutations)))


if __name__ == "__main__":
    main()

"""`scarline gates` end to end: a planted-edge run (2000 bars, 16 Q-agents + 8 placebos),
then every gate on its top agent; prints the time of the run, of the gates, and of each
step of the gates (from the runner's progress messages; the first step is the batch of
every independent re-run on the executor), plus the verdicts. ``--executor``/``--workers``
choose where the re-runs go (default: serial, then process with 2 workers, back to back,
with the ratio: the machine may be shared, so only the ratio is comparable)."""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from output import logs_to_stderr

from scarline.argtypes import positive_int
from scarline.config import RunConfig
from scarline.gating.config import GatesConfig
from scarline.gating.executor import executor_for
from scarline.gating.runner import run_gates
from scarline.market.io import write_market
from scarline.market.synthetic import SynthSpec, generate
from scarline.runner import execute_run


def measure(steps: int, permutations: int, executors: list[tuple[str, int]]) -> dict[str, object]:
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
        runs = [gates(summary.run_dir, permutations, name, workers) for name, workers in executors]
    out: dict[str, object] = {"steps": steps, "permutations": permutations}
    out["run_seconds"] = round(run_s, 2)
    out["gates"] = runs
    if len(runs) == 2:
        out["ratio"] = round(float(runs[0]["gates_seconds"]) / float(runs[1]["gates_seconds"]), 2)
        out["same_report"] = runs[0].pop("report") == runs[1].pop("report")
    for r in runs:
        r.pop("report", None)
    return out


def gates(run_dir: Path, permutations: int, executor: str, workers: int) -> dict[str, object]:
    """Every gate on the top agent, timed per progress step."""
    steps_s: dict[str, float] = {}
    last = [time.perf_counter(), "replay"]

    def tick(message: str) -> None:
        now = time.perf_counter()
        key = " ".join(str(last[1]).split()[:2])  # "block permutations (39, ...)" -> 2 words
        steps_s[key] = steps_s.get(key, 0.0) + now - float(last[0])
        last[:] = [now, message]

    pool = executor_for(executor, workers)
    label = f"{pool.name} x{pool.workers}"
    start = time.perf_counter()
    report = run_gates(
        run_dir, ["top:1"], GatesConfig(G2={"permutations": permutations}), tick=tick, executor=pool
    )
    gates_s = time.perf_counter() - start
    tick("end")
    ((agent, entry),) = report.agents.items()
    g4 = entry.G4  # its latency figures are wall-clock: left out of the comparison
    return {
        "executor": label,
        "gates_seconds": round(gates_s, 2),
        "by_step_seconds": {
            k: round(v, 2) for k, v in sorted(steps_s.items(), key=lambda kv: -kv[1])
        },
        "agent": agent,
        "verdicts": {g: v is not None and v.passed for g, v in entry.verdicts().items()},
        "pass": entry.passed,
        "report": (repr(entry.G2), repr(entry.G3), g4.passed if g4 is not None else None),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--steps", type=positive_int, default=2000, help="bars of the synthetic market"
    )
    parser.add_argument("--permutations", type=positive_int, default=39, help="block permutations")
    parser.add_argument("--executor", choices=["serial", "process", "ray"], default=None)
    parser.add_argument("--workers", type=positive_int, default=2)
    args = parser.parse_args()
    logs_to_stderr()
    executors = [("serial", 1), ("process", args.workers)]
    if args.executor is not None:
        executors = [(args.executor, args.workers)]
    print(json.dumps(measure(args.steps, args.permutations, executors)))


if __name__ == "__main__":
    main()

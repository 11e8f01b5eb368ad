"""Power study of gate G2: how often a real edge passes, and how often luck does.

    python scripts/gate_power.py [--ics 0.05,0.10,0.15,0.20] [--seeds 10] [--rw-seeds 20]
                                 [--agents 64] [--workers 2] [--json FILE]

For each information coefficient (IC) and seed it generates the project's planted market
(:class:`scarline.market.synthetic.SynthSpec` with ``planted_ic``: 3000 daily bars, one
instrument, a column ``signal`` whose correlation with the next bar's return is the IC,
known at its bar's close), runs Q-agents on it at zero cost with the last 30 % held out,
and judges the top in-sample learner with G2 only (``scarline gates RUN --agents top:1
--only G2``). Random walks (``random_walk=True``: no edge at all) give the false-pass rate.

Printed per IC: the G2 pass rate, the median out-of-sample Sharpe of the judged agent and of
the ``sign(signal)`` rule, and the median DSR / SPA p. The table in docs/gates.md is this
script's output. It takes long (every seed is a run plus its G2 placebos): about a minute a
seed with 64 agents on this 2-core machine; ``--workers`` runs seeds side by side.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from scarline.argtypes import correlations, non_negative_int, positive_int
from scarline.config import RunConfig
from scarline.gating.runner import run_gates
from scarline.market.io import write_market
from scarline.market.synthetic import SynthSpec, generate
from scarline.runner import execute_run
from scarline.stats import sharpe

STEPS = 3000
OOS = 0.3
QNET = {
    "hidden": [32],
    "actions": [-1.0, 0.0, 1.0],  # the planted edge is symmetric: long and short
    "epsilon_decay_steps": 500,
    "double": True,
    "torch_threads": 1,  # seeds run side by side, one per core (results do not depend on it)
}


def _rule_sharpe(spec: SynthSpec) -> float:
    """Per-bar out-of-sample Sharpe of ``sign(signal)``, gross: the edge's ceiling."""
    market = generate(spec)
    close = market.close[:, 0].astype(np.float64)
    signal = market.exog[:, 0, 0]
    pnl = np.sign(signal[:-1]) * np.diff(np.log(close))
    split = round(STEPS * (1 - OOS))
    oos = pnl[split - 1 :]
    return float(sharpe(oos, ddof=0)[0])


def one_seed(ic: float, seed: int, agents: int) -> dict[str, object]:
    """Run one planted (or random-walk, ``ic == 0``) market and G2-judge its top learner."""
    spec = SynthSpec(
        n_steps=STEPS,
        n_instruments=1,
        seed=seed,
        planted_ic=ic if ic else None,
        random_walk=not ic,
    )
    with tempfile.TemporaryDirectory() as tmp:
        data = write_market(generate(spec), Path(tmp) / "market.csv")
        cfg = RunConfig(
            seed=seed,
            data={"source": str(data)},
            report=False,
            agents=[{"kind": "q-network", "count": agents, "qnet": QNET}],
            evaluation={"oos_fraction": OOS},
            risk={"max_drawdown_pct": 80.0, "max_position_lots": 10**9},
        )
        run = execute_run(cfg, run_id=f"power-{ic}-{seed}", out_dir=Path(tmp) / "runs")
        report = run_gates(run.run_dir, ["top:1"], only=["G2"])
    verdict = next(iter(report.agents.values()))
    g2 = verdict.G2
    assert g2 is not None
    dsr, spa, evidence = g2.dsr or {}, g2.spa or {}, g2.evidence or {}
    return {
        "ic": ic,
        "seed": seed,
        "pass": g2.passed,
        "sharpe": dsr.get("sharpe"),
        "rule_sharpe": _rule_sharpe(spec) if ic else None,
        "dsr": dsr.get("dsr"),
        "spa_p": spa.get("p_value"),
        "dsr_combined_p": evidence.get("dsr_combined_p"),
        "spa_combined_p": evidence.get("spa_combined_p"),
        "failed": [*(g2.contracts or {})["failed"], *(g2.evidence or {})["failed"]],
        "flags": verdict.flags,
    }


def _median(rows: list[dict[str, object]], key: str) -> float:
    values = [float(r[key]) for r in rows if isinstance(r.get(key), int | float)]
    return float(np.median(values)) if values else float("nan")


def table(rows: list[dict[str, object]]) -> str:
    lines = [
        "| market | seeds | G2 pass rate | judged agent's OOS Sharpe (median, per bar) "
        "| sign(signal) OOS Sharpe | median DSR | median SPA p "
        "| median p with the in-sample record (DSR / SPA) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for ic in sorted({float(r["ic"]) for r in rows}):  # type: ignore[arg-type]
        group = [r for r in rows if r["ic"] == ic]
        name = "random walk" if ic == 0 else f"planted IC {ic:.2f}"
        rate = sum(bool(r["pass"]) for r in group) / len(group)
        lines.append(
            f"| {name} | {len(group)} | {rate:.0%} | {_median(group, 'sharpe'):.3f} "
            f"| {_median(group, 'rule_sharpe'):.3f} | {_median(group, 'dsr'):.3f} "
            f"| {_median(group, 'spa_p'):.3f} "
            f"| {_median(group, 'dsr_combined_p'):.3f} / {_median(group, 'spa_combined_p'):.3f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ics", type=correlations, default="0.05,0.10,0.15,0.20")
    ap.add_argument("--seeds", type=positive_int, default=10, help="seeds per IC")
    ap.add_argument("--rw-seeds", type=non_negative_int, default=20, help="random-walk seeds")
    ap.add_argument("--agents", type=positive_int, default=64, help="Q-agents per run")
    ap.add_argument("--workers", type=positive_int, default=2)
    ap.add_argument("--json", type=Path, help="also write every seed's row here")
    args = ap.parse_args(argv)
    jobs = [(ic, s) for ic in args.ics for s in range(1, args.seeds + 1)]
    jobs += [(0.0, 1000 + s) for s in range(args.rw_seeds)]
    rows: list[dict[str, object]] = []
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        futures = [pool.submit(one_seed, ic, seed, args.agents) for ic, seed in jobs]
        for i, future in enumerate(futures, 1):
            row = future.result()
            rows.append(row)
            print(f"[{i}/{len(jobs)}] {json.dumps(row)}", file=sys.stderr, flush=True)
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

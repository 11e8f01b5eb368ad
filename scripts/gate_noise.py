"""Evolved noise against gate G2: agents evolved on a pure random walk must fail it.

    python scripts/gate_noise.py [--seeds 101-120] [--workers 2] [--json FILE]

For each seed: 12 Q-agents evolve on a two-instrument random walk (600 daily bars, a life
cycle every 100 bars, so 5 generations before the split at bar 420), the last 30 % held out,
and the top in-sample agent is judged by G2 alone (``scarline gates RUN --agents top:1 --only
G2``) with cheaper permutation, placebo and SPA counts than the defaults (:data:`NOISE_G2`).
There is nothing to find, so every seed should fail: the script prints each seed's figures
and failed checks, then how often each check failed and the seeds that passed (none, as
recorded in the README and docs/gates.md). Unlike ``scripts/gate_power.py``'s random walks
these pools evolve before the split, which is the case where selection between generations
most flatters the survivor.

``tests/gating/test_gates_noise.py`` runs the first seeds of this study as the suite's fast,
decisive case. About 8 CPU-seconds a seed on this 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import msgspec

from scarline.argtypes import positive_int
from scarline.config import RunConfig
from scarline.gating.anti_overfit import CONTRACTS
from scarline.gating.config import GatesConfig
from scarline.gating.runner import run_gates
from scarline.market.io import write_market
from scarline.market.synthetic import SynthSpec, generate
from scarline.runner import execute_run

SEEDS = range(101, 121)
STEPS = 600
AGENTS = 12
EVERY = 100
RISK = {"max_drawdown_pct": 50.0, "max_position_lots": 100000}
NOISE_G2 = GatesConfig(G2={"permutations": 19, "placebo_agents": 50, "spa_reps": 500})
"""Cheaper than the defaults (the permutations are a median contract, not a level-α test)."""


def noise_run(tmp: Path, seed: int) -> Path:
    """Evolving Q-agents (a life cycle every 100 bars) on a market with nothing to find."""
    spec = SynthSpec(n_steps=STEPS, n_instruments=2, seed=seed, random_walk=True)
    data = write_market(generate(spec), tmp / f"rw{seed}.csv")
    evolution = {"enabled": True, "every": EVERY, "min_age": EVERY}
    cfg = RunConfig(
        seed=seed,
        data={"source": str(data)},
        report=False,
        agents=[
            {
                "kind": "q-network",
                "count": AGENTS,
                "qnet": {"warmup_steps": 32, "train_every": 4},
                "evolution": evolution,
            }
        ],
        evaluation={"oos_fraction": 0.3},
        risk=RISK,
    )
    return execute_run(cfg, run_id=f"rw{seed}", out_dir=tmp / "runs").run_dir


def noise_verdict(seed: int) -> dict[str, object]:
    """The G2-only gate report entry of seed ``seed``'s top in-sample agent, as
    ``gates.json`` holds it."""
    with tempfile.TemporaryDirectory(prefix=f"scarline-noise-{seed}-") as tmp:
        report = run_gates(noise_run(Path(tmp), seed), ["top:1"], NOISE_G2, only=["G2"])
    agents = msgspec.to_builtins(report)["agents"]
    if not isinstance(agents, dict) or len(agents) != 1:
        raise RuntimeError(f"seed {seed}: expected one judged agent, got {agents!r}")
    return dict(next(iter(agents.values())))


def failed_checks(verdict: dict[str, object]) -> list[str]:
    """G2's broken contracts, plus ``evidence`` when its statistics refuse the agent."""
    g2 = verdict["G2"]
    assert isinstance(g2, dict)
    return [*g2["contracts"]["failed"], *(["evidence"] if not g2["evidence"]["pass"] else [])]


def verdicts(seeds: list[int], workers: int) -> dict[int, dict[str, object]]:
    """Every seed's verdict, ``workers`` seeds side by side (fresh interpreters: no state
    is shared between seeds)."""
    if workers <= 1:
        return {seed: noise_verdict(seed) for seed in seeds}
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        return dict(zip(seeds, pool.map(noise_verdict, seeds), strict=True))


def summary_line(seed: int, verdict: dict[str, object]) -> str:
    g2 = verdict["G2"]
    assert isinstance(g2, dict)
    dsr, spa = g2["dsr"], g2["spa"]
    return (
        f"seed {seed}: sharpe {dsr['sharpe']} dsr {dsr['dsr']} "
        f"(N {dsr['trials']} of {dsr['trials_raw']}) spa p {spa['p_value']} "
        f"pbo {g2['pbo']['pbo']} permutation p {g2['block_permutation']['p_value']} "
        f"failed {failed_checks(verdict)}"
    )


def failure_counts(results: dict[int, dict[str, object]]) -> dict[str, int]:
    """How many seeds failed each contract, and the evidence."""
    failed = [failed_checks(v) for v in results.values()]
    return {name: sum(name in f for f in failed) for name in [*CONTRACTS, "evidence"]}


def _seed_range(text: str) -> list[int]:
    first, _, last = text.partition("-")
    try:
        seeds = list(range(int(first), int(last or first) + 1))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected A-B or A, got {text!r}") from None
    if not seeds:
        raise argparse.ArgumentTypeError(f"{text!r} is an empty range")
    return seeds


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--seeds", type=_seed_range, default=list(SEEDS), help="A-B, inclusive (101-120)"
    )
    ap.add_argument("--workers", type=positive_int, default=2, help="seeds side by side")
    ap.add_argument("--json", type=Path, help="also write every seed's G2 verdict here")
    args = ap.parse_args(argv)
    results = verdicts(args.seeds, args.workers)
    for seed, verdict in results.items():
        print(summary_line(seed, verdict))
    passed = [seed for seed, v in results.items() if not failed_checks(v)]
    print(f"G2 failures over {len(results)} seeds: {failure_counts(results)}")
    print(f"seeds that passed G2: {passed or 'none'}")
    if args.json:
        rows = {str(seed): v for seed, v in results.items()}
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 1 if passed else 0


if __name__ == "__main__":
    sys.exit(main())

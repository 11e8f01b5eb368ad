"""`make bench`: every benchmark, one JSON summary.

    python bench/all.py [--out bench/results/latest.json] [--only kernel,arena] [--quick]

Each benchmark runs in its own process (so one's memory or threads cannot colour the next)
with its JSON output; the summary adds the machine, the commit and the wall time of each,
and figures read off two of them together (``derived``: the floor that reading every weight
puts on an arena step, see :func:`derived`), and is printed and written to ``--out``.
Compare two summaries with ``bench/compare.py`` so a slowdown is seen in review:
``python bench/compare.py bench/baseline.json bench/results/latest.json``. ``--quick``
shrinks every benchmark (a smoke run, not figures).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES: dict[str, tuple[list[str], list[str]]] = {
    # name: (full arguments, --quick arguments)
    "machine": (["--json"], ["--json", "--mib", "32", "--repeat", "2"]),
    "wal": (["--json"], ["--json", "--records", "20000", "--repeat", "1"]),
    "kernel": (["--json"], ["--json", "--bars", "20000", "--agent-bars", "200", "--repeat", "1"]),
    "peers": (["--json"], ["--json", "--bars", "20000", "--repeat", "1"]),
    "arena": (
        ["--json", "--sizes", "256,1024,4096"],
        ["--json", "--sizes", "256", "--repeat", "1"],
    ),
    "learner": (["--json"], ["--json", "--agents", "256", "--repeat", "2"]),
    "drift": ([], ["--steps", "200", "--repeat", "1"]),
    "gates": ([], ["--t", "500", "--k", "20"]),
    "gate_runner": ([], ["--steps", "600", "--permutations", "3"]),
    "soak": (["--json"], ["--json", "--bars", "120"]),
    "service": (["--json"], ["--json", "--bars", "300"]),
    "serve": (["--json"], ["--json", "--runs", "3", "--records", "5000", "--requests", "40"]),
}


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True
        )
    except OSError:
        return "unknown"
    return out.stdout.strip() or "unknown"


def run_one(name: str, args: list[str]) -> dict[str, object]:
    """The benchmark's JSON (its last stdout line), or an ``error`` naming why not."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(HERE / f"{name}.py"), *args], capture_output=True, text=True
    )
    seconds = round(time.perf_counter() - start, 1)
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"exit {proc.returncode}: {tail}", "wall_s": seconds}
    try:
        result = json.loads(lines[-1])
    except json.JSONDecodeError:
        return {"error": f"not JSON: {lines[-1][:200]}", "wall_s": seconds}
    return {"result": result, "wall_s": seconds}


GATHER_THREADS = 2
"""Threads the learner's replay gather runs on (one per core) when the arena's summary does
not say how many cores it had (``cores``, from 2026-12-07; this 2-core machine before): the
sample floor takes them at perfect scaling."""


def derived(benches: dict[str, object]) -> dict[str, float]:
    """Floors on an arena step at N = the arena's largest, read off the machine's own figures
    in the same summary: work a step cannot skip, at the best rate this machine showed.

    - acting reads every agent's weights: ``weight_bytes`` at one thread's ``read_gb_s``;
    - the WAL's chain hashes every byte journaled: ``wal_bytes_a_step_*`` at ``blake2b_mb_s``;
    - learning adds the update's products, ``update_gflop_a_step`` at the better of the one-
      and two-thread ``gflop_s`` (float32 without fused multiply-add, as replay requires),
      and the replay sample's random reads, ``samples_a_step`` (one each, a lower bound) at
      the arena's ``cores`` (else :data:`GATHER_THREADS`) times one thread's
      ``random_reads_per_s`` (the machine row has no two-thread figure for random reads, so
      this takes the perfect scaling).

    Each ``*_ceiling_agent_steps_per_s`` is N over its floor: the most that work allows,
    with nothing else in the step (no features, orders, risk, fills or encoding).
    Empty when either benchmark is missing or failed, or lacks a machine figure or the
    arena's N, weights or WAL sizes; an arena without the learning figures (an older
    summary) counts no products and no sample in the learning floor."""
    machine, arena = (benches.get(name) for name in ("machine", "arena"))
    if not isinstance(machine, dict) or not isinstance(arena, dict):
        return {}
    box, run = machine.get("result", {}), arena.get("result", {})
    need = ("read_gb_s", "blake2b_mb_s", "gflop_s", "gflop_s_2", "random_reads_per_s")
    have = ("weight_bytes", "n_agents", "wal_bytes_a_step_inference", "wal_bytes_a_step_learning")
    if not all(box.get(k) for k in need) or not all(run.get(k) for k in have):
        return {}
    n = run["n_agents"]
    acting = run["weight_bytes"] / (box["read_gb_s"] * 1e9)
    hashing = {kind: run[f"wal_bytes_a_step_{kind}"] / (box["blake2b_mb_s"] * 1e6) for kind in
               ("inference", "learning")}  # fmt: skip
    products = run.get("update_gflop_a_step", 0) / max(box["gflop_s"], box["gflop_s_2"])
    gather_threads = run.get("cores", GATHER_THREADS)
    sampling = run.get("samples_a_step", 0) / (gather_threads * box["random_reads_per_s"])
    inference = acting + hashing["inference"]
    learning = acting + hashing["learning"] + products + sampling
    ms = {
        "acting_read": acting,
        "inference_hash": hashing["inference"],
        "learning_hash": hashing["learning"],
        "update_products": products,
        "replay_sample_reads": sampling,
        "inference_floor": inference,
        "learning_floor": learning,
    }
    return {
        **{f"{name}_ms_a_step": round(s * 1e3, 3) for name, s in ms.items()},
        "inference_ceiling_agent_steps_per_s": round(n / inference),
        "learning_ceiling_agent_steps_per_s": round(n / learning),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=HERE / "results" / "latest.json")
    ap.add_argument("--only", default="", help="comma-separated names: " + ", ".join(BENCHES))
    ap.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run, not figures")
    args = ap.parse_args(argv)
    names = [n for n in args.only.split(",") if n] or list(BENCHES)
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        ap.error(f"unknown benchmark(s): {', '.join(unknown)} (known: {', '.join(BENCHES)})")
    summary: dict[str, object] = {
        "commit": _commit(),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "quick": args.quick,
        "benches": {},
    }
    benches: dict[str, object] = {}
    for i, name in enumerate(names, 1):
        full, quick = BENCHES[name]
        print(f"[{i}/{len(names)}] {name} …", file=sys.stderr, flush=True)
        benches[name] = run_one(name, quick if args.quick else full)
    summary["benches"] = benches
    summary["derived"] = derived(benches)
    text = json.dumps(summary, indent=2, sort_keys=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n", encoding="utf-8")
    print(text)
    print(f"written to {args.out}", file=sys.stderr)
    failed = [n for n, r in benches.items() if isinstance(r, dict) and "error" in r]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

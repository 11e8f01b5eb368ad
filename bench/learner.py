"""One DQN learning step of a whole population, timed: the replay sample and the update.

    python bench/learner.py --json [--agents 4096] [--batch 32] [--repeat 15]

At N agents (16 inputs → 32 → 3, a full replay buffer of 2048 transitions each, a feature
table of 3000 bars × 20 instruments): ``sample_ms``, the learner's replay sample (draw,
slots, gather, observations, mask: one compiled pass); ``update_ms_torch`` and
``update_ms_compiled``, one update with ``qnet.update = "torch"`` and ``"compiled"`` on the
same batch, and ``update_speedup``, their ratio; ``learn_ms_torch`` and
``learn_ms_compiled``, a whole learning step as the kernel calls it (sample and update: the
compiled update reads each agent's batch straight from its buffer), and ``learn_speedup``;
``learn_cpu_ms_compiled``, the CPU time of every thread in the fastest of the latter (what
the update costs the arena a learning step is this over its ``train_every``);
``update_gflop``, the products of one update (:func:`update_flop`), and
``update_gflop_s_compiled``, the rate the compiled update does them at (against
``bench/machine.py``'s ``gflop_s``: float32 without fused multiply-add, as replay requires).
Each figure is the fastest of ``--repeat``
calls, interleaved (this shared machine's speed moves by up to ~30 % within minutes); torch
runs on the process's threads, the compiled passes on as many.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

import torch
from flop import update_flop

from scarline.argtypes import positive_int
from scarline.learning.buffer import ReplayBuffers
from scarline.learning.config import QNetConfig
from scarline.learning.dqn import DQNLearner
from scarline.learning.qnet import QPopulation, configure_torch

FEATURES, PRIVATE, BARS, INSTRUMENTS, CAPACITY = 12, 4, 3000, 20, 2048


def measure(agents: int, batch: int, repeat: int) -> dict[str, object]:
    configure_torch(0)
    g = torch.Generator().manual_seed(0)
    buffers = ReplayBuffers(agents, CAPACITY, PRIVATE)
    for s in range(CAPACITY):
        private = torch.randn(agents, PRIVATE, generator=g)
        action = torch.randint(3, (agents,), generator=g)
        reward = torch.randn(agents, generator=g)
        done = torch.zeros(agents, dtype=torch.bool)
        buffers.add(s % BARS, private, action, reward, (s + 1) % BARS, private, done)
    table = torch.randn(BARS, INSTRUMENTS, FEATURES, generator=g)
    instrument = torch.randint(INSTRUMENTS, (agents,), generator=g)
    mask = torch.ones(agents, FEATURES + PRIVATE)
    cfg = QNetConfig(batch_size=batch)
    net = QPopulation(agents, FEATURES + PRIVATE, cfg.hidden, cfg.n_actions, g)
    learners = {
        "torch": DQNLearner(net, cfg.model_copy(update={"update": "torch"})),
        "compiled": DQNLearner(net.clone(), cfg.model_copy(update={"update": "compiled"})),
    }
    sample = learners["compiled"].sample(buffers, table, instrument, g, obs_mask=mask)
    calls: dict[str, Callable[[], object]] = {
        "sample": lambda: learners["compiled"].sample(buffers, table, instrument, g, None, mask),
        "torch": lambda: learners["torch"].update(*sample),
        "compiled": lambda: learners["compiled"].update(*sample),
        "learn_torch": lambda: learners["torch"].learn(buffers, table, instrument, g, mask),
        "learn_compiled": lambda: learners["compiled"].learn(buffers, table, instrument, g, mask),
    }
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in calls}
    for call in calls.values():
        call()  # warm-up: numba's cache, torch's first calls
    for _ in range(repeat):
        for name, call in calls.items():
            start, cpu_start = time.perf_counter(), time.process_time()
            call()
            runs[name].append((time.perf_counter() - start, time.process_time() - cpu_start))
    fastest = {name: min(rs) for name, rs in runs.items()}  # (seconds, every thread's CPU)
    best = {name: seconds * 1e3 for name, (seconds, _) in fastest.items()}
    flop = update_flop(net.sizes, batch, agents)
    return {
        "agents": agents,
        "batch": batch,
        "threads": torch.get_num_threads(),
        "sample_ms": round(best["sample"], 2),
        "update_ms_torch": round(best["torch"], 2),
        "update_ms_compiled": round(best["compiled"], 2),
        "update_speedup": round(best["torch"] / best["compiled"], 2),
        "learn_ms_torch": round(best["learn_torch"], 2),
        "learn_ms_compiled": round(best["learn_compiled"], 2),
        "learn_speedup": round(best["learn_torch"] / best["learn_compiled"], 2),
        "learn_cpu_ms_compiled": round(fastest["learn_compiled"][1] * 1e3, 2),
        "update_gflop": round(flop / 1e9, 3),
        "update_gflop_s_compiled": round(flop / best["compiled"] / 1e6, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=positive_int, default=4096)
    parser.add_argument("--batch", type=positive_int, default=32, help="transitions per agent")
    parser.add_argument(
        "--repeat", type=positive_int, default=15, help="timed calls; the fastest counts"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    result = measure(args.agents, args.batch, args.repeat)
    if args.json:
        print(json.dumps(result))
        return
    print(
        f"N = {result['agents']}, batch {result['batch']}, {result['threads']} threads: "
        f"sample {result['sample_ms']} ms; update torch {result['update_ms_torch']} ms, "
        f"compiled {result['update_ms_compiled']} ms ({result['update_speedup']}x); "
        f"learn (sample + update) torch {result['learn_ms_torch']} ms, compiled "
        f"{result['learn_ms_compiled']} ms ({result['learn_speedup']}x,"
        f" {result['learn_cpu_ms_compiled']} ms of CPU); an update's products "
        f"{result['update_gflop']} GFLOP, {result['update_gflop_s_compiled']} GFLOP/s compiled"
    )


if __name__ == "__main__":
    main()

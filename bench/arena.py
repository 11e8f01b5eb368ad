"""Arena throughput: N Q-network agents on real data with risk, broker, accounting and WAL.

    python bench/arena.py --json [--sizes 256,1024,4096] [--repeat R] [--loop-agents K]

For each N: ``agent_steps_per_s_inference`` (learning off), ``agent_steps_per_s_learning``
(DQN on, the config's train_every), ``agent_steps_per_s_evolution`` (learning plus the
default evolution: a life cycle every 250 steps, every recorded genome hashed into a vault)
with ``evolution_vs_learning`` (its share of the learning throughput),
``agent_steps_per_s_learning_torch`` (learning with ``qnet.update = "torch"``; the default
is the compiled update), and at the largest N ``speedup_vs_loop``: the same kernel stepping
K agents one population of one at a time (extrapolated per agent-step) versus all together;
``peak_rss_mib`` is the process's peak resident memory; ``wal_bytes_a_step_inference``
and ``_learning`` are the WAL's size over the steps (the run's records, as journaled);
``weight_bytes`` is the size of every agent's network, which acting reads in full each step
(against ``bench/machine.py``'s read bandwidth: a floor on a step's time);
``update_gflop_a_step`` is the products the learning run's DQN updates do, a step on average
(:func:`flop.update_flop` of the arena's own network, over ``train_every``), and
``samples_a_step`` the replay transitions they gather (N × batch over ``train_every``): with
the machine's figures, ``bench/all.py`` turns these into floors on a learning step.
``cpu`` (per kind, of its fastest run) is where the CPU went: ``kernel_thread_ms_a_step``,
the CPU time of the thread that steps the kernel (it holds the GIL for everything but the
compiled passes), and ``all_threads_ms_a_step``, every thread's (acting's and the update's
second thread, the WAL's helper, the vault writer); ``cpu_bound_agent_steps_per_s`` is N
over the latter shared by every usable core, the most this CPU work could give were it
spread perfectly over them. A budget above that bound needs less work, not more overlap.
For a kind that learns, ``cpu`` also splits its wall time a step: ``learn_calls_ms_a_step``
inside the learners' learning calls (the replay sample and the DQN update) and
``rest_of_step_ms`` outside them (acting, exploring, the orders, the journal), which alone
is set against the ~4.1 ms a step that 1 M agent-steps/s allows at N = 4096.
Only the kernel loop is timed. Each kind runs R times (default 5), interleaved, and the
fastest run counts: on this shared 2-core machine one run of the same code varied by up to
~30 % within minutes, which once moved ``evolution_vs_learning`` from 0.99 to 0.62 between
two runs of the same code; every time is kept in ``curve[].seconds``. Before the first N's
timed runs, each kind runs once untimed (``warmup_seconds``): a process's first run of a
kind pays one-time costs no later run does (numba loading a function from its cache on
the first call, ~0.3 s each, or compiling it after the code changed: 4.3 s of N = 256's
first inference run at 2026-12-07 08:19; torch's first allocations), which had left a kind
that came first two clean runs of three. Five runs, not three: in four `--sizes 4096` runs
of one hour (2026-12-07, 09:17–10:00) three of each kind gave ``evolution_vs_learning``
0.82–0.89, a slow round taking every kind down 15–30 %; more runs give the fastest of each
kind more chances to miss such a round.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple, TypeVar

from flop import update_flop

from scarline.argtypes import iso_date, positive_int, positive_ints
from scarline.assembly import kernel_for
from scarline.config import RunConfig
from scarline.errors import ConfigError
from scarline.evolution.vault import Vault
from scarline.evolution.vault_writer import VaultWriter
from scarline.journal import WalWriter
from scarline.operator import ReplayOperator
from scarline.runner import load_run_market
from scarline.session import SessionIds

T = TypeVar("T")

RISK = {
    "max_drawdown_pct": 80.0,
    "ladder": {"warn_drawdown_pct": 30.0, "throttle_drawdown_pct": 45.0, "halt_drawdown_pct": 60.0},
}


EVOLUTION = {"enabled": True}  # the defaults: a life cycle every 250 steps


def _config(
    n: int, learn: bool, steps_start: str, evolve: bool = False, update: str = "auto"
) -> RunConfig:
    return RunConfig(
        data={"source": "sp500-20", "start": steps_start},
        agents=[
            {
                "kind": "q-network",
                "count": n,
                "learn": learn,
                "qnet": {"warmup_steps": 16, "train_every": 4, "update": update},
                "evolution": EVOLUTION if evolve else {},
            }
        ],
        execution={"fees": {"bps": 1.0}, "slippage": {"fixed_bps": 1.0}},
        risk=RISK,
        report=False,
    )


class Timed(NamedTuple):
    """One timed kernel run."""

    seconds: float  # the kernel loop's
    steps: int
    wal_bytes: int
    weight_bytes: int  # the Q-networks' weights, which acting reads in full every step
    update_flop_a_step: float  # the learners' update products, a step on average
    samples_a_step: float  # the replay transitions those updates gather, a step on average
    kernel_cpu_s: float  # the CPU time of the thread that ran the loop
    process_cpu_s: float  # every thread's CPU time over the loop
    learn_s: float = 0.0  # wall time inside the learners' learning calls (sample + update)


def cpu_figures(run: Timed, n_agents: int, cores: int) -> dict[str, float]:
    """Where a timed run's CPU went, a step on average, and the throughput that CPU work
    would allow spread perfectly over ``cores`` (see the module docstring); for a run that
    learns, its wall time a step inside the learning calls and outside them."""
    per_step = {"kernel": run.kernel_cpu_s / run.steps, "all": run.process_cpu_s / run.steps}
    figures = {
        "kernel_thread_ms_a_step": round(per_step["kernel"] * 1e3, 3),
        "all_threads_ms_a_step": round(per_step["all"] * 1e3, 3),
        "cpu_bound_agent_steps_per_s": round(n_agents * cores / per_step["all"]),
    }
    if run.learn_s > 0:
        figures["learn_calls_ms_a_step"] = round(run.learn_s / run.steps * 1e3, 3)
        figures["rest_of_step_ms"] = round((run.seconds - run.learn_s) / run.steps * 1e3, 3)
    return figures


def usable_cores() -> int:
    """The cores this process may run on (its affinity where the OS tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _seconds(cfg: RunConfig) -> Timed:
    """One run of ``cfg``'s kernel, its loop timed."""
    market = load_run_market(cfg)
    with (
        tempfile.TemporaryDirectory(prefix="scarline-bench-arena-") as tmp,
        WalWriter(Path(tmp) / "wal", "bench", fsync="batch") as wal,
    ):
        # an evolving run hashes and stores every genome it records, as `scarline run` does
        vault = VaultWriter(Vault(Path(tmp) / "vault"))
        kernel = kernel_for(
            cfg,
            market,
            SessionIds("bench", "s"),
            wal,
            ReplayOperator([]),
            keep_equity=False,
            genome_sink=vault,
        )
        learn_s = [0.0]
        groups = [group for _, group in kernel.population.learners]
        for group in groups:
            group.learner.learn = _timed(group.learner.learn, learn_s)
        start, thread0, process0 = time.perf_counter(), time.thread_time(), time.process_time()
        try:
            kernel.run()
            vault.close()  # timed: the last genomes are on disk
            seconds = time.perf_counter() - start
            kernel_cpu = time.thread_time() - thread0
            process_cpu = time.process_time() - process0
        finally:
            for group in groups:  # the wrapper holds its learner: a cycle the next
                del group.learner.learn  # run's settled heap would keep (+500 MiB peak RSS)
        wal.close()
        size = sum(path.stat().st_size for path in (Path(tmp) / "wal").iterdir())
        weights = sum(a.nbytes for group in groups for a in group.net.arrays())
        learning = [(g.cfg, g.n_agents, g.net.sizes) for g in groups if g.learning]
        flop = sum(update_flop(sizes, q.batch_size, n) / q.train_every for q, n, sizes in learning)
        samples = sum(n * q.batch_size / q.train_every for q, n, _ in learning)
        return Timed(
            seconds, market.n_steps, size, weights, flop, samples, kernel_cpu, process_cpu,
            learn_s[0],
        )  # fmt: skip


def _timed(call: Callable[..., T], total: list[float]) -> Callable[..., T]:
    """``call``, adding the wall time of each call to ``total[0]`` (~1 µs a call, made once
    every ``train_every`` steps)."""

    def timed(*args: object, **kwargs: object) -> T:
        start = time.perf_counter()
        try:
            return call(*args, **kwargs)
        finally:
            total[0] += time.perf_counter() - start

    return timed


def measure(sizes: list[int], start: str, loop_agents: int, repeat: int = 5) -> dict[str, object]:
    curve = []
    cores = usable_cores()
    warmup: dict[str, float] = {}  # the untimed first run of each kind, at the first N
    for n in sizes:
        configs = {
            "inference": _config(n, False, start),
            "learning": _config(n, True, start),
            "evolution": _config(n, True, start, evolve=True),
            "learning_torch": _config(n, True, start, update="torch"),
        }
        if not curve:  # the process's first runs of each kind pay its one-time costs
            warmup = {kind: round(_seconds(cfg).seconds, 3) for kind, cfg in configs.items()}
        seconds: dict[str, list[float]] = {kind: [] for kind in configs}
        fastest: dict[str, Timed] = {}  # sizes are the same in every repeat; times are not
        for _ in range(repeat):  # interleaved, so a slow spell of the machine hits all three
            for kind, cfg in configs.items():
                run = _seconds(cfg)
                seconds[kind].append(run.seconds)
                if kind not in fastest or run.seconds < fastest[kind].seconds:
                    fastest[kind] = run
        inference, learning = fastest["inference"], fastest["learning"]
        steps = inference.steps
        best = {kind: run.seconds for kind, run in fastest.items()}
        curve.append(
            {
                "n_agents": n,
                "steps": steps,
                "agent_steps_per_s_inference": round(n * steps / best["inference"]),
                "agent_steps_per_s_learning": round(n * steps / best["learning"]),
                "agent_steps_per_s_evolution": round(n * steps / best["evolution"]),
                "agent_steps_per_s_learning_torch": round(n * steps / best["learning_torch"]),
                "evolution_vs_learning": round(best["learning"] / best["evolution"], 3),
                "wal_bytes_a_step_inference": round(inference.wal_bytes / steps),
                "wal_bytes_a_step_learning": round(learning.wal_bytes / steps),
                "weight_bytes": inference.weight_bytes,
                "update_gflop_a_step": round(learning.update_flop_a_step / 1e9, 4),
                "samples_a_step": round(learning.samples_a_step),
                "seconds": {kind: [round(t, 3) for t in ts] for kind, ts in seconds.items()},
                "cpu": {kind: cpu_figures(run, n, cores) for kind, run in fastest.items()},
            }
        )
    n_big = sizes[-1]
    t_one = sum(_seconds(_config(1, False, start)).seconds for _ in range(loop_agents))
    per_agent_loop = t_one / loop_agents
    big = curve[-1]
    t_vector = n_big * big["steps"] / big["agent_steps_per_s_inference"]
    return {
        "n_agents": n_big,
        "agent_steps_per_s_inference": big["agent_steps_per_s_inference"],
        "agent_steps_per_s_learning": big["agent_steps_per_s_learning"],
        "agent_steps_per_s_evolution": big["agent_steps_per_s_evolution"],
        "agent_steps_per_s_learning_torch": big["agent_steps_per_s_learning_torch"],
        "evolution_vs_learning": big["evolution_vs_learning"],
        "wal_bytes_a_step_inference": big["wal_bytes_a_step_inference"],
        "wal_bytes_a_step_learning": big["wal_bytes_a_step_learning"],
        "weight_bytes": big["weight_bytes"],
        "update_gflop_a_step": big["update_gflop_a_step"],
        "samples_a_step": big["samples_a_step"],
        "speedup_vs_loop": round(per_agent_loop * n_big / t_vector, 1),
        "warmup_seconds": warmup,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "cores": cores,
        "cpu": big["cpu"],
        "curve": curve,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", type=positive_ints, default="4096", help="comma-separated N values"
    )
    parser.add_argument(
        "--start", type=iso_date, default="2021-01-01", help="first date of sp500-20 used"
    )
    parser.add_argument(
        "--loop-agents", type=positive_int, default=4, help="single-agent runs timed"
    )
    parser.add_argument(
        "--repeat",
        type=positive_int,
        default=5,
        help="timed runs of each kind per N, interleaved; the fastest counts (timeit's rule: "
        "the least disturbed by other load), all are in the JSON's curve",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    try:
        result = measure(args.sizes, args.start, args.loop_agents, args.repeat)
    except ConfigError as err:  # e.g. a --start past the bundled data's last bar
        parser.error(str(err))
    if args.json:
        print(json.dumps(result))
        return
    for row in result["curve"]:  # type: ignore[union-attr]
        print(
            f"N = {row['n_agents']:>5}: inference {row['agent_steps_per_s_inference']:>12,}"
            f"  learning {row['agent_steps_per_s_learning']:>12,}"
            f"  evolution {row['agent_steps_per_s_evolution']:>12,} agent-steps/s"
            f" ({row['evolution_vs_learning']:.0%} of learning);"
            f" learning with torch's update {row['agent_steps_per_s_learning_torch']:>12,};"
            f" WAL {row['wal_bytes_a_step_inference'] / 1e3:,.0f} KB a step"
            f" ({row['wal_bytes_a_step_learning'] / 1e3:,.0f} KB learning)"
        )
    print(
        f"speedup vs one-by-one: {result['speedup_vs_loop']}x;"
        f" peak RSS {result['peak_rss_mib']} MiB"
    )
    for kind, cpu in result["cpu"].items():  # type: ignore[attr-defined]
        print(
            f"{kind}: CPU {cpu['all_threads_ms_a_step']:.2f} ms a step"
            f" ({cpu['kernel_thread_ms_a_step']:.2f} on the kernel's thread); on"
            f" {result['cores']} cores at most {cpu['cpu_bound_agent_steps_per_s']:,}"
            " agent-steps/s"
        )


if __name__ == "__main__":
    main()

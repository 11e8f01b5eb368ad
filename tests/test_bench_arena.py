"""``bench/arena.py``'s CPU accounting: where a run's CPU went and the bound it puts on
throughput (the arena's timed runs themselves are benchmarks, never tests)."""

from __future__ import annotations

import pytest
from bench_helpers import load_bench

arena = load_bench("arena")


def _run(seconds: float, kernel_cpu: float, process_cpu: float, steps: int = 500) -> object:
    return arena.Timed(seconds, steps, 0, 0, 0.0, 0.0, kernel_cpu, process_cpu)


def test_cpu_figures_are_per_step_and_the_bound_spreads_all_threads_over_the_cores() -> None:
    # 500 steps on 4096 agents: 6 s of every thread's CPU is 12 ms a step; on two cores
    # perfectly shared that is 6 ms a step of wall time, 4096 / 0.006 agent-steps/s
    got = arena.cpu_figures(_run(5.0, 4.0, 6.0), n_agents=4096, cores=2)
    assert got == {
        "kernel_thread_ms_a_step": 8.0,
        "all_threads_ms_a_step": 12.0,
        "cpu_bound_agent_steps_per_s": round(4096 * 2 / 0.012),
    }


def test_the_bound_is_never_below_the_measured_throughput_when_cpu_fits_the_cores() -> None:
    # a run cannot use more CPU than its cores give it in its wall time, so the bound its
    # own CPU puts on throughput is at least what it achieved
    for wall, cpu, cores in ((5.0, 9.5, 2), (2.0, 2.0, 1), (3.0, 0.5, 4)):
        run = _run(wall, cpu, cpu)
        achieved = 4096 * run.steps / wall
        assert arena.cpu_figures(run, 4096, cores)["cpu_bound_agent_steps_per_s"] >= achieved


def test_a_learning_run_splits_its_wall_time_at_the_learning_calls() -> None:
    # 5 s over 500 steps, 2 of them inside learning calls: 4 ms and 6 ms a step
    run = arena.Timed(5.0, 500, 0, 0, 0.0, 0.0, 4.0, 6.0, learn_s=2.0)
    got = arena.cpu_figures(run, n_agents=4096, cores=2)
    assert got["learn_calls_ms_a_step"] == 4.0 and got["rest_of_step_ms"] == 6.0
    assert "learn_calls_ms_a_step" not in arena.cpu_figures(_run(5.0, 4.0, 6.0), 4096, 2)


def test_timed_adds_each_calls_wall_time_and_passes_results_and_errors_through() -> None:
    total = [0.0]
    double = arena._timed(lambda x: 2 * x, total)
    assert double(21) == 42 and total[0] > 0.0

    def fails() -> None:
        raise ValueError("boom")

    before = total[0]
    with pytest.raises(ValueError, match="boom"):
        arena._timed(fails, total)()
    assert total[0] > before


def test_usable_cores_counts_at_least_one() -> None:
    assert arena.usable_cores() >= 1


def test_each_kind_runs_once_untimed_before_the_first_size_is_timed(monkeypatch) -> None:
    # a process's first run of a kind pays one-time costs (numba's cache, torch's first
    # allocations): one untimed run of each kind comes first, at the first N only, and its
    # seconds are reported apart from the timed ones
    calls: list[tuple[int, bool, bool]] = []
    clock = iter(range(1, 1000))

    def fake(cfg: object) -> object:
        group = cfg.agents[0]  # type: ignore[attr-defined]
        calls.append((group.count, group.learn, group.evolution.enabled))
        return _run(float(next(clock)), 1.0, 1.0)

    monkeypatch.setattr(arena, "_seconds", fake)
    result = arena.measure([8, 16], "2021-01-01", loop_agents=1, repeat=2)
    kinds = 4  # inference, learning, evolution, learning with torch's update
    assert [n for n, _, _ in calls] == [8] * kinds * 3 + [16] * kinds * 2 + [1]
    assert result["warmup_seconds"] == {
        "inference": 1.0, "learning": 2.0, "evolution": 3.0, "learning_torch": 4.0
    }  # fmt: skip
    first = result["curve"][0]["seconds"]  # type: ignore[index]
    assert first["inference"] == [5.0, 9.0]  # the timed runs only, after the warm-up

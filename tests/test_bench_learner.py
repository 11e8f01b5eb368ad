"""``bench/learner.py`` on a tiny population: its figures are there and consistent (the
timings themselves are benchmarks, never asserted)."""

from __future__ import annotations

from bench_helpers import load_bench

learner = load_bench("learner")


def test_the_summary_reports_each_call_and_the_cpu_of_the_fastest_learning_step() -> None:
    got = learner.measure(agents=8, batch=4, repeat=2)
    for key in ("sample_ms", "update_ms_torch", "update_ms_compiled", "learn_ms_compiled"):
        assert got[key] > 0, key
    # every thread's CPU in one call is positive; on this process's threads it cannot exceed
    # the call's wall time times the threads by more than the clocks' granularity
    assert 0 < got["learn_cpu_ms_compiled"] <= got["learn_ms_compiled"] * got["threads"] + 5
    assert got["agents"] == 8 and got["batch"] == 4

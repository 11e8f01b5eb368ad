"""``bench/all.py``'s derived figures: acting's read floor from the arena and the machine."""

from __future__ import annotations

from bench_helpers import load_bench

bench_all = load_bench("all")


def test_the_acting_floor_is_the_weights_over_the_read_bandwidth() -> None:
    benches = {
        "machine": {"result": {"read_gb_s": 20.0}, "wall_s": 5.0},
        "arena": {"result": {"weight_bytes": 10_000_000, "n_agents": 4096}, "wall_s": 9.0},
    }
    got = bench_all.derived(benches)
    assert got["acting_read_ms_a_step"] == 0.5  # 10 MB at 20 GB/s
    assert got["inference_ceiling_from_acting_agent_steps_per_s"] == 8_192_000


def test_nothing_is_derived_from_a_missing_or_failed_benchmark() -> None:
    machine = {"result": {"read_gb_s": 20.0}, "wall_s": 5.0}
    assert bench_all.derived({"machine": machine}) == {}
    assert bench_all.derived({"machine": machine, "arena": {"error": "exit 1", "wall_s": 1}}) == {}
    arena = {"result": {"weight_bytes": 10, "n_agents": 4}, "wall_s": 1.0}
    assert bench_all.derived({"machine": {"error": "x", "wall_s": 1}, "arena": arena}) == {}

"""``bench/all.py``'s derived floors: an arena step's unskippable work at the machine's rates."""

from __future__ import annotations

import pytest
from bench_helpers import load_bench

bench_all = load_bench("all")

MACHINE = {
    "read_gb_s": 20.0,
    "blake2b_mb_s": 1000,
    "gflop_s": 10.0,
    "gflop_s_2": 25.0,
    "random_reads_per_s": 100_000_000,
}
ARENA = {
    "n_agents": 4096,
    "weight_bytes": 10_000_000,
    "wal_bytes_a_step_inference": 200_000,
    "wal_bytes_a_step_learning": 500_000,
    "update_gflop_a_step": 0.1,
    "samples_a_step": 32768,
}


def _derived(machine: dict[str, float], arena: dict[str, float]) -> dict[str, float]:
    return bench_all.derived(
        {"machine": {"result": machine, "wall_s": 5.0}, "arena": {"result": arena, "wall_s": 9.0}}
    )


def test_each_floor_is_its_work_over_the_machines_rate() -> None:
    got = _derived(MACHINE, ARENA)
    assert got["acting_read_ms_a_step"] == 0.5  # 10 MB at 20 GB/s
    assert got["inference_hash_ms_a_step"] == 0.2  # 200 KB at 1 GB/s
    assert got["learning_hash_ms_a_step"] == 0.5
    assert got["update_products_ms_a_step"] == 4.0  # 0.1 GFLOP at the better rate, 25
    assert got["replay_sample_reads_ms_a_step"] == 0.164  # 32,768 reads on two threads
    assert got["inference_floor_ms_a_step"] == 0.7
    assert got["learning_floor_ms_a_step"] == pytest.approx(0.5 + 0.5 + 4.0 + 0.164, abs=1e-3)
    assert got["inference_ceiling_agent_steps_per_s"] == round(4096 / 0.7e-3)
    assert got["learning_ceiling_agent_steps_per_s"] == round(4096 / 5.16384e-3)


def test_the_sample_floor_spreads_over_the_cores_the_arena_had() -> None:
    got = _derived(MACHINE, {**ARENA, "cores": 4})
    assert got["replay_sample_reads_ms_a_step"] == 0.082  # 32,768 reads on four threads


def test_an_arena_without_learning_figures_has_learning_floor_of_acting_and_hashing() -> None:
    arena = {k: v for k, v in ARENA.items() if k not in ("update_gflop_a_step", "samples_a_step")}
    got = _derived(MACHINE, arena)
    assert got["learning_floor_ms_a_step"] == 1.0


def test_nothing_is_derived_from_a_missing_failed_or_partial_benchmark() -> None:
    machine = {"result": MACHINE, "wall_s": 5.0}
    assert bench_all.derived({"machine": machine}) == {}
    assert bench_all.derived({"machine": machine, "arena": {"error": "exit 1", "wall_s": 1}}) == {}
    arena = {"result": ARENA, "wall_s": 1.0}
    assert bench_all.derived({"machine": {"error": "x", "wall_s": 1}, "arena": arena}) == {}
    assert _derived({**MACHINE, "blake2b_mb_s": 0}, ARENA) == {}
    assert _derived(MACHINE, {k: v for k, v in ARENA.items() if k != "weight_bytes"}) == {}

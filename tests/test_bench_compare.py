"""``bench/compare.py`` flags a figure that got worse beyond the tolerance, in the right
direction for its kind (throughput up, time down), and ignores the sizes a bench ran at."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bench_helpers import load_bench

compare_module = load_bench("compare")


def _summary(per_s: float, p99_ms: float, bars: int) -> dict[str, object]:
    kernel = {"bars_per_s_single": per_s, "bars_single": bars}
    service = {"api_p99_ms": p99_ms}
    return {"commit": "x", "benches": {"kernel": {"result": kernel, "wall_s": 3.0},
                                       "service": {"result": service, "wall_s": 9.0}}}  # fmt: skip


def test_slower_throughput_and_higher_latency_regress(tmp_path: Path) -> None:
    rows = compare_module.compare(_summary(100.0, 5.0, 10), _summary(80.0, 6.0, 99), 10.0)
    by = {r["figure"]: r for r in rows}
    assert by["kernel.result.bars_per_s_single"]["regressed"]
    assert by["service.result.api_p99_ms"]["regressed"]
    assert "kernel.result.bars_single" not in by and "kernel.wall_s" not in by  # settings
    better = compare_module.compare(_summary(100.0, 5.0, 10), _summary(150.0, 4.0, 10), 10.0)
    assert not any(r["regressed"] for r in better)
    base, current = tmp_path / "a.json", tmp_path / "b.json"
    base.write_text(json.dumps(_summary(100.0, 5.0, 10)))
    current.write_text(json.dumps(_summary(95.0, 5.2, 10)))
    assert compare_module.main([str(base), str(current)]) == 0  # within 10 %
    assert compare_module.main([str(base), str(current), "--tolerance", "1"]) == 1


@pytest.mark.parametrize(
    ("text", "why"),
    [("{bad", "not JSON"), ("[1, 2]", "no 'benches' object"), ('{"benches": 3}', "no 'benches'")],
)
def test_a_file_that_is_not_a_summary_is_named_with_what_is_wrong(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, why: str
) -> None:
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps(_summary(100.0, 5.0, 10)))
    bad.write_text(text)
    assert compare_module.main([str(good), str(bad)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and why in err


def test_the_machines_own_figures_are_shown_but_never_a_regression() -> None:
    def summary(read_gb_s: float) -> dict[str, object]:
        return {"benches": {"machine": {"result": {"read_gb_s": read_gb_s}, "wall_s": 2.0}}}

    (row,) = compare_module.compare(summary(30.0), summary(15.0), 10.0)
    assert row["figure"] == "machine.result.read_gb_s" and row["change_pct"] == -50.0
    assert not row["regressed"] and row["better"] == "—"


def test_a_drop_a_growth_and_violations_are_costs_whatever_else_their_name_says() -> None:
    for leaf in ("step_rate_drop", "rss_growth", "invariant_violations"):
        assert compare_module.direction(f"x.result.{leaf}") == -1, leaf
    assert compare_module.direction("service.result.requests_per_s") == 1

"""Working orders by side in a run (docs/risk.md, "Working orders"): with latency and a thin
participation cap, random flippers stay within ``max_position_lots`` from schema 14 on. The
runs of schema 13 netted working orders, so an order approved against a working one of the
other side filled past the limit when that one failed: they replay as they were."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from recorded_runs import flippers_config, run_as

from scarline.journal import read_records
from scarline.market.io import write_market
from scarline.market.synthetic import SynthSpec, generate
from scarline.replayer import replay_run


def _flippers_run(tmp_path: Path, schema: int | None = None) -> tuple[Path, int]:
    """A run of random flippers (10 lots, limit 10, latency 1, participation 0.05 %) and the
    largest position its fills ever reached."""
    data = write_market(
        generate(SynthSpec(n_steps=40, n_instruments=1, seed=2)), tmp_path / "m.csv"
    )
    summary = run_as(flippers_config(data), schema, "flips", tmp_path / "runs")
    position = np.zeros(4, np.int64)
    worst = 0
    for record in read_records(summary.run_dir / "wal", kinds=("Fills",)):
        fills = record.data
        for a, side, qty in zip(
            fills.agent.numpy(), fills.side.numpy(), fills.qty.numpy(), strict=True
        ):
            position[a] += int(side) * int(qty)
            worst = max(worst, int(np.abs(position).max()))
    return summary.run_dir, worst


def test_positions_stay_within_the_limit_under_latency_and_a_thin_cap(tmp_path: Path) -> None:
    run_dir, worst = _flippers_run(tmp_path)
    assert worst == 10  # the limit binds, and holds whichever working order fails
    assert replay_run(run_dir).parity


def test_a_schema_13_run_nets_working_orders_and_replays_as_recorded(tmp_path: Path) -> None:
    run_dir, worst = _flippers_run(tmp_path, schema=13)
    assert worst > 10  # what the netting check let through (15 lots here)
    assert replay_run(run_dir).parity

"""A finished run as the service shows it: ``scarline run`` writes ``summary.json`` (its
``--json`` object) last, and the snapshot of the run directory lists every agent from it."""

from __future__ import annotations

import json
from pathlib import Path

from ledger_helpers import tiny_q_run

from scarline.rundir import RunDir
from scarline.service.run_snapshot import snapshot_of_run


def test_a_finished_run_shows_its_agents(tmp_path: Path) -> None:
    run_dir = tiny_q_run(tmp_path, "shown", seed=2)
    summary = json.loads(RunDir(run_dir).summary.read_text())
    assert summary["run_id"] == "shown" and len(summary["agents"]) == 4
    snapshot = snapshot_of_run(run_dir)
    assert snapshot.run_id == "shown" and snapshot.step == summary["steps"] - 1
    assert sorted(a.id for a in snapshot.agents) == [0, 1, 2, 3]
    by_id = {a["id"]: a for a in summary["agents"]}
    assert all(a.equity == by_id[a.id]["final_equity"] for a in snapshot.agents)

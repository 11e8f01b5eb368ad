"""Acceptance: kill -9 ``scarline run`` at 20 seeded random moments. Whatever each kill leaves
either verifies and seals into a run that replays with parity over its sealed prefix, or is
reported as empty (or nothing is left at all). Never a traceback, never a tampering report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from crash_helpers import crash_config
from typer.testing import CliRunner

from scarline.cli import app

runner = CliRunner()
DRIVER = Path(__file__).with_name("kill9_driver.py")
KILLS = 20
SEED = 20_261_123


def _cli(*args: str) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result.exit_code, json.loads(result.stdout)


def _outcome(run_dir: Path) -> str:
    """``absent``, ``empty``, ``finished`` (it had completed), ``sealed`` (a prefix, or a
    whole session whose manifest was lost) or ``sealed-torn`` (a torn last line was cut),
    after checking what each one promises."""
    if not run_dir.exists():
        return "absent"  # killed before the run directory was made
    code, sealed = _cli("wal", "seal", str(run_dir))
    if code == 2:
        assert sealed["status"] == "empty", sealed
        assert not (run_dir / "manifest.json").exists()
        return "empty"
    assert code == 0 and sealed["status"] in ("sealed", "finished"), (run_dir, sealed)
    code, verified = _cli("wal", "verify", str(run_dir))
    assert code == 0 and verified["ok"], verified
    code, replayed = _cli("replay", str(run_dir))
    assert code == 0 and replayed["parity"], (run_dir, replayed)
    if sealed["status"] == "sealed":
        assert replayed["records"] == sealed["records"]
        assert replayed["sealed_prefix"] is not sealed["session_ended"]
        assert replayed["wal_head_replayed"] == sealed["head"]
        return "sealed" if sealed["truncated"] is None else "sealed-torn"
    return "finished"


@pytest.mark.slow
def test_kill9_at_random_moments_leaves_only_sealable_or_empty_runs(tmp_path: Path) -> None:
    # two WAL set-ups, alternating: small segments and frequent batches on the helper
    # thread (kills land in rotations and between syncs), and fsync "never" with one segment
    # (records reach the file only as the 1 MiB buffer fills: a kill loses up to a buffer).
    # A torn last line needs a write cut short, which kill -9 rarely manages (a buffer goes
    # out in one write of whole lines); test_wal_seal.py seals torn lines.
    rotating = crash_config(tmp_path / "a", steps=600, segment_bytes=65_536, fsync_every=64)
    torn = crash_config(tmp_path / "b", steps=600, fsync="never")
    out = tmp_path / "runs"
    driven = subprocess.run(
        [sys.executable, str(DRIVER), str(out), str(SEED), str(KILLS), str(rotating), str(torn)],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    runs = json.loads(driven.stdout)["runs"]
    for k in range(2):
        assert _outcome(out / f"calibration-{k}") == "finished"

    outcomes = {run["run_id"]: _outcome(out / run["run_id"]) for run in runs}
    assert len(outcomes) == KILLS
    assert set(outcomes.values()) <= {"absent", "empty", "sealed", "sealed-torn", "finished"}
    assert sum(o.startswith("sealed") for o in outcomes.values()) >= KILLS // 4, outcomes

"""A bench script's stdout is its one JSON object: scarline's log lines (here an unsigned
run's warning) go to stderr, where they once preceded the JSON on stdout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_soak_prints_one_json_object_and_logs_to_stderr(tmp_path: Path) -> None:
    env = os.environ | {"SCARLINE_KEYS_DIR": str(tmp_path / "no-keys")}  # runs go unsigned
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "soak.py"), "--bars", "120", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout)["bars"] == 120
    assert "run.unsigned" in proc.stderr

"""SIGTERM stops ``scarline run`` the way Ctrl-C (SIGINT) does: one clean stop path that
flushes and closes the WAL, writes no manifest, and leaves a run ``wal seal`` can finish."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest
from crash_helpers import SCARLINE, crash_config
from typer.testing import CliRunner

from scarline.cli import app

runner = CliRunner()


def _default_sigint() -> None:
    """A child started from a shell without job control may inherit SIGINT ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_stop_signal_flushes_the_wal_and_leaves_a_sealable_run(
    tmp_path: Path, sig: signal.Signals
) -> None:
    # fsync "never": records reach the file only as the 1 MiB buffer fills or on close, so
    # a WAL that ends on a whole record after the stop was flushed by the stop path.
    config = crash_config(tmp_path, steps=1500, fsync="never")
    run_dir = tmp_path / "runs" / "stopped"
    args = [*SCARLINE, "run", "-c", str(config), "--out", str(tmp_path / "runs")]
    proc = subprocess.Popen(
        [*args, "--run-id", "stopped"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_sigint,
    )
    segment = run_dir / "wal" / "000000.jsonl"
    deadline = time.monotonic() + 60
    while not (segment.is_file() and segment.stat().st_size > 0):  # stepping: mid-run
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.01)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)

    assert proc.returncode == 130, err  # as a shell reports Ctrl-C; not -15: handled
    assert "Traceback" not in err + out
    assert f"error: interrupted by {sig.name}" in err and "scarline wal seal" in err
    assert not (run_dir / "manifest.json").exists()
    recover = runner.invoke(app, ["wal", "recover", str(run_dir), "--json"])
    assert recover.exit_code == 0 and json.loads(recover.stdout)["recovered"] is False
    assert runner.invoke(app, ["wal", "verify", str(run_dir)]).exit_code == 0

    seal = runner.invoke(app, ["wal", "seal", str(run_dir), "--json"])
    assert seal.exit_code == 0 and json.loads(seal.stdout)["truncated"] is None
    replay = runner.invoke(app, ["replay", str(run_dir), "--json"])
    assert replay.exit_code == 0, replay.output
    assert json.loads(replay.stdout)["sealed_prefix"] is True

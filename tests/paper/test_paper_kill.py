"""`scarline kill RUN_DIR` on a running paper session: flat and halted within one bar, the
record says where the kill came from, and the session replays with parity."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from feed_venue import FakeVenue
from paper_helpers import PaperRunner, ccxt_live, paper_config
from typer.testing import CliRunner

from scarline.cli import app
from scarline.events import Fills, KillSwitch, Orders, SessionEnd
from scarline.journal import read_records
from scarline.replayer import replay, replay_run
from scarline.rundir import RunDir

KILL_AFTER = 15


def test_kill_flattens_and_halts_within_one_bar(
    venue: FakeVenue, run_session: PaperRunner, tmp_path: Path
) -> None:
    run_dir = tmp_path / "runs" / "paper"

    def on_step(t: int) -> None:
        if t == KILL_AFTER:
            result = CliRunner().invoke(app, ["kill", str(run_dir), "--reason", "drill"])
            assert result.exit_code == 0, result.output

    summary = run_session(paper_config(tmp_path, ccxt_live(venue)), max_steps=60, on_step=on_step)
    assert summary.killed_at == KILL_AFTER + 1  # seen at the very next bar
    assert summary.steps == KILL_AFTER + 3  # one more bar to fill the flattening orders
    records = list(read_records(RunDir(run_dir).wal))
    kills = [r.data for r in records if isinstance(r.data, KillSwitch)]
    assert [(k.step, k.source, k.reason) for k in kills] == [(KILL_AFTER + 1, "flag-file", "drill")]
    end = next(r.data for r in records if isinstance(r.data, SessionEnd))
    assert end.reason == "killed"
    # after the kill only reducing orders, filled on the next bar: everyone ends flat
    kernel = replay(run_dir).kernel
    assert not np.any(kernel.accounts.position)
    late_fills = [
        r.data for r in records if isinstance(r.data, Fills) and r.data.step > KILL_AFTER + 2
    ]
    assert not late_fills
    opened_after = [
        r.data for r in records if isinstance(r.data, Orders) and r.data.step > KILL_AFTER + 1
    ]
    assert not opened_after
    assert replay_run(run_dir).parity

"""``scarline paper`` from the command line, on a recorded feed: a session, its resume after
a crash, and the errors a user can make."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from paper_recording import write_paper_config
from typer.testing import CliRunner

from scarline.cli import app
from scarline.config import load_config
from scarline.paper.session import PaperOptions, PaperSession
from scarline.replayer import replay_run
from scarline.rundir import RunDir

runner = CliRunner()


class Crash(Exception):
    """Stands for the process dying mid-session."""


def test_a_crashed_session_resumes_to_its_end_and_replays(tmp_path: Path) -> None:
    config = write_paper_config(tmp_path, bars=30)

    def crash(t: int) -> None:
        if t == 7:
            raise Crash

    session = PaperSession(
        load_config(config), PaperOptions(out_dir=tmp_path / "runs", run_id="p", on_step=crash)
    )
    with pytest.raises(Crash):
        session.run_session()
    run_dir = tmp_path / "runs" / "p"
    assert not RunDir(run_dir).manifest.exists()  # a crash leaves the WAL, no manifest

    result = runner.invoke(app, ["paper", "--resume", str(run_dir), "--max-steps", "20", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["steps"] == 20 and summary["run_id"] == "p"
    assert replay_run(run_dir).parity

    again = runner.invoke(app, ["paper", "--resume", str(run_dir)])
    assert again.exit_code == 2 and "closed" in again.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["paper"], "--config is required"),
        (["paper", "--resume", "no-such-run"], "no-such-run"),
    ],
)
def test_bad_invocations_exit_2_with_a_message(args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and message in result.output
    assert "Traceback" not in result.output


def test_a_config_without_a_live_section_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('name = "x"\n', encoding="utf-8")
    result = runner.invoke(app, ["paper", "-c", str(config), "--out", str(tmp_path)])
    assert result.exit_code != 0 and "[live]" in result.output
    assert not any(tmp_path.iterdir()) or [p.name for p in tmp_path.iterdir()] == ["c.toml"]

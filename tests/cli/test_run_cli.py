"""The run/replay contract as a user meets it on the command line."""

import json
import tomllib
from pathlib import Path

import pytest
import tomli_w
from typer.testing import CliRunner

from scarline.cli import app

runner = CliRunner()
pytestmark = pytest.mark.slow


def _run(tmp_path: Path, *args: str) -> dict:
    result = runner.invoke(app, ["run", "--out", str(tmp_path), "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = _run(tmp_path_factory.mktemp("runs"), "--data", "sp500", "--run-id", "cli-sp500")
    assert {"run_id", "run_dir", "decision_trace_hash", "wal_head"} <= set(out)
    assert out["run_id"] == "cli-sp500"
    return Path(out["run_dir"])


def _copy(src: Path, dst: Path) -> Path:
    import shutil

    shutil.copytree(src, dst)
    return dst


def test_replay_json_reports_parity(run_dir: Path) -> None:
    result = runner.invoke(app, ["replay", str(run_dir), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["parity"] is True
    assert out["original"] == out["replayed"]


def test_one_changed_byte_fails_verify_at_that_record_and_replay_refuses(
    run_dir: Path, tmp_path: Path
) -> None:
    copy = _copy(run_dir, tmp_path / "tampered")
    segment = copy / "wal" / "000000.jsonl"
    lines = segment.read_bytes().split(b"\n")
    target = next(i for i in range(100, len(lines)) if b'"kind":"Bar"' in lines[i])
    line = bytearray(lines[target])
    pos = line.index(b'"close":') + 9
    line[pos] = ord("9") if line[pos] != ord("9") else ord("8")
    lines[target] = bytes(line)
    segment.write_bytes(b"\n".join(lines))

    verify = runner.invoke(app, ["wal", "verify", str(copy)])
    assert verify.exit_code == 1
    assert "000000.jsonl" in verify.output and f"seq {target}" in verify.output

    replay = runner.invoke(app, ["replay", str(copy)])
    assert replay.exit_code == 1
    assert "refusing to replay" in replay.output
    assert "Traceback" not in replay.output


def test_edited_config_snapshot_breaks_parity_with_exit_3(run_dir: Path, tmp_path: Path) -> None:
    copy = _copy(run_dir, tmp_path / "edited")
    cfg = copy / "config.toml"
    raw = tomllib.loads(cfg.read_text())
    raw["agents"][0]["fast"] = [9]
    cfg.write_text(tomli_w.dumps(raw))
    result = runner.invoke(app, ["replay", str(copy), "--json"])
    assert result.exit_code == 3, result.output
    out = json.loads(result.stdout)
    assert out["parity"] is False and out["original"] != out["replayed"]
    assert out["config_matches_manifest"] is False
    assert "config.toml" in result.stderr


def test_bad_config_is_one_clear_line(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[[agents]]\nkind = "sma-crossover"\nfats = [3]\n')
    result = runner.invoke(app, ["run", "--config", str(cfg), "--out", str(tmp_path)])
    assert result.exit_code == 2  # an invalid config file is bad input
    assert "unknown key 'agents.0.sma-crossover.fats'" in result.output
    assert str(cfg) in result.output
    assert "Traceback" not in result.output


def test_human_summary_prints_the_run_directory(tmp_path: Path) -> None:
    cfg = tmp_path / "short.toml"
    cfg.write_text('[data]\nsource = "sp500"\nend = "1999-06-30"\n')
    result = runner.invoke(app, ["run", "--config", str(cfg), "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    assert "run directory:" in result.output
    assert str(tmp_path / "r") in result.output.replace("\n", "")


def test_run_json_lists_agents_with_their_metrics(tmp_path: Path) -> None:
    out = _run(tmp_path, "--data", "sp500", "--run-id", "agents-json")
    (agent,) = out["agents"]
    assert {
        "id",
        "policy",
        "final_equity",
        "return",
        "sharpe",
        "max_drawdown",
        "trades",
        "fees",
    } <= set(agent)
    assert agent["policy"] == "sma(10,30)"
    assert Path(out["report"]).name == "report.html" and Path(out["report"]).exists()


def test_kill_cli_writes_and_clears_the_flag(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    result = runner.invoke(app, ["kill", "--all", "--runs", str(runs), "--reason", "drill"])
    assert result.exit_code == 0, result.output
    assert (runs / "KILL").read_text() == "drill"
    killed = _run(runs, "--data", "sp500", "--run-id", "under-kill")
    assert killed["killed_at"] == 0
    assert runner.invoke(app, ["kill", "--all", "--runs", str(runs), "--clear"]).exit_code == 0
    assert not (runs / "KILL").exists()
    assert runner.invoke(app, ["kill"]).exit_code == 2  # neither RUN_DIR nor --all


def test_a_one_bar_run_with_an_oos_split_closes(tmp_path: Path) -> None:
    """``evaluation.oos_fraction > 0`` on one bar put the split at step 1, past the end: the
    run failed at its close with an internal error and no manifest or report."""
    data = tmp_path / "one.csv"
    data.write_text(
        "timestamp,symbol,open,high,low,close,volume\n2020-01-01,A,100,101,99,100,1000\n",
        encoding="utf-8",
    )
    config = tmp_path / "oos.toml"
    config.write_text(
        '[evaluation]\noos_fraction = 0.5\n[[agents]]\nkind = "random-entry"\ncount = 2\n',
        encoding="utf-8",
    )
    out = _run(tmp_path, "-c", str(config), "--data", str(data), "--run-id", "one-bar")
    run_dir = Path(out["run_dir"])
    assert (run_dir / "manifest.json").is_file() and (run_dir / "report.html").is_file()

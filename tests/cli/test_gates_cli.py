"""``scarline gates`` end to end on a tiny run: files written, manifest bound, report
section, JSON shape, exit codes and error messages."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from ledger_helpers import tiny_q_run
from typer.testing import CliRunner

from scarline.cli import app
from scarline.config import RunConfig
from scarline.market.io import write_market
from scarline.market.synthetic import SynthSpec, generate
from scarline.runner import execute_run

runner = CliRunner()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_q_run(tmp_path_factory.mktemp("gates-cli"), "gates-tiny", seed=3)


def test_gates_writes_report_binds_manifest_and_exits_1_on_skipped(run_dir: Path) -> None:
    result = runner.invoke(app, ["gates", str(run_dir), "--agents", "0,2", "--only", "G1"])
    assert result.exit_code == 1, result.output  # skipped gates never pass
    assert "not the built-in ones" not in result.stderr
    assert "G1 ReplayParity" in result.stdout and "skipped (--only)" in result.stdout
    raw = (run_dir / "gates.json").read_bytes()
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["gate_report_sha256"] == hashlib.sha256(raw).hexdigest()
    report = json.loads(raw)
    assert list(report["agents"]) == ["0", "2"]
    for entry in report["agents"].values():
        assert entry["G1"]["pass"] is True
        assert entry["G2"] == {"skipped": True, "pass": False}
        assert entry["pass"] is False and entry["kind"] == "q-network"
        assert len(entry["policy_hash"]) == 64


def test_gates_json_and_report_section(tmp_path: Path) -> None:
    data = write_market(generate(SynthSpec(n_steps=120, seed=4)), tmp_path / "synth.csv")
    cfg = RunConfig(seed=4, data={"source": str(data)}, agents=[{"kind": "buy-and-hold"}])
    run = execute_run(cfg, run_id="gates-report", out_dir=tmp_path / "runs").run_dir
    assert "<h2>Gates</h2>" not in (run / "report.html").read_text()
    lax = tmp_path / "lax.toml"
    lax.write_text("[G2]\nalpha = 0.5\n")
    only = ["--only", "G0", "--only", "G1"]
    args = ["--json", "--thresholds", str(lax), "--agents", "top:5"]
    result = runner.invoke(app, ["gates", str(run), *only, *args])
    assert result.exit_code == 1
    assert "top:5 asked for more agents than the 1 living ones ranked" in result.stderr
    sha = json.loads(result.stdout)["thresholds_sha256"]
    assert f"these thresholds (sha256 {sha}) are not the built-in ones" in result.stderr
    report = json.loads(result.stdout)
    (agent,) = report["agents"]
    assert report["agents"][agent]["G0"]["pass"] is True
    assert report["agents"][agent]["G0"]["input_unchanged"] is True
    assert report["agents"][agent]["kind"] == "buy-and-hold"
    page = (run / "report.html").read_text()
    assert "<h2>Gates</h2>" in page and "G0 DataTruth" in page and "skipped (--only)" in page


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--agents", "top:0"], "top:K needs K >= 1"),
        (["--agents", "best"], "neither top:K nor an agent id"),
        (["--agents", "999"], "no agent 999"),
        (["--agents", "²"], "neither top:K nor an agent id"),  # was an internal error
        (["--only", "G9"], "unknown gate(s) G9"),
    ],
)
def test_bad_options_exit_2_with_a_message(run_dir: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["gates", str(run_dir), *args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_bad_thresholds_file_names_file_and_key(run_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "gates.toml"
    bad.write_text("[G2]\npermutatons = 5\n")
    result = runner.invoke(app, ["gates", str(run_dir), "--thresholds", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}: unknown key 'G2.permutatons'" in result.stderr


def test_not_a_run_directory(tmp_path: Path) -> None:
    result = runner.invoke(app, ["gates", str(tmp_path)])
    assert result.exit_code == 2
    assert "no manifest.json" in result.stderr


def test_a_run_whose_wal_fails_verification_is_refused_with_exit_2(
    run_dir: Path, tmp_path: Path
) -> None:
    """A tampered WAL cannot be gated: that is bad input (exit 2, the file named), not a
    failed gate (exit 1), and nothing is written."""
    tampered = tmp_path / "tampered"
    shutil.copytree(run_dir, tampered)
    (tampered / "gates.json").unlink(missing_ok=True)
    segment = tampered / "wal" / "000000.jsonl"
    lines = segment.read_bytes().splitlines(keepends=True)
    lines[1] = lines[1].replace(b'"close":', b'"close":1', 1)  # one bar's close edited
    segment.write_bytes(b"".join(lines))
    result = runner.invoke(app, ["gates", str(tampered), "--only", "G1"])
    assert result.exit_code == 2, result.output
    assert f"refusing to replay {tampered}: WAL check failed" in result.stderr
    assert "hash mismatch" in result.stderr and "Traceback" not in result.output
    assert not (tampered / "gates.json").exists()


def test_a_run_sealed_after_a_crash_over_a_prefix_is_refused(run_dir: Path, tmp_path: Path) -> None:
    """``scarline wal seal`` makes a crashed run's prefix replayable; gating it cut the
    held-out split from the prefix's length, so bars the agents had learned on were judged
    as held out. It is refused as bad input, as the ledger refuses it as evidence."""
    crashed = tmp_path / "crashed"
    crashed.mkdir()
    for name in ("config.toml", "config.json", "session.json"):
        shutil.copy(run_dir / name, crashed / name)
    (crashed / "wal").mkdir()
    lines = (run_dir / "wal" / "000000.jsonl").read_bytes().splitlines(keepends=True)
    (crashed / "wal" / "000000.jsonl").write_bytes(b"".join(lines[: len(lines) * 2 // 3]))
    assert runner.invoke(app, ["wal", "seal", str(crashed)]).exit_code == 0
    result = runner.invoke(app, ["gates", str(crashed), "--only", "G1"])
    assert result.exit_code == 2, result.output
    assert "sealed after a crash over a prefix of the run" in result.stderr
    assert not (crashed / "gates.json").exists()

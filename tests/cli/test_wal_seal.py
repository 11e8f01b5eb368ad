"""``scarline wal seal``: a run that stopped before its manifest is finished from its WAL
alone, and replays with parity over what it sealed; ``wal recover`` cuts only torn lines."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import msgspec
import pytest
from cli_cases import TinyRun, copy
from typer.testing import CliRunner

from scarline.cli import app
from scarline.journal.manifest import RunManifest, read_manifest
from scarline.journal.segments import list_segments

runner = CliRunner()


def _invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result.exit_code, result.stdout, result.stderr


def _crashed(tmp_path: Path, tiny_run: TinyRun) -> Path:
    """The tiny run as a crash after its WAL closed leaves it: no manifest, no session (the
    directory keeps the run's name: the run id a WAL verifies against)."""
    run_dir = Path(shutil.copytree(tiny_run.run_dir, tmp_path / tiny_run.run_dir.name))
    for name in ("manifest.json", "session.json", "gates.json"):
        (run_dir / name).unlink(missing_ok=True)
    return run_dir


def _lines(run_dir: Path) -> tuple[Path, list[bytes]]:
    (segment,) = list_segments(run_dir / "wal")
    return segment, segment.read_bytes().splitlines(keepends=True)


def test_a_run_whose_manifest_was_lost_seals_and_replays_whole(
    tmp_path: Path, tiny_run: TinyRun
) -> None:
    original = read_manifest(tiny_run.run_dir)
    run_dir = _crashed(tmp_path, tiny_run)
    assert _invoke("replay", str(run_dir))[0] == 2  # refused: not a finished run
    code, out, _ = _invoke("wal", "seal", str(run_dir))
    assert code == 0 and "the session had ended" in out
    sealed = read_manifest(run_dir)
    assert sealed.sealed_after_crash is not None and sealed.sealed_after_crash.session_ended
    assert (sealed.wal_head, sealed.wal_records) == (original.wal_head, original.wal_records)
    assert sealed.decision_trace_hash == original.decision_trace_hash
    assert (sealed.steps, sealed.data_hash) == (original.steps, original.data_hash)
    code, out, _ = _invoke("replay", str(run_dir), "--json")
    result = json.loads(out)
    assert code == 0 and result["parity"] and not result["sealed_prefix"]
    assert result["records"] == original.wal_records and result["extra_records"] == 0


def test_a_run_killed_mid_step_seals_its_prefix_cutting_only_the_torn_line(
    tmp_path: Path, tiny_run: TinyRun
) -> None:
    run_dir = _crashed(tmp_path, tiny_run)
    segment, lines = _lines(run_dir)
    keep = len(lines) // 2
    segment.write_bytes(b"".join(lines[:keep]) + lines[keep][: len(lines[keep]) // 2])
    assert _invoke("wal", "verify", str(run_dir))[0] == 1  # torn, before sealing

    code, out, _ = _invoke("wal", "seal", str(run_dir), "--json")
    report = json.loads(out)
    assert code == 0 and report["status"] == "sealed" and not report["session_ended"]
    assert report["records"] == keep and report["truncated"]["seq"] == keep
    assert _invoke("wal", "verify", str(run_dir))[0] == 0
    crash = read_manifest(run_dir).sealed_after_crash
    assert crash is not None and crash.truncated_seq == keep

    code, out, _ = _invoke("replay", str(run_dir))
    assert code == 0, out
    assert "parity  steps=" in out and f"the sealed prefix of {keep} records equal" in out
    code, out, _ = _invoke("wal", "seal", str(run_dir))
    assert code == 0 and "nothing to seal" in out  # sealing twice changes nothing


def test_seal_refuses_a_complete_last_record_that_fails_its_check(
    tmp_path: Path, tiny_run: TinyRun
) -> None:
    run_dir = _crashed(tmp_path, tiny_run)
    segment, lines = _lines(run_dir)
    lines[-1] = lines[-1].replace(b'"kind":"SessionEnd"', b'"kind":"SessionEnd" ', 1)
    segment.write_bytes(b"".join(lines))
    code, _, err = _invoke("wal", "seal", str(run_dir))
    assert code == 1 and f"seq {len(lines) - 1}" in err and "not a torn write" in err
    assert segment.read_bytes() == b"".join(lines) and not (run_dir / "manifest.json").exists()
    code, _, err = _invoke("wal", "recover", str(run_dir))
    assert code == 1 and f"seq {len(lines) - 1}" in err and "nothing was truncated" in err
    assert segment.read_bytes() == b"".join(lines)


def _only_config(run_dir: Path) -> None:
    run_dir.mkdir()
    (run_dir / "config.toml").write_text("seed = 1\n")


def _empty_wal(run_dir: Path) -> None:
    _only_config(run_dir)
    (run_dir / "wal").mkdir()
    (run_dir / "wal" / "000000.jsonl").write_bytes(b"")


def _torn_first_record(run_dir: Path) -> None:
    _empty_wal(run_dir)
    (run_dir / "wal" / "000000.jsonl").write_bytes(b'{"seq":0,"ts":0,"kind":"Sess')


@pytest.mark.parametrize("make", [_only_config, _empty_wal, _torn_first_record])
def test_a_run_that_journaled_nothing_is_reported_empty(
    tmp_path: Path, make: Callable[[Path], None]
) -> None:
    run_dir = tmp_path / "r"
    make(run_dir)
    code, out, err = _invoke("wal", "seal", str(run_dir), "--run-id", "r", "--json")
    assert code == 2 and "empty run, nothing to seal" in err
    assert json.loads(out)["status"] == "empty"
    assert not (run_dir / "manifest.json").exists()


def test_a_wal_with_no_market_step_is_empty(tmp_path: Path, tiny_run: TinyRun) -> None:
    run_dir = _crashed(tmp_path, tiny_run)
    segment, lines = _lines(run_dir)
    segment.write_bytes(lines[0])  # SessionStart only
    code, _, err = _invoke("wal", "seal", str(run_dir))
    assert code == 2 and "no market step" in err


def test_seal_of_a_finished_run_changes_nothing(tmp_path: Path, tiny_run: TinyRun) -> None:
    run_dir = copy(tiny_run.run_dir, tmp_path)
    before = (run_dir / "manifest.json").read_bytes()
    code, out, _ = _invoke("wal", "seal", str(run_dir), "--json")
    assert code == 0 and json.loads(out)["status"] == "finished"
    assert (run_dir / "manifest.json").read_bytes() == before


def test_manifests_written_before_sealing_existed_still_decode(tiny_run: TinyRun) -> None:
    doc = json.loads((tiny_run.run_dir / "manifest.json").read_text())
    doc.pop("sealed_after_crash", None)
    manifest = msgspec.json.decode(json.dumps(doc), type=RunManifest)
    assert manifest.sealed_after_crash is None

"""``scarline rebuild-policy RUN_DIR HASH --out DIR`` as a user meets it: paths or JSON on stdout,
one error line and an exit code for everything that can go wrong."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scarline.cli import app
from scarline.config import RunConfig
from scarline.evolution.vault import Vault
from scarline.runner import execute_run

pytestmark = pytest.mark.slow

runner = CliRunner()


@pytest.fixture(scope="module")
def run(
    tmp_path_factory: pytest.TempPathFactory, small_evolving_config: RunConfig
) -> tuple[Path, str]:
    summary = execute_run(
        small_evolving_config, run_id="evo", out_dir=tmp_path_factory.mktemp("runs")
    )
    best = summary.to_json()["best_policy_hash"]
    assert isinstance(best, str)
    return summary.run_dir, best


def _invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["rebuild-policy", *args])
    return result.exit_code, result.stdout, result.stderr


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("error: ")
    return lines[0]


def test_prints_the_written_paths(run: tuple[Path, str], tmp_path: Path) -> None:
    run_dir, best = run
    out = tmp_path / "policy"
    code, stdout, err = _invoke(str(run_dir), best, "--out", str(out))
    assert (code, err) == (0, "")
    assert stdout.splitlines() == [str(out / "policy.json"), str(out / "weights.npy")]


def test_json_names_the_hash_and_the_files_sha256(run: tuple[Path, str], tmp_path: Path) -> None:
    run_dir, best = run
    code, stdout, _ = _invoke(str(run_dir), best[:8], "-o", str(tmp_path / "a"), "--json")
    assert code == 0
    report = json.loads(stdout)
    assert report["policy_hash"] == best
    assert sorted(report["files"]) == ["policy.json", "weights.npy"]
    for name, digest in report["files"].items():
        assert hashlib.sha256((tmp_path / "a" / name).read_bytes()).hexdigest() == digest
    code, stdout, _ = _invoke(str(run_dir), best, "-o", str(tmp_path / "b"), "--json")
    assert code == 0 and json.loads(stdout) == report  # same bytes on every rebuild


def test_a_tampered_snapshot_exits_1_naming_it(run: tuple[Path, str], tmp_path: Path) -> None:
    run_dir, best = run
    copy = tmp_path / "run"
    shutil.copytree(run_dir / "vault", copy / "vault")
    entry = Vault(copy / "vault").entry(best)
    assert entry is not None
    pack = copy / "vault" / entry.pack
    data = bytearray(pack.read_bytes())
    data[entry.offset + entry.length // 2] ^= 0x10
    pack.write_bytes(bytes(data))
    code, stdout, err = _invoke(str(copy), best, "--out", str(tmp_path / "out"))
    assert code == 1 and stdout == ""
    assert f"{pack}[{best}]" in _one_error_line(err) and "sha256 differs" in err
    assert not (tmp_path / "out").exists()


def test_ambiguous_and_unknown_prefixes_exit_2(tmp_path: Path) -> None:
    hashes = [f"cafef00d{i:x}" + "1" * 55 for i in range(6)]
    Vault(tmp_path / "vault").put_many([(b"x", h) for h in hashes])
    code, _, err = _invoke(str(tmp_path), "cafef00d", "--out", str(tmp_path / "out"))
    line = _one_error_line(err)
    assert code == 2 and "ambiguous (6 matches: " in line and "and 1 more" in line
    assert all(h in line for h in hashes[:5]) and hashes[5] not in line
    code, _, err = _invoke(str(tmp_path), "abcdef12", "--out", str(tmp_path / "out"))
    assert code == 2 and "no policy hash starts with abcdef12" in _one_error_line(err)
    code, _, err = _invoke(str(tmp_path), "cafe", "--out", str(tmp_path / "out"))
    assert code == 2 and "at least 8 hex digits" in _one_error_line(err)


def test_missing_run_dir_and_missing_vault_exit_2(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-run"
    code, _, err = _invoke(str(missing), "deadbeef", "--out", str(tmp_path / "out"))
    assert code == 2 and _one_error_line(err) == f"error: {missing}: no such run directory"
    code, _, err = _invoke(str(tmp_path), "deadbeef", "--out", str(tmp_path / "out"))
    line = _one_error_line(err)
    assert code == 2 and "no genome vault in this run" in line
    assert "[agents.evolution]" in line  # brackets printed, not eaten as markup


def test_a_non_empty_out_dir_needs_force(run: tuple[Path, str], tmp_path: Path) -> None:
    run_dir, best = run
    (tmp_path / "keep.txt").write_text("x")
    code, stdout, err = _invoke(str(run_dir), best, "--out", str(tmp_path))
    assert code == 1 and stdout == "" and "not empty" in _one_error_line(err)
    code, stdout, err = _invoke(str(run_dir), best, "--out", str(tmp_path), "--force")
    assert (code, err) == (0, "") and len(stdout.splitlines()) == 2

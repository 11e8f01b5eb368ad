"""``scarline diary RUN_DIR`` as a user meets it: SQL answers, JSON, limits, rebuilds, and
one-line errors with exit codes instead of tracebacks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scarline.cli import app
from scarline.rundir import RunDir

runner = CliRunner()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short real run through ``scarline run`` (SMA baseline on sp500, three months)."""
    root = tmp_path_factory.mktemp("runs")
    config = root / "short.toml"
    config.write_text('report = false\n[data]\nend = "1999-03-31"\n', encoding="utf-8")
    args = ["run", "-c", str(config), "--out", str(root), "--run-id", "short", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["attribution_orders"] >= 0 and "attribution_coverage" in out
    return Path(out["run_dir"])


def _invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["diary", *args])
    return result.exit_code, result.stdout, result.stderr


def test_sql_json_answers(run_dir: Path) -> None:
    code, out, err = _invoke(str(run_dir), "--sql", "SELECT count(*) AS n FROM diary", "--json")
    assert (code, err) == (0, "")
    rows = json.loads(out)
    assert len(rows) == 1 and set(rows[0]) == {"n"} and rows[0]["n"] > 0
    code, out, _ = _invoke(
        str(run_dir),
        "--sql",
        "SELECT step, ts, instrument, reason, outcome_return FROM diary ORDER BY step",
        "--json",
        "--limit",
        "3",
    )
    got = json.loads(out)
    assert code == 0 and len(got) == 3
    assert {r["reason"] for r in got} == {"rule"}  # the SMA baseline
    assert isinstance(got[0]["ts"], str) and got[0]["instrument"]


def test_default_is_a_summary_table(run_dir: Path) -> None:
    code, out, err = _invoke(str(run_dir))
    assert (code, err) == (0, "")
    assert "reason" in out and "regime" in out and "rule" in out and "orders" in out


def test_limit_says_what_it_cut(run_dir: Path) -> None:
    code, out, _ = _invoke(str(run_dir), "--sql", "SELECT step FROM diary", "--limit", "2")
    assert code == 0 and "first 2 rows" in out


def test_rebuild_recreates_the_same_diary(run_dir: Path, tmp_path: Path) -> None:
    path = run_dir / RunDir.DIARY
    before = path.read_bytes()
    path.unlink()
    code, _, err = _invoke(str(run_dir))
    assert code == 2 and err.startswith("error:") and "--rebuild" in err
    code, out, err = _invoke(str(run_dir), "--rebuild", "--json")
    assert (code, err) == (0, "")
    info = json.loads(out)
    assert info["matches_manifest"] is True and info["rows"] > 0
    assert path.read_bytes() == before
    code, out, err = _invoke(str(run_dir), "--rebuild")
    assert code == 0 and "Attribution coverage:" in out


def test_errors_are_one_line_without_traceback(tmp_path: Path, run_dir: Path) -> None:
    code, out, err = _invoke(str(tmp_path / "missing"))
    assert code == 2 and out == "" and "no such run directory" in err
    code, out, err = _invoke(str(run_dir), "--sql", "SELECT nope FROM diary")
    assert code == 2 and out == ""  # bad SQL is bad input
    assert err.startswith("error: SQL: Binder Error") and "Traceback" not in err
    code, _, err = _invoke(str(tmp_path / "missing"), "--rebuild")
    assert code == 2 and "no such run directory" in err


def _tamper(run_dir: Path, seq: int) -> None:
    """Move record ``seq`` one nanosecond later in place, without re-chaining the WAL (the
    short run journals its fills inside QuietRun records, so no Fills qty to multiply)."""
    path = run_dir / "wal" / "000000.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    doc = json.loads(lines[seq])
    assert doc["seq"] == seq
    lines[seq] = lines[seq].replace(b'"ts":%d,' % doc["ts"], b'"ts":%d,' % (doc["ts"] + 1), 1)
    path.write_bytes(b"".join(lines))


def test_rebuild_refuses_a_wal_that_fails_verification(run_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "tampered"
    shutil.copytree(run_dir, copy)
    _tamper(copy, seq=2)
    before = (copy / RunDir.DIARY).read_bytes()
    code, out, err = _invoke(str(copy), "--rebuild")
    assert code == 1 and out == "" and "Traceback" not in err
    assert (
        err.startswith("error: refusing to rebuild the diary")
        and "segment 000000.jsonl, seq 2" in err
    )
    assert "hash mismatch" in err and len(err.strip().splitlines()) == 1
    assert (copy / RunDir.DIARY).read_bytes() == before
    assert not list(copy.glob("*.tmp"))


def test_rebuild_refuses_a_wal_cut_short_of_the_manifest_head(
    run_dir: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "cut"
    shutil.copytree(run_dir, copy)
    segment = sorted((copy / "wal").glob("*.jsonl"))[-1]
    lines = segment.read_bytes().splitlines(keepends=True)
    segment.write_bytes(b"".join(lines[:-1]))  # intact chain, but not the bound head
    before = (copy / RunDir.DIARY).read_bytes()
    code, _, err = _invoke(str(copy), "--rebuild", "--json")
    assert code == 1 and "does not match manifest" in err
    assert (copy / RunDir.DIARY).read_bytes() == before


def test_column_aliases_that_look_like_markup_are_text(run_dir: Path) -> None:
    code, out, err = _invoke(str(run_dir), "--sql", 'SELECT 1 AS "[/x]", 2 AS "[red]hi"')
    assert code == 0, err
    assert "[/x]" in out and "[red]hi" in out


def test_a_horizon_past_int32_is_a_usage_error(run_dir: Path, tmp_path: Path) -> None:
    """``--rebuild --horizon 10**15`` was an internal error (the column is int32)."""
    copy = Path(shutil.copytree(run_dir, tmp_path / run_dir.name))
    before = RunDir(copy).diary.read_bytes()
    code, _, err = _invoke(str(copy), "--rebuild", "--horizon", str(10**15))
    assert code == 2 and "--horizon" in err and "Traceback" not in err
    assert RunDir(copy).diary.read_bytes() == before

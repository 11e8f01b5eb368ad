"""``scarline trades`` and ``scarline stats`` print the run's files: the same rows and figures
the Python API reads, and a clear exit 2 on bad input."""

from __future__ import annotations

import json
import math
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from cli_cases import TinyRun
from typer.testing import CliRunner

import scarline as sl
from scarline.cli import app

runner = CliRunner()


def test_stats_json_is_the_apis_stats(tiny_run: TinyRun) -> None:
    result = runner.invoke(app, ["stats", str(tiny_run.run_dir), "--json", "--top", "100"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    expected = sl.load_run(tiny_run.run_dir).stats
    assert len(doc["agents"]) == len(expected)
    sharpes = [a["sharpe"] for a in doc["agents"] if a["sharpe"] is not None]
    assert sharpes == sorted(sharpes, reverse=True)  # best first
    for row in doc["agents"]:
        want = expected.loc[row["agent"], "cagr"]
        assert (row["cagr"] is None and math.isnan(want)) or row["cagr"] == want


def test_trades_filter_and_count(tiny_run: TinyRun) -> None:
    trades = sl.load_run(tiny_run.run_dir).trades
    agent = int(trades["agent"].iloc[0])
    result = runner.invoke(app, ["trades", str(tiny_run.run_dir), "-a", str(agent), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["trades"] == int((trades["agent"] == agent).sum())
    assert all(row["agent"] == agent for row in doc["rows"])


def test_bad_input_is_exit_2(tiny_run: TinyRun, tmp_path: Path) -> None:
    bad_sort = runner.invoke(app, ["stats", str(tiny_run.run_dir), "--sort", "nope"])
    assert bad_sort.exit_code == 2 and "no such column" in bad_sort.stderr
    missing = runner.invoke(app, ["trades", str(tmp_path)])
    assert missing.exit_code == 2 and "Traceback" not in missing.stderr


def _copy(tiny_run: TinyRun, tmp_path: Path) -> Path:
    """Only the files ``stats`` and ``trades`` read, copied to spoil one of them."""
    run = tmp_path / "run"
    run.mkdir()
    for name in (
        "manifest.json",
        "summary.json",
        "session.json",
        "equity.parquet",
        "trades.parquet",
    ):
        shutil.copy(tiny_run.run_dir / name, run / name)
    manifest = json.loads((run / "manifest.json").read_text())
    manifest.pop("artifacts")  # the readers' own checks: no sha256 binds the files here
    (run / "manifest.json").write_text(json.dumps(manifest))
    return run


def _wrong_columns(path: Path) -> None:
    pq.write_table(pa.table({"x": [1, 2]}), path)


@pytest.mark.parametrize("command", ["stats", "trades"])
@pytest.mark.parametrize(
    ("name", "spoil", "says"),
    [
        ("trades.parquet", lambda p: p.write_bytes(os.urandom(4096)), "cannot read the trades"),
        ("trades.parquet", _wrong_columns, "not a trades table: no column 'agent'"),
        ("equity.parquet", lambda p: p.write_bytes(os.urandom(4096)), "cannot read the equity"),
    ],
    ids=["garbage-trades", "foreign-trades", "garbage-equity"],
)
def test_a_spoiled_results_file_is_exit_2_naming_it(
    tiny_run: TinyRun,
    tmp_path: Path,
    command: str,
    name: str,
    spoil: Callable[[Path], object],
    says: str,
) -> None:
    run = _copy(tiny_run, tmp_path)
    spoil(run / name)
    result = runner.invoke(app, [command, str(run)])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: {run / name}: ") and says in result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("summary.json", b'{"agents": [{"x": 1}]}', "'agents' must be a list of objects"),
        ("summary.json", b'{"agents": "abc"}', "'agents' must be a list of objects"),
        ("summary.json", b'{"agents": [1]}', "'agents' must be a list of objects"),
        ("summary.json", b"\xff{}", "cannot be read"),
        ("manifest.json", b"\xff{}", "cannot be read"),
        ("manifest.json", b"[" * 100_000 + b"]" * 100_000, "cannot be read (maximum recursion"),
    ],
    ids=["agent-no-id", "agents-str", "agent-int", "summary-not-utf8", "manifest-not-utf8", "deep"],
)
@pytest.mark.parametrize("command", ["stats", "trades"])
def test_a_damaged_summary_or_manifest_is_exit_2_naming_it(
    tiny_run: TinyRun, tmp_path: Path, command: str, name: str, content: bytes, says: str
) -> None:
    """summary.json is not bound by the manifest (anyone may edit it); an edit, or a
    manifest that is not UTF-8 or nests thousands deep, was a KeyError, AttributeError,
    UnicodeDecodeError or RecursionError: an internal error."""
    run = _copy(tiny_run, tmp_path)
    (run / name).write_bytes(content)
    result = runner.invoke(app, [command, str(run)])
    if command == "trades" and "'agents'" in says:  # trades reads no agent list
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: {run / name}: ") and says in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("name", ["equity.parquet", "trades.parquet"])
def test_a_results_file_the_manifest_does_not_bind_is_refused(
    tiny_run: TinyRun, tmp_path: Path, name: str
) -> None:
    """An edited file that still reads (another run's, or figures changed and written
    back) is not the run's evidence: its sha256 is not the one the manifest binds."""
    run = tmp_path / "run"
    shutil.copytree(tiny_run.run_dir, run)
    assert runner.invoke(app, ["stats", str(run)]).exit_code == 0
    table = pq.read_table(run / name)
    pq.write_table(table, run / name, compression="gzip")  # the same values, other bytes
    result = runner.invoke(app, ["stats", str(run)])
    assert result.exit_code == 2 and f"{run / name}: not the file the run's manifest binds" in (
        result.stderr
    )


def test_labels_that_look_like_markup_are_printed_as_they_are(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A symbol or strategy label such as ``[/x]`` is data: rich read it as a closing tag
    and ``scarline stats``/``trades`` ended in an internal error (MarkupError)."""
    from scarline.cli.results import _table

    rows = [{"agent": 0, "policy": "Evil(tag=[/x])", "instrument": "[red]X", "return": 0.1}]
    _table(rows, ["agent", "policy", "instrument", "return"], "labels")
    out = capsys.readouterr().out
    assert "[/x]" in out and "[red]X" in out


def test_an_edited_session_json_cannot_reannualize_the_stats(
    tiny_run: TinyRun, tmp_path: Path
) -> None:
    """session.json's calendar and frequency say how Sharpe is annualized: the manifest binds
    it like the other artifacts, so ``"calendar": "24/7"`` written in later is refused, not a
    Sharpe √(365/252) times larger."""
    run = tmp_path / "run"
    shutil.copytree(tiny_run.run_dir, run)
    assert "session.json" in json.loads((run / "manifest.json").read_text())["artifacts"]
    assert runner.invoke(app, ["stats", str(run)]).exit_code == 0
    session = json.loads((run / "session.json").read_text())
    (run / "session.json").write_text(json.dumps(session | {"calendar": "24/7"}))
    result = runner.invoke(app, ["stats", str(run)])
    assert result.exit_code == 2, result.output
    assert f"{run / 'session.json'}: not the file the run's manifest binds" in result.stderr


def test_a_trades_return_pct_is_printed_as_the_percent_it_is(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``return_pct`` is 100 × pnl / entry notional already: read as a fraction, a 0.45 %
    trade printed as 45.0%."""
    from rich.console import Console

    from scarline.cli import results

    console = Console(record=True, width=120, color_system=None)
    monkeypatch.setattr(results, "console", console)
    results._table([{"return_pct": 0.45, "return": 0.0123}], ["return_pct", "return"], "t")
    text = console.export_text()
    assert "0.4500" in text and "1.2%" in text and "45.0%" not in text


def test_a_turnover_without_capital_is_shown_undefined_not_as_zero(
    tiny_run: TinyRun, tmp_path: Path
) -> None:
    """An agent whose mean equity is at or below 0 has no turnover: summary.json of a run
    written before said 0 ("did not trade"); stats shows it as the other undefined figures,
    "—" in the table and null with --json, and keeps the others' turnover as recorded."""
    run = _copy(tiny_run, tmp_path)
    table = pq.read_table(run / "equity.parquet")
    ruined = table.column_names[1]  # the first agent column (after "ts")
    negative = pa.array([-1000.0] * table.num_rows)
    table = table.set_column(1, ruined, negative)
    pq.write_table(table, run / "equity.parquet")
    summary = json.loads((run / "summary.json").read_text())
    for row in summary["agents"]:
        row["turnover"] = 0.0 if row["id"] == int(ruined) else 1.25
    (run / "summary.json").write_text(json.dumps(summary))
    result = runner.invoke(app, ["stats", str(run), "--json", "--top", "100"])
    assert result.exit_code == 0, result.output
    turnover = {row["agent"]: row["turnover"] for row in json.loads(result.stdout)["agents"]}
    assert turnover.pop(int(ruined)) is None and set(turnover.values()) == {1.25}
    shown = runner.invoke(app, ["stats", str(run), "--sort", "turnover", "--top", "100"])
    assert shown.exit_code == 0, shown.output
    (line,) = [r for r in shown.stdout.splitlines() if r.startswith(f"│ {int(ruined):>5} ")]
    assert line.rstrip(" │").split("│")[-2].strip() == "—"  # turnover, before fees
    assert "nan" not in shown.stdout.lower()

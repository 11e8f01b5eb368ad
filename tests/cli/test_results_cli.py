"""``scarline trades`` and ``scarline stats`` print the run's files: the same rows and figures
the Python API reads, and a clear exit 2 on bad input."""

from __future__ import annotations

import json
import math
from pathlib import Path

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

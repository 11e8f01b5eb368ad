"""``scarline data`` as a user meets it: list, check (exit codes, one-line errors), synth."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from scarline.cli import app
from scarline.market.io import load_market
from scarline.market.synthetic import SynthSpec, generate

runner = CliRunner()
BAD = """timestamp,open,high,low,close,volume
2020-01-01,10,11,9,10.5,100
2020-01-02,10.5,11,10,10.8,100
2020-01-04,10.8,11,10,10.9,100
2020-01-03,10.9,11,10,10.7,100
2020-01-05,10.7,11,10,nan,100
2020-01-06,10.7,9,10,10.6,100
"""


def test_list_shows_the_shipped_datasets() -> None:
    result = runner.invoke(app, ["data", "list"])
    assert result.exit_code == 0, result.output
    for name in ("sp500", "nasdaq", "sp500-20", "5031", "8313", "1999-01-04"):
        assert name in result.stdout
    rows = json.loads(runner.invoke(app, ["data", "list", "--json"]).stdout)
    by_name = {r["name"]: r for r in rows}
    assert by_name["sp500-20"]["symbols"] == 20 and by_name["nasdaq"]["rows"] == 5031


def test_check_reports_every_error_with_its_row_and_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(BAD)
    result = runner.invoke(app, ["data", "check", str(path)])
    assert result.exit_code == 1
    lines = [ln for ln in result.stdout.splitlines() if ln.startswith("error")]
    assert len(lines) == 3
    assert "out_of_order" in lines[0] and "row 4" in lines[0] and "line 5" in lines[0]
    assert "missing_value" in lines[1] and "row 5" in lines[1] and "close" in lines[1]
    assert "ohlc_inconsistent" in lines[2] and "row 6" in lines[2]
    assert "3 errors" in result.stdout and "FAILED" in result.stdout
    report = json.loads(runner.invoke(app, ["data", "check", str(path), "--json"]).stdout)
    assert report["ok"] is False
    assert [(f["check"], f["row"]) for f in report["findings"]] == [
        ("out_of_order", 4),
        ("missing_value", 5),
        ("ohlc_inconsistent", 6),
    ]


def test_text_in_a_price_column_is_one_error_line_without_traceback(tmp_path: Path) -> None:
    path = tmp_path / "prices.csv"
    body = "".join(f"2020-01-0{d},{d}.25\n" for d in range(1, 6))
    path.write_text("timestamp,close\n" + body + "2020-01-06,abc\n")
    result = runner.invoke(app, ["data", "check", str(path)])
    assert result.exit_code == 2  # a file that does not parse is bad input, not a failed check
    assert "Traceback" not in result.output
    assert result.output.strip().splitlines() == [
        f"error: {path}: line 7, column 'close': cannot parse 'abc' as a number"
    ]


def test_check_passes_with_warnings_on_a_real_dataset() -> None:
    result = runner.invoke(app, ["data", "check", "sp500"])
    assert result.exit_code == 0, result.output
    assert "warning" in result.stdout and "0 errors" in result.stdout and "OK" in result.stdout


def test_unknown_source_is_one_error_line() -> None:
    result = runner.invoke(app, ["data", "check", "nope"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.output.startswith("error: 'nope' is neither a dataset (sp500")


def test_synth_writes_a_file_that_loads_back_as_the_same_market(tmp_path: Path) -> None:
    out = tmp_path / "s.parquet"
    args = [
        "data",
        "synth",
        "--out",
        str(out),
        "--steps",
        "250",
        "--instruments",
        "2",
        "--seed",
        "4",
        "--quotes",
        "--planted-ic",
        "0.1",
        "--labels",
        "--json",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["rows"] == 250 and summary["exog"] == ["signal", "regime"]
    expected = generate(
        SynthSpec(n_steps=250, n_instruments=2, seed=4, quotes=True, planted_ic=0.1, labels=True)
    )
    loaded = load_market(out)
    assert loaded.content_hash() == expected.content_hash() == summary["data_hash"]
    assert runner.invoke(app, ["data", "check", str(out)]).exit_code == 0


def test_synth_csv_random_walk_minute_bars(tmp_path: Path) -> None:
    out = tmp_path / "rw.csv"
    result = runner.invoke(
        app,
        ["data", "synth", "--out", str(out), "--steps", "100", "--freq", "1min", "--random-walk"],
    )
    assert result.exit_code == 0, result.output
    assert f"wrote {out}: 100 bars x 1 instruments (1min, seed 0)" in result.stdout
    market = load_market(out)
    assert market.frequency == "1min" and market.n_steps == 100
    assert np.all(np.diff(market.timestamps) == 60 * 10**9)


def test_synth_rejects_a_bad_spec_in_one_line(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["data", "synth", "--out", str(tmp_path / "x.csv"), "--planted-ic", "2"]
    )
    assert result.exit_code == 2
    assert result.output.strip() == "error: synthetic spec: planted_ic must be in (-1, 1)"


def test_check_states_the_detected_epoch_unit_of_a_ccxt_csv(tmp_path: Path) -> None:
    path = tmp_path / "ohlcv.csv"
    ms = [1_704_067_200_000 + k * 3_600_000 for k in range(30)]
    path.write_text(
        "timestamp,open,high,low,close,volume\n"
        + "".join(f"{t},42000.5,42010,41990,42001.25,1.5\n" for t in ms)
    )
    result = runner.invoke(app, ["data", "check", str(path)])
    assert result.exit_code == 0, result.output
    assert "format: csv" in result.stdout
    assert "timestamps: epoch milliseconds (column timestamp)" in result.stdout
    report = json.loads(runner.invoke(app, ["data", "check", str(path), "--json"]).stdout)
    assert report["detected"]["timestamps"] == "epoch milliseconds"
    assert report["detected"]["time_column"] == "timestamp"
    bad = tmp_path / "bad.csv"
    bad.write_text("time,close\n1704067200000,1.5\n1704067200,1.6\n")
    result = runner.invoke(app, ["data", "check", str(bad)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.output.startswith(f"error: {bad}: line 3, column 'time': ambiguous epoch unit")


def test_check_and_run_a_freqtrade_feather_file(tmp_path: Path) -> None:
    n = 40
    close = 42000 + np.arange(n) * 3.5 + (np.arange(n) % 5) * 20.0
    frame = pd.DataFrame(
        {
            "date": pd.date_range("2024-01-01", periods=n, freq="1h", tz="UTC"),
            "open": close,
            "high": close + 25,
            "low": close - 25,
            "close": close,
            "volume": np.full(n, 2.5),
        }
    )
    path = tmp_path / "BTC_USDT-1h.feather"
    frame.to_feather(path)
    result = runner.invoke(app, ["data", "check", str(path)])
    assert result.exit_code == 0, result.output
    assert "format: feather" in result.stdout
    assert "timestamps: UTC datetimes (column date)" in result.stdout
    assert "symbol: BTC/USDT (from the Freqtrade file name BTC_USDT-1h.feather" in result.stdout
    detected = json.loads(runner.invoke(app, ["data", "check", str(path), "--json"]).stdout)[
        "detected"
    ]
    assert detected["symbol"] == "BTC/USDT" and detected["format"] == "feather"
    config = tmp_path / "run.toml"
    config.write_text(
        "report = false\n[data]\n"
        f'source = "{path}"\ncalendar = "24/7"\nlot_sizes = {{ "BTC/USDT" = "0.001" }}\n'
        '[[agents]]\nkind = "buy-and-hold"\n',
        encoding="utf-8",
    )
    out = tmp_path / "runs"
    result = runner.invoke(app, ["run", "-c", str(config), "--out", str(out), "--run-id", "ft"])
    assert result.exit_code == 0, result.output
    assert (out / "ft" / "wal").is_dir()


def test_check_options_are_held_to_the_bounds_a_run_config_has(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("timestamp,close\n2020-01-01,1.5\n2020-01-02,1.6\n")
    cases = [  # nan once turned the gap check off; a tick finer than cash was accepted
        (["--gap-factor", "nan"], "error: --gap-factor: must be a number above 1 and at most"),
        (["--gap-factor", "1"], "error: --gap-factor: must be a number above 1 and at most"),
        (["--outlier-k", "-1"], "error: --outlier-k: must be a number above 0 and at most"),
        (["--stale-run", "1"], "error: --stale-run: must be at least 2 and at most"),
        (["--limit", "-1"], "error: --limit: must be at least 0, got -1"),
        (["--tick-size", "0.000000001"], "error: --tick-size: tick size '0.000000001' is finer"),
    ]
    for extra, message in cases:
        result = runner.invoke(app, ["data", "check", str(path), *extra])
        assert result.exit_code == 2, result.output
        assert result.output.startswith(message), result.output
    assert runner.invoke(app, ["data", "check", str(path), "--tick-size", "0.05"]).exit_code == 0


def test_check_states_the_columns_it_ignored(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"  # one typo in 'signal' drops the whole feature: say so
    path.write_text("timestamp,close,signal,note\n2020-01-01,1.5,0.5,a\n2020-01-02,1.6,abc,b\n")
    result = runner.invoke(app, ["data", "check", str(path)])
    assert result.exit_code == 0, result.output
    assert "ignored columns: signal, note (not numeric in every row)" in result.output
    as_json = runner.invoke(app, ["data", "check", str(path), "--json"])
    assert json.loads(as_json.output)["detected"]["ignored_columns"] == "signal,note"


def test_check_and_the_run_config_share_the_threshold_bounds() -> None:
    from pydantic import ValidationError

    from scarline.config import G0Settings
    from scarline.market.checks import threshold_problem

    for name, values in {
        "gap_factor": [1.0, 1.0001, 1e6, 1.1e6, float("nan"), float("inf")],
        "outlier_k": [0.0, 1e-9, 1e6, 2e6, float("nan")],
        "stale_run": [1, 2, 10**9, 10**9 + 1],
    }.items():
        for value in values:
            try:
                G0Settings.model_validate({name: value})
                valid = True
            except ValidationError:
                valid = False
            assert (threshold_problem(name, value) is None) == valid, (name, value)

"""G0 DataTruth: every finding points at the source row, errors fail, warnings inform."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from scarline.errors import DataError
from scarline.market.checks import G0Thresholds, check_market, check_market_source
from scarline.market.synthetic import SynthSpec, generate

Write = Callable[[str, str], Path]
HEADER = "timestamp,open,high,low,close,volume\n"


def _days(closes: list[float], start_day: int = 1) -> str:
    """Consistent daily OHLC rows (open = high = low = close) from 2020-01-01 on."""
    rows = []
    for k, c in enumerate(closes):
        day = np.datetime64("2020-01-01") + (start_day - 1 + k)
        rows.append(f"{day},{c:.2f},{c:.2f},{c:.2f},{c:.2f},100\n")
    return HEADER + "".join(rows)


def _by_check(report) -> dict[str, list]:  # type: ignore[no-untyped-def]
    out: dict[str, list] = {}
    for f in report.findings:
        out.setdefault(f.check, []).append(f)
    return out


def test_out_of_order_nan_and_high_below_low_are_errors_at_their_rows(write_text: Write) -> None:
    body = HEADER + (
        "2020-01-01,10,11,9,10.5,100\n"
        "2020-01-02,10.5,11,10,10.8,100\n"
        "2020-01-04,10.8,11,10,10.9,100\n"
        "2020-01-03,10.9,11,10,10.7,100\n"
        "2020-01-05,10.7,11,10,nan,100\n"
        "2020-01-06,10.7,9,10,10.6,100\n"
        "2020-01-07,10.6,11,10,10.6,100\n"
    )
    report = check_market_source(write_text("bad.csv", body))
    assert not report.ok and report.rows == 7 and report.symbols == 1
    got = [(f.severity, f.check, f.row, f.column) for f in report.findings]
    assert got == [
        ("error", "out_of_order", 4, "timestamp"),
        ("error", "missing_value", 5, "close"),
        ("error", "ohlc_inconsistent", 6, "high"),
    ]
    assert report.findings[0].message.startswith("line 5: timestamp 2020-01-03 is earlier")
    assert report.findings[1].message == "line 6: NaN value in 'close'"
    assert report.findings[2].message == "line 7: high 9.0 is below low 10.0"


def test_duplicates_non_positive_prices_and_ohlc_bounds(write_text: Write) -> None:
    body = HEADER + (
        "2020-01-01,1.00,1.10,0.90,1.00,5\n"
        "2020-01-01,1.00,1.10,0.90,1.00,5\n"
        "2020-01-02,1.00,1.10,1.05,1.02,5\n"
        "2020-01-03,1.02,1.01,0.95,1.00,5\n"
        "2020-01-04,0.00,1.10,0.00,1.00,-5\n"
        "2020-01-05,1.00,1.10,0.90,,5\n"
    )
    checks = {
        (f.check, f.row, f.column) for f in check_market_source(write_text("d.csv", body)).findings
    }
    assert checks == {
        ("duplicate_timestamp", 2, "timestamp"),
        ("ohlc_inconsistent", 3, "low"),
        ("ohlc_inconsistent", 4, "high"),
        ("non_positive_price", 5, "open"),
        ("non_positive_price", 5, "low"),
        ("negative_size", 5, "volume"),
        ("missing_value", 6, "close"),
    }


def test_ordering_is_per_symbol(write_text: Write) -> None:
    body = (
        "timestamp,symbol,close\n2020-01-01,A,1\n2020-01-01,B,2\n2020-01-02,A,1\n"
        "2020-01-02,B,2\n2020-01-01,B,2\n2020-01-03,A,1\n"
    )
    report = check_market_source(write_text("s.csv", body))
    assert [(f.check, f.row, f.symbol) for f in report.errors] == [("duplicate_timestamp", 5, "B")]


def test_gap_outlier_and_stale_runs_are_warnings_only(write_text: Write) -> None:
    rng = np.random.default_rng(np.random.SeedSequence(1))
    closes = list(100 * np.exp(np.cumsum(0.01 * rng.standard_normal(60))))
    closes[40] = closes[39] * 1.6  # one spike; it reverts on the next bar
    closes += [closes[-1]] * 12 + [closes[-1] * 1.001] + [closes[-1]] * 3
    body = _days(closes[:30]) + _days(closes[30:], start_day=40)[len(HEADER) :]
    report = check_market_source(write_text("w.csv", body))
    assert report.ok and not report.errors
    found = _by_check(report)
    assert [f.row for f in found["gap"]] == [31]
    assert [f.row for f in found["outlier"]][:2] == [41, 42]
    assert len(found["stale_close"]) == 1
    stale = found["stale_close"][0]
    assert stale.row == 60 and "unchanged for 13 consecutive bars (rows 60-72)" in stale.message


def test_thresholds_change_what_is_flagged(write_text: Write) -> None:
    path = write_text("t.csv", _days([1.0] * 6))
    assert not check_market_source(path).findings
    tight = check_market_source(path, thresholds=G0Thresholds(stale_run=3))
    assert [(f.check, f.row) for f in tight.findings] == [("stale_close", 1)]


def test_findings_per_check_are_capped_with_a_summary(write_text: Write) -> None:
    body = "timestamp,close\n" + "".join(f"2020-01-{d:02d},\n" for d in range(1, 21))
    report = check_market_source(
        write_text("e.csv", body), thresholds=G0Thresholds(max_per_check=5)
    )
    assert len(report.findings) == 6 and report.findings[-1].row == 6
    assert "and 15 more rows fail missing_value" in report.findings[-1].message


def test_text_in_a_price_column_raises_the_same_one_line_error(write_text: Write) -> None:
    path = write_text("p.csv", "timestamp,close\n2020-01-01,1\n2020-01-02,abc\n")
    with pytest.raises(DataError, match=r"p\.csv: line 3, column 'close': cannot parse 'abc'"):
        check_market_source(path)


@pytest.mark.parametrize("name", ["sp500", "sp500-20", "wti"])
def test_shipped_datasets_have_no_errors(name: str) -> None:
    report = check_market_source(name)
    assert report.ok and report.rows > 5000


def test_dataset_findings_point_at_package_rows() -> None:
    report = check_market_source("sp500")
    gaps = [f for f in report.findings if f.check == "gap"]
    assert [(f.row, f.symbol) for f in gaps] == [(679, "SP500")]  # the 9/11 closure
    assert gaps[0].message.startswith("7d since the previous bar")


def test_in_memory_markets_can_be_checked() -> None:
    market = generate(SynthSpec(n_steps=500, n_instruments=2, seed=3, quotes=True))
    report = check_market(market)
    assert report.ok and report.rows == 1000 and report.symbols == 2
    report_dict = report.to_dict()
    assert report_dict["ok"] is True and report_dict["errors"] == 0


def test_an_infinite_feature_is_a_warning_naming_its_row(write_text: Write) -> None:
    body = "timestamp,close,signal\n2024-01-01,1.5,0.5\n2024-01-02,1.6,inf\n2024-01-03,1.7,-inf\n"
    report = check_market_source(write_text("x.csv", body))
    assert report.ok
    found = _by_check(report)["exog_inf"]
    assert [(f.row, f.column) for f in found] == [(2, "signal"), (3, "signal")]
    assert found[0].message == "line 3: signal is +inf (a run reads it as 0)"

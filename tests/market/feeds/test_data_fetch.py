"""``scarline data fetch`` against a fake binance: resume, dedup, retries, ``data check``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from feed_venue import HOUR, JAN_2024, FakeVenue, Fault, history_venue
from typer.testing import CliRunner

from scarline.cli import app
from scarline.errors import DataError
from scarline.market.feeds.download import fetch_to_file
from scarline.market.feeds.retry import RetryPolicy
from scarline.market.io import load_market

runner = CliRunner()


@pytest.fixture
def venue() -> Iterator[FakeVenue]:
    with history_venue(100) as fake:
        yield fake


def fetch(venue: FakeVenue, out: Path, *extra: str) -> dict:
    args = ["data", "fetch", "--exchange", "binance", "--symbols", "BTC/USDT,ETH/USDT"]
    args += ["--timeframe", "1h", "--since", "2024-01-01", "--out", str(out)]
    result = runner.invoke(app, [*args, "--base-url", venue.url, *extra, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def starts(venue: FakeVenue) -> list[int]:
    return [int(q["startTime"]) for p, q, _ in venue.requests if p == "/api/v3/klines"]


def test_fetch_resumes_after_the_last_bar_and_passes_data_check(
    venue: FakeVenue, tmp_path: Path
) -> None:
    out = tmp_path / "crypto.parquet"
    first = fetch(venue, out, "--until", "2024-01-03")
    assert first["rows"] == 2 * 49 and first["fetched"] == {"BTC/USDT": 49, "ETH/USDT": 49}
    assert first["resumed"] == {"BTC/USDT": None, "ETH/USDT": None}
    assert first["tick_sizes"] == {"BTC/USDT": "0.01", "ETH/USDT": "0.01"}
    assert first["g0_ok"] is True and first["last"] == "2024-01-03T00:00:00Z"

    venue.requests.clear()
    second = fetch(venue, out)
    assert second["resumed"] == {"BTC/USDT": "2024-01-03T00:00:00Z"} | {
        "ETH/USDT": "2024-01-03T00:00:00Z"
    }
    assert second["fetched"] == {"BTC/USDT": 51, "ETH/USDT": 51} and second["rows"] == 200
    assert min(starts(venue)) == (JAN_2024 + 49 * HOUR) // 10**6  # nothing fetched twice

    third = fetch(venue, out)
    assert third["fetched"] == {"BTC/USDT": 0, "ETH/USDT": 0} and third["rows"] == 200

    check = runner.invoke(app, ["data", "check", str(out), "--json"])
    assert check.exit_code == 0, check.output
    assert json.loads(check.stdout)["errors"] == 0
    market = load_market(out)
    assert market.n_steps == 100 and market.symbols == ["BTC/USDT", "ETH/USDT"]
    assert market.frequency == "1h"
    rows = {r.ts: r for r in venue.candles["BTCUSDT"]}
    close = market.prices("close")[:, 0]
    assert [f"{c:.2f}" for c in close] == [rows[JAN_2024 + k * HOUR].close for k in range(100)]


def test_duplicates_in_the_file_are_dropped_on_merge(venue: FakeVenue, tmp_path: Path) -> None:
    out = tmp_path / "held.csv"
    row = "2024-01-01T00:00:00Z,BTC/USDT,42000.00,42010.00,41990.00,42000.50,3"
    out.write_text(f"timestamp,symbol,open,high,low,close,volume\n{row}\n{row}\n")
    assert runner.invoke(app, ["data", "check", str(out)]).exit_code == 1  # duplicate_timestamp
    report = fetch(venue, out, "--until", "2024-01-01T05:00")
    assert report["duplicates"] == 1 and report["fetched"]["BTC/USDT"] == 5
    assert report["fetched"]["ETH/USDT"] == 6 and report["g0_ok"] is True
    frame = pd.read_csv(out)
    assert len(frame) == 12 and not frame.duplicated(["timestamp", "symbol"]).any()
    assert frame.iloc[0]["close"] == 42000.5  # the file's own row is kept


def test_a_failed_download_keeps_what_it_fetched_and_a_rerun_completes(
    venue: FakeVenue, tmp_path: Path
) -> None:
    out = tmp_path / "part.parquet"
    waits: list[float] = []
    common = dict(
        base_url=venue.url, page_limit=40, max_attempts=3, sleep=waits.append, until="2024-01-04"
    )
    original = venue._klines
    calls = {"n": 0}

    def flaky(params: dict[str, str]) -> list:
        calls["n"] += 1
        if calls["n"] > 1:
            raise ConnectionResetError("gone")
        return original(params)

    venue._klines = flaky  # type: ignore[method-assign]
    with pytest.raises(DataError, match="after 3 attempts"):
        fetch_to_file("binance", ["BTC/USDT"], "1h", "2024-01-01", out, **common)
    assert len(waits) == 2
    assert len(load_market(out).timestamps) == 40  # the first page was kept

    venue._klines = original  # type: ignore[method-assign]
    report = fetch_to_file("binance", ["BTC/USDT"], "1h", "2024-01-01", out, **common)
    assert report.resumed == {"BTC/USDT": "2024-01-02T15:00:00Z"} and report.rows == 73
    assert report.g0_ok and report.duplicates == 0


def test_a_rate_limited_venue_is_waited_for(venue: FakeVenue, tmp_path: Path) -> None:
    venue.faults = [Fault(0, 2**62, "429", retry_after=3)]
    waits: list[float] = []

    def lift(seconds: float) -> None:
        waits.append(seconds)
        venue.faults = []  # the venue lets us in again after the first wait

    out = tmp_path / "limited.parquet"
    policy = RetryPolicy(base_seconds=0.1, rate_limit_seconds=1)
    report = fetch_to_file(
        "binance",
        ["ETH/USDT"],
        "1h",
        "2024-01-01",
        out,
        base_url=venue.url,
        sleep=lift,
        retry=policy,
        until="2024-01-01T09:00",
    )
    assert waits == [3.0] and report.rows == 10  # the venue's Retry-After, not 0.1 s


def test_bad_arguments_are_one_error_line(venue: FakeVenue, tmp_path: Path) -> None:
    base = ["data", "fetch", "--exchange", "binance", "--symbols", "BTC/USDT"]
    cases = [
        (["--since", "yesterday-ish", "--out", str(tmp_path / "a.parquet")], "--since"),
        (["--since", "2024-01-01", "--out", str(tmp_path / "a.txt")], "unsupported file type"),
        (["--since", "2024-01-01", "--out", str(tmp_path / "a.csv"), "--timeframe", "1y"], "1y"),
        (["--since", "2030-01-01", "--out", str(tmp_path / "a.csv")], "no closed 1h candles"),
        # year 3000 was an internal error (OverflowError); an inverted window asked the venue
        (["--since", "3000-01-01", "--out", str(tmp_path / "a.csv")], "outside the supported"),
        (
            ["--since", "2024-02-01", "--until", "2024-01-01", "--out", str(tmp_path / "a.csv")],
            "--until 2024-01-01 is before --since 2024-02-01",
        ),
    ]
    for extra, message in cases:
        result = runner.invoke(app, [*base, *extra, "--base-url", venue.url])
        assert result.exit_code == 2, result.output
        assert message in result.output and "Traceback" not in result.output

"""Issue 19, "Data in": a Freqtrade feather file and a ccxt epoch-ms CSV load with the right
timestamps and prices, pass the same G0 checks as any CSV, and both run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scarline.config import RunConfig
from scarline.errors import DataError
from scarline.market.checks import check_market_source
from scarline.market.filenames import freqtrade_symbol
from scarline.market.io import load_market, read_raw
from scarline.replayer import replay_run
from scarline.runner import execute_run

N = 60
START = pd.Timestamp("2024-01-01", tz="UTC")


def _candles(n: int = N, seed: int = 0) -> pd.DataFrame:
    """Hourly OHLCV as Freqtrade keeps it: a tz-aware ``date`` and float prices."""
    rng = np.random.default_rng(seed)
    close = np.round(42_000 + np.cumsum(rng.normal(0, 80, n)), 2)
    open_ = np.concatenate([[close[0]], close[:-1]])
    return pd.DataFrame(
        {
            "date": pd.date_range(START, periods=n, freq="1h"),
            "open": open_,
            "high": np.maximum(open_, close) + 15.5,
            "low": np.minimum(open_, close) - 12.25,
            "close": close,
            "volume": np.round(rng.uniform(1, 30, n), 5),
        }
    )


def _ns(dates: pd.Series) -> list[int]:
    return [int(v) for v in dates.dt.as_unit("ns").astype("int64")]


def _freqtrade_feather(directory: Path, name: str = "BTC_USDT-1h.feather") -> Path:
    path = directory / name
    _candles().to_feather(path, compression="lz4")  # as Freqtrade's FeatherDataHandler does
    return path


def _ccxt_csv(directory: Path, *, symbols: tuple[str, ...] = ()) -> Path:
    """``fetch_ohlcv`` rows (epoch ms) as ccxt users save them, optionally with a symbol."""
    frames = []
    for k, symbol in enumerate(symbols or ("",)):
        frame = _candles(seed=k).rename(columns={"date": "timestamp"})
        frame["timestamp"] = frame["timestamp"].dt.as_unit("ms").astype("int64")
        if symbol:
            frame.insert(1, "symbol", symbol)
        frames.append(frame)
    path = directory / "ohlcv.csv"
    pd.concat(frames).sort_values("timestamp", kind="stable").to_csv(path, index=False)
    return path


def test_a_freqtrade_feather_file_loads_with_its_pair_times_and_prices(tmp_path: Path) -> None:
    path = _freqtrade_feather(tmp_path)
    market = load_market(path)
    expected = _candles()
    assert market.symbols == ["BTC/USDT"]
    assert market.frequency == "1h" and market.n_steps == N
    assert market.timestamps.tolist() == _ns(expected["date"])
    tick = market.instruments[0].tick_size
    assert tick == "0.01"
    assert (market.close[:, 0] / 100).tolist() == expected["close"].tolist()
    assert (market.low[:, 0] / 100).tolist() == expected["low"].tolist()
    raw = read_raw(path)
    assert raw.meta["format"] == "feather" and raw.meta["timestamps"] == "UTC datetimes"
    assert raw.meta["time_column"] == "date" and raw.meta["symbol"] == "BTC/USDT"
    assert raw.meta["symbol_from"] == "the Freqtrade file name BTC_USDT-1h.feather"


def test_a_ccxt_epoch_ms_csv_loads_with_the_right_times_and_exact_prices(tmp_path: Path) -> None:
    path = _ccxt_csv(tmp_path, symbols=("BTC/USDT", "ETH/USDT"))
    assert path.read_text().splitlines()[1].startswith("1704067200000,BTC/USDT,")
    market = load_market(path)
    assert market.symbols == ["BTC/USDT", "ETH/USDT"] and market.n_steps == N
    assert market.timestamps[0] == START.value
    assert market.timestamps.tolist() == _ns(_candles()["date"])
    assert (market.close[:, 1] / 100).tolist() == _candles(seed=1)["close"].tolist()
    report = check_market_source(path)
    assert report.ok and report.detected["timestamps"] == "epoch milliseconds"


@pytest.mark.parametrize(
    ("stem", "symbol"),
    [
        ("BTC_USDT-1h", "BTC/USDT"),
        ("ETH_BTC-5m", "ETH/BTC"),
        ("BTC_USDT_USDT-1h-futures", "BTC/USDT:USDT"),
        ("BTC_USDT_USDT-8h-funding_rate", "BTC/USDT:USDT"),
        ("BTC_USDT-1d-spot", "BTC/USDT"),
        ("prices", None),
        ("BTC_USDT_USDT-1h", None),
        ("BTC_USDT-trades", None),
    ],
)
def test_freqtrade_file_names(stem: str, symbol: str | None) -> None:
    assert freqtrade_symbol(stem) == symbol


def test_a_futures_file_and_an_explicit_symbol(tmp_path: Path) -> None:
    path = _freqtrade_feather(tmp_path, "BTC_USDT_USDT-1h-futures.feather")
    assert load_market(path).symbols == ["BTC/USDT:USDT"]
    assert load_market(path, symbol="XBT").symbols == ["XBT"]


def test_g0_and_cell_errors_apply_to_feather_rows(tmp_path: Path) -> None:
    frame = _candles(12)
    frame.loc[4, "close"] = np.nan
    frame.loc[7, "date"] = frame.loc[6, "date"]
    path = tmp_path / "ETH_USDT-1h.feather"
    frame.to_feather(path)
    report = check_market_source(path)
    assert {(f.check, f.row) for f in report.errors} == {
        ("missing_value", 5),
        ("duplicate_timestamp", 8),
    }
    frame = _candles(6).astype({"close": str})
    frame.loc[2, "close"] = "abc"
    frame.to_feather(path)
    with pytest.raises(DataError) as err:
        read_raw(path)
    assert str(err.value) == f"{path}: row 3, column 'close': cannot parse 'abc' as a number"


def test_parquet_takes_the_same_columns_and_epochs(tmp_path: Path) -> None:
    frame = _candles().rename(columns={"date": "Timestamp"})
    frame["Timestamp"] = frame["Timestamp"].dt.as_unit("us").astype("int64")
    path = tmp_path / "BTC_USDT-1h.parquet"
    frame.to_parquet(path)
    raw = read_raw(path)
    assert raw.meta["timestamps"] == "epoch microseconds" and raw.symbols == ("BTC/USDT",)
    assert raw.timestamps[0] == START.value


def _run_config(source: Path, symbols: tuple[str, ...]) -> RunConfig:
    return RunConfig(
        seed=3,
        report=False,
        data={
            "source": str(source),
            "calendar": "24/7",
            "lot_sizes": dict.fromkeys(symbols, "0.0001"),
        },
        agents=[
            {"kind": "buy-and-hold"},
            {"kind": "sma-crossover", "fast": [3], "slow": [8]},
        ],
    )


@pytest.mark.parametrize("kind", ["feather", "ccxt"])
def test_both_inputs_run_and_replay(tmp_path: Path, kind: str) -> None:
    if kind == "feather":
        source, symbols = _freqtrade_feather(tmp_path), ("BTC/USDT",)
    else:
        source, symbols = (
            _ccxt_csv(tmp_path, symbols=("BTC/USDT", "ETH/USDT")),
            (
                "BTC/USDT",
                "ETH/USDT",
            ),
        )
    summary = execute_run(_run_config(source, symbols), run_id=kind, out_dir=tmp_path / "runs")
    assert summary.steps == N and summary.metrics.trades.min() >= 1
    assert replay_run(summary.run_dir).parity

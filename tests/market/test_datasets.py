"""The real datasets shipped inside installed packages load exactly and completely."""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest

from scarline.errors import DataError
from scarline.market.datasets import is_dataset, list_datasets, load_dataset


def _ns(day: str) -> int:
    return pd.Timestamp(day, tz="UTC").value


@pytest.mark.parametrize("name", ["sp500", "nasdaq"])
def test_arch_ohlcv_datasets_match_their_source_to_the_tick(name: str) -> None:
    src = importlib.import_module(f"arch.data.{name}").load()
    market = load_dataset(name)
    assert (market.n_steps, market.n_instruments) == (5031, 1)
    assert market.timestamps[0] == _ns("1999-01-04")
    assert market.timestamps[-1] == _ns("2018-12-31")
    assert market.has_ohlc and market.has_volume and market.valid.all()
    assert market.instruments[0].tick_size == "0.01"
    for col in ("open", "high", "low", "close"):
        ticks = getattr(market, col)[:, 0]
        expected = np.rint(src[col.capitalize()].to_numpy() * 100).astype(np.int64)
        np.testing.assert_array_equal(ticks, expected)
        assert np.abs(market.prices(col)[:, 0] - src[col.capitalize()]).max() <= 0.005 + 1e-9
    np.testing.assert_array_equal(market.volume[:, 0], src["Volume"].to_numpy())
    assert market.timestamps.dtype == np.int64 and np.all(np.diff(market.timestamps) > 0)


def test_sp500_20_is_twenty_stocks_of_daily_closes_at_a_tenth_of_a_cent() -> None:
    from skfolio.datasets import load_sp500_dataset

    src = load_sp500_dataset()
    market = load_dataset("sp500-20")
    assert market.close.shape == (8313, 20)
    assert market.symbols == list(src.columns)
    assert {i.tick_size for i in market.instruments} == {"0.001"}
    assert not market.has_ohlc and not market.has_volume
    np.testing.assert_array_equal(market.close, np.rint(src.to_numpy() * 1000).astype(np.int64))
    np.testing.assert_array_equal(market.open, market.close)
    assert not market.volume.any()
    assert market.timestamps[0] == _ns("1990-01-02")
    assert market.timestamps[-1] == _ns("2022-12-28")


@pytest.mark.parametrize(("name", "column"), [("wti", "DCOILWTICO"), ("vix", "vix")])
def test_close_series_drop_their_empty_rows(name: str, column: str) -> None:
    src = importlib.import_module(f"arch.data.{name}").load()[column].dropna()
    market = load_dataset(name)
    assert market.n_steps == len(src) and market.valid.all()
    np.testing.assert_array_equal(market.close[:, 0], np.rint(src.to_numpy() * 100))
    assert market.timestamps[0] == pd.Timestamp(src.index[0], tz="UTC").value


def test_list_reports_size_range_and_source_of_each_dataset() -> None:
    infos = {i.name: i for i in list_datasets()}
    assert {"sp500", "nasdaq", "sp500-20", "wti", "vix"} <= set(infos)
    sp = infos["sp500"]
    assert (sp.rows, sp.symbols, sp.start, sp.end) == (5031, 1, "1999-01-04", "2018-12-31")
    assert (sp.source, sp.frequency, sp.tick_size) == ("arch.data.sp500", "1d", "0.01")
    assert (infos["sp500-20"].rows, infos["sp500-20"].symbols) == (8313, 20)


def test_backtesting_datasets_exist_only_when_the_package_is_installed() -> None:
    installed = importlib.util.find_spec("backtesting") is not None
    assert is_dataset("eurusd") is installed
    assert is_dataset("goog") is installed


def test_unknown_dataset_names_the_known_ones() -> None:
    with pytest.raises(DataError, match=r"unknown dataset 'sp501' \(known: sp500, nasdaq"):
        load_dataset("sp501")

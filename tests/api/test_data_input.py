"""A DataFrame handed to ``sl.backtest`` is stored as it is and read back by the file loader:
the same timestamps, symbols, prices and further columns a user's own file would give."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from scarline.api.data_input import frame_source
from scarline.errors import DataError
from scarline.market.io import read_raw

INDEX = pd.date_range("2024-01-01", periods=4, freq="h", tz="UTC")
CLOSE = [100.5, 101.25, 99.75, 100.0]


@pytest.mark.parametrize("divisor", [10**9, 10**6, 10**3, 1])  # epoch s, ms, µs, ns
def test_epoch_numbers_keep_their_unit(tmp_path: Path, divisor: int) -> None:
    frame = pd.DataFrame({"timestamp": INDEX.as_unit("ns").asi8 // divisor, "close": CLOSE})
    raw = read_raw(frame_source(frame, tmp_path))
    assert raw.timestamps.tolist() == INDEX.as_unit("ns").asi8.tolist()
    assert raw.prices["close"].tolist() == [10050, 10125, 9975, 10000]


def test_sub_second_bars_keep_their_time(tmp_path: Path) -> None:
    index = pd.date_range("2024-01-01", periods=4, freq="100ms", tz="UTC")
    raw = read_raw(frame_source(pd.DataFrame({"close": CLOSE}, index=index), tmp_path))
    assert np.diff(raw.timestamps).tolist() == [100_000_000] * 3


def test_a_ticker_column_names_the_symbols_and_more_columns_come_along(tmp_path: Path) -> None:
    one = pd.DataFrame({"Date": INDEX, "Close": CLOSE, "Signal": [0.5, 1.0, 1.5, 2.0]})
    frame = pd.concat([one.assign(Ticker="AAA"), one.assign(Ticker="BBB")])
    raw = read_raw(frame_source(frame, tmp_path))
    assert raw.symbols == ("AAA", "BBB")
    assert raw.exog["signal"].tolist() == [0.5, 1.0, 1.5, 2.0] * 2


def test_the_same_data_is_one_absolute_file(tmp_path: Path) -> None:
    frame = pd.DataFrame({"close": CLOSE}, index=INDEX)
    first, second = frame_source(frame, tmp_path), frame_source(frame.copy(), tmp_path)
    assert first == second and first.is_absolute() and first.suffix == ".parquet"


def test_bad_values_are_named_not_rounded(tmp_path: Path) -> None:
    text = pd.DataFrame({"close": [100.5, "abc", 99.0, 98.0]}, index=INDEX)
    with pytest.raises(DataError, match=r"row 2, column 'close': cannot parse 'abc' as a number"):
        read_raw(frame_source(text, tmp_path))
    tiny = pd.DataFrame({"close": np.array(CLOSE) * 3.3e-10}, index=INDEX)
    with pytest.raises(DataError, match=r"too small for its tick"):
        read_raw(frame_source(tiny, tmp_path))


def test_frames_it_cannot_read_are_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"no time"):
        frame_source(pd.DataFrame({"close": CLOSE}), tmp_path)
    with pytest.raises(DataError, match=r"columns \['close'\] appear more than once"):
        twice = pd.DataFrame([[1.0, 2.0]] * 4, index=INDEX, columns=["Close", "close"])
        frame_source(twice, tmp_path)
    with pytest.raises(DataError, match=r"expected a DataFrame.*not Series"):
        frame_source(pd.Series(CLOSE, index=INDEX), tmp_path)  # type: ignore[arg-type]


def _two_symbols() -> pd.DataFrame:
    """Long rows of AAA and BBB (BBB's closes 10 lower)."""
    one = pd.DataFrame({"date": INDEX, "close": CLOSE})
    bbb = one.assign(close=[c - 10 for c in CLOSE])
    return pd.concat([one.assign(ticker="AAA"), bbb.assign(ticker="BBB")])


@pytest.mark.parametrize("levels", [["date", "ticker"], ["ticker", "date"]])
def test_a_time_and_symbol_row_index_reads_as_long_rows(tmp_path: Path, levels: list[str]) -> None:
    frame = _two_symbols().set_index(levels)  # once "no time": the levels were not looked at
    raw = read_raw(frame_source(frame, tmp_path))
    expected = read_raw(frame_source(_two_symbols(), tmp_path))
    by_row = {
        (t, raw.symbols[s]): c
        for t, s, c in zip(raw.timestamps, raw.symbol_codes, raw.prices["close"], strict=True)
    }
    want = {
        (t, expected.symbols[s]): c
        for t, s, c in zip(
            expected.timestamps, expected.symbol_codes, expected.prices["close"], strict=True
        )
    }
    assert by_row == want and len(by_row) == 8


def test_symbol_then_field_columns_read_as_field_then_symbol(tmp_path: Path) -> None:
    wide = _two_symbols().pivot(index="date", columns="ticker", values="close")
    fields = pd.concat({"Close": wide}, axis=1)  # (field, symbol)
    swapped = fields.swaplevel(axis=1)  # (symbol, field): yfinance's group_by="ticker"
    first, second = (read_raw(frame_source(f, tmp_path)) for f in (fields, swapped))
    assert second.symbols == first.symbols == ("AAA", "BBB")
    assert second.prices["close"].tolist() == first.prices["close"].tolist()
    assert sorted(first.prices["close"].tolist()) == sorted(
        [10050, 10125, 9975, 10000, 9050, 9125, 8975, 9000]
    )


def test_periods_dates_and_a_named_text_index_are_times(tmp_path: Path) -> None:
    days = pd.period_range("2024-01-01", periods=4, freq="D")
    stamps = days.to_timestamp().as_unit("ns").asi8.tolist()
    for index in (
        days,
        pd.Index([p.to_timestamp().date() for p in days]),  # datetime.date objects
        pd.Index([str(p) for p in days], name="Date"),  # read_csv(index_col="Date")
    ):
        raw = read_raw(frame_source(pd.DataFrame({"close": CLOSE}, index=index), tmp_path))
        assert raw.timestamps.tolist() == stamps
    with pytest.raises(DataError, match=r"no time"):
        frame_source(pd.DataFrame({"close": CLOSE}, index=[str(p) for p in days]), tmp_path)


def test_a_row_index_that_is_not_time_and_symbol_is_refused_by_name(tmp_path: Path) -> None:
    both = _two_symbols().set_index(["date", "ticker"]).assign(symbol="X")
    with pytest.raises(DataError, match=r"indexed by \(time, symbol\) and a column is named"):
        frame_source(both, tmp_path)
    three = _two_symbols().assign(n=1).set_index(["date", "ticker", "n"])
    with pytest.raises(DataError, match=r"must be \(time, symbol\) \(levels: date, ticker, n\)"):
        frame_source(three, tmp_path)


def test_a_frame_with_to_pandas_is_read_like_its_pandas_frame(tmp_path: Path) -> None:
    frame = pd.DataFrame({"timestamp": INDEX, "close": CLOSE})
    table = pa.Table.from_pandas(frame)  # as a polars DataFrame, it has to_pandas()
    assert frame_source(table, tmp_path) == frame_source(frame, tmp_path)

    class Broken:
        def to_pandas(self) -> pd.DataFrame:
            raise RuntimeError("no pandas today")

    with pytest.raises(DataError, match=r"cannot convert the Broken \(.*\) to pandas"):
        frame_source(Broken(), tmp_path)
    with pytest.raises(DataError, match=r"not ndarray \(numpy\)"):  # once "not ndarray"
        frame_source(np.array(CLOSE), tmp_path)

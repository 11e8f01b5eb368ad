"""A DataFrame handed to ``sl.backtest`` is stored as it is and read back by the file loader:
the same timestamps, symbols, prices and further columns a user's own file would give."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
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

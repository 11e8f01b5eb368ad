"""Time columns: ISO text, datetimes and epoch s/ms/µs/ns, detected by magnitude and stated;
an implausible or mixed epoch column is refused naming the column and a value."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scarline.errors import DataError
from scarline.market.io import read_raw
from scarline.market.parse import CellError
from scarline.market.timestamps import EPOCH_UNITS, epoch_unit_codes, parse_timestamps

Write = Callable[[str, str], Path]
NS = {name: scale for name, scale in EPOCH_UNITS}
PLAUSIBLE = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2199, 12, 31, 23, 59, 59)
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(PLAUSIBLE, min_size=1, max_size=5),
    st.sampled_from([u for u, _ in EPOCH_UNITS]),
    st.booleans(),
)
def test_every_epoch_unit_is_detected_from_plausible_dates(
    dates: list[datetime], unit: str, as_text: bool
) -> None:
    ns = [int(pd.Timestamp(d, tz="UTC").value) // NS[unit] * NS[unit] for d in dates]
    values = [n // NS[unit] for n in ns]
    series = pd.Series([str(v) for v in values]) if as_text else pd.Series(values, dtype="int64")
    time = parse_timestamps(series)
    assert time.encoding == f"epoch {unit}"
    assert time.ns.tolist() == ns


def test_unit_bands_do_not_overlap() -> None:
    edges = np.array([31_536_000, 7_258_118_399, 31_536_000_000, 7_258_118_400_000 - 1])
    assert epoch_unit_codes(edges).tolist() == [0, 0, 1, 1]
    assert epoch_unit_codes(np.array([7_258_118_400, 31_535_999_999])).tolist() == [-1, -1]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["1700000000"], "2023-11-14T22:13:20"),
        (["1700000000000"], "2023-11-14T22:13:20"),
        (["1700000000000000"], "2023-11-14T22:13:20"),
        (["1700000000000000000"], "2023-11-14T22:13:20"),
        (["1700000000.5"], "2023-11-14T22:13:20.5"),
        (["1700000000123.456"], "2023-11-14T22:13:20.123456"),
    ],
)
def test_epoch_text_is_exact(values: list[str], expected: str) -> None:
    time = parse_timestamps(pd.Series(values))
    assert time.ns.tolist() == [pd.Timestamp(expected, tz="UTC").value]


def test_float_epoch_milliseconds_as_pandas_writes_them_after_a_nan() -> None:
    time = parse_timestamps(pd.Series([1.7e12, 1.7e12 + 60_000]))
    assert time.encoding == "epoch milliseconds"
    assert time.ns.tolist() == [1_700_000_000_000_000_000, 1_700_000_060_000_000_000]
    fractional = parse_timestamps(pd.Series([1_700_000_000.25]))
    assert fractional.ns.tolist() == [1_700_000_000_250_000_000]
    with pytest.raises(CellError, match="missing timestamp") as err:
        parse_timestamps(pd.Series([1.7e12, np.nan]))
    assert err.value.index == 1


def test_iso_text_and_datetimes_say_what_they_are() -> None:
    assert parse_timestamps(pd.Series(["2020-01-02"])).encoding == "ISO 8601 text"
    assert parse_timestamps(pd.Series(["20200102"])).encoding == "ISO 8601 text"  # compact
    naive = parse_timestamps(pd.Series(pd.to_datetime(["2020-01-02"])))
    assert naive.encoding == "naive datetimes (read as UTC)"
    berlin = pd.Series(pd.to_datetime(["2020-01-02 01:00"]).tz_localize("Europe/Berlin"))
    time = parse_timestamps(berlin)
    assert time.encoding == "Europe/Berlin datetimes (converted to UTC)"
    assert time.ns.tolist() == [pd.Timestamp("2020-01-02", tz="UTC").value]
    aware = parse_timestamps(pd.Series(pd.to_datetime(["2020-01-02"], utc=True)))
    assert aware.encoding == "UTC datetimes"


@pytest.mark.parametrize(
    ("values", "index", "message"),
    [
        ([1_700_000_000, 5], 1, "'5' is not a plausible epoch time"),
        ([-1_700_000_000], 0, "'-1700000000' is not a plausible epoch time"),
        ([1_700_000_000, 1_700_000_060_000], 1, "ambiguous epoch unit: '1700000060000' is "),
        ([10**19 - 1], 0, "is not a plausible epoch time"),
    ],
)
def test_implausible_or_mixed_epochs_are_refused(
    values: list[int], index: int, message: str
) -> None:
    series = pd.Series(values, dtype="uint64" if values[0] > 2**63 else "int64")
    with pytest.raises(CellError, match=message) as err:
        parse_timestamps(series)
    assert err.value.index == index
    with pytest.raises(CellError, match=message):
        parse_timestamps(series.astype(str))


def test_a_file_error_names_the_file_line_column_and_value(write_text: Write) -> None:
    path = write_text("p.csv", "Time,close\n1700000000,1.5\n1700000060,1.6\n12345,1.7\n")
    with pytest.raises(DataError) as err:
        read_raw(path)
    assert str(err.value).startswith(
        f"{path}: line 4, column 'Time': '12345' is not a plausible epoch time"
    )
    path = write_text("q.csv", "date,close\n1700000000,1.5\n1700000000000,1.6\n")
    with pytest.raises(DataError, match="line 3, column 'date': ambiguous epoch unit"):
        read_raw(path)
    path = write_text("r.csv", "timestamp,close\n1700000000,1.5\n,1.6\n")
    with pytest.raises(DataError, match="line 3, column 'timestamp': cannot parse ''"):
        read_raw(path)


def test_the_detected_encoding_is_recorded(write_text: Write) -> None:
    raw = read_raw(write_text("m.csv", "datetime,close\n1700000000000,1.5\n"))
    assert raw.meta["timestamps"] == "epoch milliseconds"
    assert raw.meta["time_column"] == "datetime" and raw.meta["format"] == "csv"
    assert raw.timestamps.tolist() == [
        int(datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC).timestamp()) * 10**9
    ]


def test_a_parquet_date_column_is_stated_as_dates(tmp_path: Path) -> None:
    path = tmp_path / "d.parquet"
    days = pa.array([date(2024, 1, 1), date(2024, 1, 2)], pa.date32())
    pq.write_table(pa.table({"date": days, "close": [1.5, 1.6]}), path)
    raw = read_raw(path)  # was stated as "ISO 8601 text": the dates went through their str
    assert raw.meta["timestamps"] == "dates (midnight UTC)"
    assert raw.timestamps.tolist() == [1704067200 * 10**9, 1704153600 * 10**9]

"""CSV / Parquet import and export: exact ticks, canonical columns, clear one-line errors."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from scarline.errors import DataError
from scarline.market.io import load_market, read_raw, write_csv, write_parquet
from scarline.market.synthetic import SynthSpec, generate

Write = Callable[[str, str], Path]

CANONICAL = """\
timestamp,symbol,open,high,low,close,volume,bid,ask,bid_size,ask_size,signal
2020-01-01,AAA,10.00,10.50,9.90,10.20,100,10.19,10.21,5,7,0.25
2020-01-01,BBB,5.000,5.100,4.900,5.050,30,5.049,5.051,1,2,-1.5
2020-01-02,AAA,10.20,10.40,10.00,10.10,120,10.09,10.11,6,8,0.5
2020-01-02,BBB,5.050,5.200,5.000,5.150,31,5.149,5.151,3,4,
"""


def test_csv_round_trips_byte_for_byte(write_text: Write, tmp_path: Path) -> None:
    market = load_market(write_text("in.csv", CANONICAL))
    assert [i.tick_size for i in market.instruments] == ["0.01", "0.001"]
    out = write_csv(market, tmp_path / "out.csv")
    assert out.read_text() == CANONICAL
    assert load_market(out).content_hash() == market.content_hash()


def test_parquet_round_trips_exactly_with_quotes_and_exog(tmp_path: Path) -> None:
    spec = SynthSpec(n_steps=300, n_instruments=3, seed=5, quotes=True, planted_ic=0.1)
    market = generate(spec)
    for name in ("m.parquet", "m.pq", "m.csv"):
        path = tmp_path / name
        (write_parquet if name != "m.csv" else write_csv)(market, path)
        back = load_market(path)
        assert back.content_hash() == market.content_hash(), name
        assert back.exog_names == ("signal",) and back.quotes is not None


def test_prices_go_through_decimal_not_float(write_text: Write) -> None:
    body = "timestamp,close\n2020-01-01,123456789012345.67\n2020-01-02,9007199254740993.01\n"
    market = load_market(write_text("big.csv", body), tick_size="0.01")
    assert market.close[:, 0].tolist() == [12345678901234567, 900719925474099301]
    assert round(float("9007199254740993.01") * 100) != 900719925474099301  # float would lose it


@pytest.fixture
def textless_float(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Make ``float(<str>)`` raise everywhere while ``isinstance(x, float)`` keeps working."""
    real = builtins.float

    class _Meta(type):
        def __instancecheck__(cls, obj: object) -> bool:
            return isinstance(obj, real)

        def __subclasscheck__(cls, sub: type) -> bool:
            return issubclass(sub, real)

    class TextlessFloat(real, metaclass=_Meta):
        def __new__(cls, x: object = 0.0) -> float:  # type: ignore[misc]
            if isinstance(x, str | bytes):
                raise AssertionError(f"float({x!r}) called on text")
            return real(x)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "float", TextlessFloat)
    yield


def test_csv_import_never_calls_float_on_text(write_text: Write, textless_float: None) -> None:
    path = write_text(
        "p.csv", "timestamp,open,high,low,close,volume\n2020-01-01,1.1,1.3,1.0,1.2,7\n"
    )
    with pytest.raises(AssertionError):
        float("1.5")
    market = load_market(path)
    assert market.close.tolist() == [[12]] and market.instruments[0].tick_size == "0.1"


def test_close_only_file_without_volume(write_text: Write) -> None:
    market = load_market(write_text("c.csv", "Date,Close\n2021-03-01,7.25\n2021-03-02,7.5\n"))
    assert not market.has_ohlc and not market.has_volume
    np.testing.assert_array_equal(market.open, market.close)
    np.testing.assert_array_equal(market.high, market.close)
    assert market.close[:, 0].tolist() == [725, 750] and not market.volume.any()
    assert market.symbols == ["c"] and market.frequency == "1d"


def test_column_names_are_case_insensitive_and_date_is_the_timestamp(write_text: Write) -> None:
    body = "DATE,Open,HIGH,low,Close,Volume\n2020-01-01T09:30:00Z,1,2,0.5,1.5,10\n"
    market = load_market(write_text("u.csv", body))
    assert market.timestamps[0] == pd.Timestamp("2020-01-01T09:30:00Z").value
    assert market.high[0, 0] == 20 and market.instruments[0].tick_size == "0.1"


def test_further_numeric_columns_are_exog_and_text_columns_are_ignored(write_text: Write) -> None:
    body = "timestamp,close,sentiment,note\n2020-01-01,1.00,0.5,hi\n2020-01-02,1.01,,there\n"
    market = load_market(write_text("x.csv", body))
    assert market.exog_names == ("sentiment",)
    assert market.exog[0, 0, 0] == 0.5 and np.isnan(market.exog[1, 0, 0])
    assert market.meta["ignored_columns"] == "note"


def test_long_multi_symbol_file_pivots_to_the_union_of_timestamps(write_text: Write) -> None:
    body = (
        "timestamp,symbol,close\n2020-01-02,B,2.0\n2020-01-01,A,1.0\n"
        "2020-01-03,A,1.5\n2020-01-03,B,2.5\n"
    )
    market = load_market(write_text("long.csv", body))
    assert market.symbols == ["B", "A"]
    assert market.timestamps.tolist() == [
        pd.Timestamp(d, tz="UTC").value for d in ("2020-01-01", "2020-01-02", "2020-01-03")
    ]
    assert market.valid.tolist() == [[False, True], [True, False], [True, True]]
    assert market.close.tolist() == [[0, 10], [20, 0], [25, 15]]


def test_missing_cells_mark_the_bar_invalid_instead_of_crashing(write_text: Write) -> None:
    body = (
        "timestamp,close,volume\n"
        "2020-01-01,1.00,5\n2020-01-02,,5\n2020-01-03,NaN,5\n2020-01-04,1.10,\n"
    )
    market = load_market(write_text("holes.csv", body))
    assert market.valid[:, 0].tolist() == [True, False, False, False]


def test_tick_size_is_inferred_from_the_written_decimals_or_given(write_text: Write) -> None:
    path = write_text("t.csv", "timestamp,close\n2020-01-01,100.10\n2020-01-02,100.20\n")
    assert load_market(path).instruments[0].tick_size == "0.01"
    given = load_market(path, tick_size="0.05")
    assert given.instruments[0].tick_size == "0.05" and given.close[:, 0].tolist() == [2002, 2004]
    deep = write_text("d.csv", "timestamp,close\n2020-01-01,0.1234567891234\n")
    with pytest.raises(DataError, match="13 decimal places, finer than one cash unit"):
        load_market(deep)  # written digits are never rounded silently
    assert load_market(deep, tick_size="0.00000001").close[0, 0] == 12345679


def test_text_in_a_price_column_names_file_line_and_column(
    write_text: Write, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = "".join(f"2020-01-0{d},{d}.5\n" for d in range(1, 6))
    write_text("prices.csv", "timestamp,close\n" + rows + "2020-01-06,abc\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataError) as err:
        load_market("prices.csv")
    assert str(err.value) == "prices.csv: line 7, column 'close': cannot parse 'abc' as a number"


def test_line_numbers_count_blank_lines(write_text: Write) -> None:
    path = write_text("b.csv", "timestamp,close\n2020-01-01,1\n\n2020-01-02,x1\n")
    with pytest.raises(DataError, match=r"line 4, column 'close': cannot parse 'x1'"):
        load_market(path)


def test_bad_timestamp_and_missing_columns_are_named(write_text: Write) -> None:
    with pytest.raises(DataError, match=r"line 3, column 'timestamp': cannot parse '2020-13-45'"):
        load_market(write_text("ts.csv", "timestamp,close\n2020-01-01,1\n2020-13-45,2\n"))
    with pytest.raises(DataError, match=r"nc\.csv: missing required column 'close'"):
        load_market(write_text("nc.csv", "timestamp,price\n2020-01-01,1\n"))
    with pytest.raises(DataError, match=r"oh\.csv: missing required column 'low'"):
        load_market(write_text("oh.csv", "timestamp,open,high,close\n2020-01-01,1,1,1\n"))


def test_third_party_parquet_floats_go_through_their_repr(tmp_path: Path) -> None:
    path = tmp_path / "f.parquet"
    frame = pd.DataFrame(
        {
            "Date": pd.to_datetime(["2020-01-01", "2020-01-02"]),
            "Close": [0.1 + 0.2, 1.25],
            "volume": [1.0, 2.6],
        }
    )
    frame.to_parquet(path)
    market = load_market(path)
    assert market.instruments[0].tick_size == "0.00000001"  # repr 0.30000000000000004, capped
    assert market.close[:, 0].tolist() == [30000000, 125000000]
    assert market.volume[:, 0].tolist() == [1, 3]
    assert Decimal(market.instruments[0].tick_size) * 30000000 == Decimal("0.3")


def test_parquet_text_cell_error_names_the_row(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pd.DataFrame({"timestamp": ["2020-01-01", "2020-01-02"], "close": ["1.5", "n/a?"]}).to_parquet(
        path
    )
    with pytest.raises(DataError, match=r"t\.parquet: row 2, column 'close': cannot parse 'n/a\?'"):
        read_raw(path)


def test_load_market_dispatches_on_name_then_extension(tmp_path: Path) -> None:
    assert load_market("vix").name == "vix"
    with pytest.raises(DataError, match=r"neither a dataset \(sp500.*\) nor a \.csv"):
        load_market("prices.txt")
    with pytest.raises(DataError, match=r"no such file"):
        load_market(tmp_path / "absent.csv")


def test_tick_size_override_applies_to_datasets_and_must_be_positive(write_text: Write) -> None:
    market = load_market("vix", tick_size="0.05")
    assert market.instruments[0].tick_size == "0.05" and market.close[0, 0] == 275  # 13.76
    with pytest.raises(DataError, match=r"tick size '0' is not a positive decimal"):
        load_market(write_text("z.csv", "timestamp,close\n2020-01-01,1\n"), tick_size="0")


def test_small_float32_prices_round_at_the_finest_tick_as_floats_do(tmp_path: Path) -> None:
    """A float32 column is floats, not text: digits past 8 places round (within a basis
    point), as a float64 column's do, not refused as written digits would be."""
    path = tmp_path / "small.parquet"
    close = np.array([0.000123456, 0.000123457], dtype=np.float32)
    pd.DataFrame({"timestamp": pd.date_range("2024-01-01", periods=2), "close": close}).to_parquet(
        path, index=False
    )
    raw = read_raw(path)
    assert raw.tick_sizes == ("0.00000001",) and raw.prices["close"].tolist() == [12346, 12346]


def test_a_float32_column_reads_as_its_own_shortest_digits(tmp_path: Path) -> None:
    path = tmp_path / "f32.parquet"
    close = np.array([100.38, 100.39, 100.4], dtype=np.float32)  # 100.37999725… as float64
    pd.DataFrame({"timestamp": pd.date_range("2024-01-01", periods=3), "close": close}).to_parquet(
        path, index=False
    )
    raw = read_raw(path)
    assert raw.tick_sizes == ("0.01",)
    assert raw.prices["close"].tolist() == [10038, 10039, 10040]


def test_pandas_default_parquet_of_a_time_indexed_frame_reads(tmp_path: Path) -> None:
    index = pd.date_range("2024-01-01", periods=3, freq="D")  # unnamed: pandas writes "index"
    path = tmp_path / "x.parquet"
    pd.DataFrame({"close": [1.5, 1.6, 1.7]}, index=index).to_parquet(path)
    raw = read_raw(path)
    assert raw.timestamps.tolist() == index.as_unit("ns").asi8.tolist()


def test_trailing_commas_are_read_and_extra_values_are_refused(write_text: Write) -> None:
    header = "timestamp,open,high,low,close,volume\n"
    rows = "2024-01-01,1,2,0.5,1.5,10,\n2024-01-02,1,2,0.5,1.6,9,\n"
    trailing = write_text("t.csv", header + rows)
    raw = read_raw(trailing)
    assert raw.prices["close"].tolist() == [15, 16] and raw.sizes["volume"].tolist() == [10, 9]
    extra = write_text("x.csv", header + "2024-01-01,1,2,0.5,1.5,10,\n2024-01-02,1,2,0.5,1.6,9,8\n")
    with pytest.raises(DataError, match=r"x.csv: line 3 has 7 cells, but the header names 6"):
        read_raw(extra)


def test_a_float_price_its_inferred_tick_would_move_is_refused(tmp_path: Path) -> None:
    stamps = pd.date_range("2024-01-01", periods=3)
    tiny = tmp_path / "tiny.parquet"
    pd.DataFrame({"timestamp": stamps, "close": [3.3e-8, 3.4e-8, 3.5e-8]}).to_parquet(tiny)
    with pytest.raises(DataError, match=r"row 1, column 'close': the price 3.3e-08 of 'tiny'.*"):
        read_raw(tiny)
    assert read_raw(tiny, tick_size="0.00000001").prices["close"].tolist() == [3, 3, 4]
    noisy = tmp_path / "noisy.parquet"  # a float's noise past 8 places is rounded away
    pd.DataFrame({"timestamp": stamps, "close": [0.1 + 0.2, 100.12580929467218, 2.5]}).to_parquet(
        noisy
    )
    assert read_raw(noisy).prices["close"].tolist() == [30000000, 10012580929, 250000000]


def test_an_unsigned_volume_past_int64_is_too_large_not_negative(tmp_path: Path) -> None:
    path = tmp_path / "u64.parquet"
    volume = np.array([2**64 - 1, 5], dtype=np.uint64)  # once wrapped to -1: "negative"
    stamps = pd.date_range("2024-01-01", periods=2)
    pd.DataFrame({"timestamp": stamps, "close": [1.5, 1.6], "volume": volume}).to_parquet(path)
    too_large = r"row 1, column 'volume': 18446744073709551615 is too large to count in units"
    with pytest.raises(DataError, match=too_large):  # the row is named, as for any bad cell
        read_raw(path)


def test_semicolon_and_tab_separated_files_read_as_comma_separated(write_text: Write) -> None:
    body = "timestamp,symbol,open,high,low,close,volume\n2024-01-01,A,1.00,2.00,0.50,1.50,10\n"
    expected = read_raw(write_text("c.csv", body))
    for name, sep in (("s.csv", ";"), ("t.csv", "\t")):
        raw = read_raw(write_text(name, body.replace(",", sep)))
        assert raw.prices.keys() == expected.prices.keys()
        for col, units in expected.prices.items():
            assert raw.prices[col].tolist() == units.tolist()
        assert raw.sizes["volume"].tolist() == [10] and raw.symbols == ("A",)
    with pytest.raises(DataError, match=r"d\.csv: line 2, column 'close': cannot parse '1,5'"):
        read_raw(write_text("d.csv", "timestamp;close\n2024-01-01;1,5\n"))  # decimal comma


def test_a_column_named_twice_is_refused_not_renamed_to_a_feature(write_text: Write) -> None:
    # pandas reads the second 'close' as 'close.1', which became an exogenous feature
    with pytest.raises(DataError, match=r"dup\.csv: line 1: duplicate column 'close'$"):
        read_raw(write_text("dup.csv", "timestamp,close,close\n2024-01-01,1,2\n"))


def test_a_file_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"timestamp,symbol,close\n2024-01-01,A,1\n2024-01-02,caf\xe9,2\n")
    with pytest.raises(DataError, match=r"latin1\.csv: line 3: byte 0xe9 is not UTF-8 text"):
        read_raw(path)
    utf16 = tmp_path / "utf16.csv"
    utf16.write_bytes("timestamp,close\n2024-01-01,1\n".encode("utf-16"))
    with pytest.raises(DataError, match=r"utf16\.csv: line 1: byte 0xff is not UTF-8 text"):
        read_raw(utf16)


def test_a_parquet_column_stored_twice_is_one_line_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "dup.parquet"
    stamps = pa.array(pd.date_range("2024-01-01", periods=1))
    table = pa.Table.from_arrays(
        [stamps, pa.array([1.0]), pa.array([2.0])], ["date", "close", "close"]
    )
    pq.write_table(table, path)  # Arrow's own error spanned several lines
    with pytest.raises(DataError, match=r"dup\.parquet: duplicate column 'close'$"):
        read_raw(path)
    garbage = tmp_path / "garbage.parquet"
    garbage.write_bytes(b"timestamp,close\n2024-01-01,1\n")
    with pytest.raises(DataError, match=r"garbage\.parquet: cannot read as Parquet") as err:
        read_raw(garbage)
    assert "\n" not in str(err.value)


def test_a_missing_relative_path_names_the_directory_it_was_looked_for_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataError, match=r"^nope\.csv: no such file \(relative paths are read") as e:
        read_raw("nope.csv")
    assert str(tmp_path) in str(e.value)
    (tmp_path / "folder.csv").mkdir()
    with pytest.raises(DataError, match=r"^folder\.csv: is a directory, not a file"):
        read_raw("folder.csv")


def test_a_price_too_large_for_int64_ticks_names_its_line(write_text: Write) -> None:
    body = "timestamp,close\n2024-01-01,1.00\n2024-01-02,1e400\n2024-01-03,1e400\n"
    with pytest.raises(DataError, match=r"big\.csv: line 3, column 'close': 1e400 is too large"):
        read_raw(write_text("big.csv", body))


def test_blank_lines_before_the_header_are_skipped_and_counted(write_text: Write) -> None:
    # pandas took the first blank line for the header: "No columns to parse from file"
    raw = read_raw(
        write_text("lead.csv", "\n\ntimestamp,close\n2024-01-01,1.5\n\n2024-01-02,1.6\n")
    )
    assert raw.prices["close"].tolist() == [15, 16] and raw.lines is not None
    assert raw.lines.tolist() == [4, 6]
    with pytest.raises(DataError, match=r"line 5, column 'close': cannot parse 'x'"):
        read_raw(write_text("leadx.csv", "\n\ntimestamp,close\n2024-01-01,1\n2024-01-02,x\n"))


def test_a_cell_quoted_over_two_lines_does_not_shift_later_line_numbers(
    write_text: Write,
) -> None:
    body = 'timestamp,symbol,close\n2024-01-01,"A\nB",1\n2024-01-02,C,x\n'
    with pytest.raises(DataError, match=r"line 4, column 'close': cannot parse 'x'"):  # was 3
        read_raw(write_text("q.csv", body))
    raw = read_raw(write_text("cr.csv", "timestamp,close\r2024-01-01,1\r2024-01-02,2\r"))
    assert raw.lines is not None and raw.lines.tolist() == [2, 3]  # old Mac line ends


def test_separate_date_and_time_columns_are_one_timestamp(write_text: Write) -> None:
    body = "Date,Time,Open,High,Low,Close,Volume\n2024-01-02,09:30,1,2,0.5,1.5,10\n"
    raw = read_raw(write_text("dt.csv", body + "2024-01-02,09:31:30,1.5,2,1,1.8,5\n"))
    # once "duplicate column 'Time' (as 'timestamp')"
    stamps = pd.to_datetime(["2024-01-02 09:30:00", "2024-01-02 09:31:30"]).as_unit("ns")
    assert raw.timestamps.tolist() == stamps.asi8.tolist()
    assert raw.prices["close"].tolist() == [15, 18] and raw.meta["time_column"] == "Date Time"
    with pytest.raises(DataError, match=r"line 3, column 'Date Time': cannot parse ''"):
        read_raw(write_text("gap.csv", body + "2024-01-02,,1.5,2,1,1.8,5\n"))  # not midnight


@pytest.mark.parametrize(
    ("stored", "message"),
    [
        (b"garbage", r"is not JSON"),  # was a JSONDecodeError traceback
        (b"[1, 2]", r"is not an object of tick texts"),  # was an AttributeError traceback
        (b'{"m": 5}', r"is not an object of tick texts"),
        (b'{"m": "0.000000001"}', r"of 'm': tick size '0.000000001' is finer than one cash"),
    ],
)
def test_tick_sizes_in_parquet_metadata_are_checked(
    tmp_path: Path, stored: bytes, message: str
) -> None:
    table = pa.table(
        {"timestamp": pa.array(pd.date_range("2024-01-01", periods=1)), "close": [1.5]}
    )
    path = tmp_path / "m.parquet"
    pq.write_table(table.replace_schema_metadata({b"scarline.tick_sizes": stored}), path)
    with pytest.raises(
        DataError, match=r"m\.parquet: schema metadata scarline\.tick_sizes " + message
    ):
        read_raw(path)

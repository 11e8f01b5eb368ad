"""ISO timestamps with a zone: ``Z``, ``UTC`` and ``+00:00`` are UTC, other offsets are
converted to UTC (DST's change of offset included), naive stamps stay UTC, and a file mixing
naive and zoned stamps is refused naming the line."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scarline.errors import DataError
from scarline.market.io import load_market, read_raw
from scarline.market.timestamps import ISO_TEXT, ISO_ZONED, parse_timestamps

Write = Callable[[str, str], Path]
MIDNIGHT = pd.Timestamp("2024-01-01", tz="UTC").value
HEADER = "timestamp,symbol,open,high,low,close,volume\n"


@pytest.mark.parametrize(
    "stamp",
    [
        "2024-01-01 00:00:00 UTC",
        "2024-01-01 00:00:00UTC",
        "2024-01-01 UTC",
        "2024-01-01T00:00:00Z",
        "2024-01-01T00:00:00+00:00",
        "2024-01-01T00:00:00-00:00",
        "2024-01-01T02:00:00+02:00",
        "2024-01-01T02:00:00+0200",
        "2023-12-31T18:30:00-05:30",
        "20240101T000000Z",
    ],
)
def test_a_utc_marker_or_offset_reads_as_the_utc_instant(stamp: str) -> None:
    """``... UTC`` was refused ("cannot parse"), though it says the same as ``Z``."""
    time = parse_timestamps(pd.Series([stamp]))
    assert time.ns.tolist() == [MIDNIGHT]
    assert time.encoding == ISO_ZONED


def test_naive_stamps_are_utc_as_before() -> None:
    time = parse_timestamps(pd.Series(["2024-01-01", "2024-01-01 00:00:01", "2024-01-01T00:00:02"]))
    assert time.ns.tolist() == [MIDNIGHT + k * 10**9 for k in range(3)]
    assert time.encoding == ISO_TEXT


@pytest.mark.parametrize(
    "stamps",
    [  # Europe/Berlin: clocks go forward on 2024-03-31 and back on 2024-10-27
        ["2024-03-31T00:00:00+01:00", "2024-03-31T01:00:00+01:00", "2024-03-31T03:00:00+02:00"],
        ["2024-10-27T01:00:00+02:00", "2024-10-27T02:00:00+02:00", "2024-10-27T02:00:00+01:00"],
    ],
    ids=["spring", "autumn"],
)
def test_offsets_that_change_with_dst_give_strictly_increasing_utc(stamps: list[str]) -> None:
    """The autumn file repeats the local hour 02:00: by its offsets, an hour apart."""
    ns = parse_timestamps(pd.Series(stamps)).ns
    assert (ns[1:] - ns[:-1]).tolist() == [3600 * 10**9] * 2


@pytest.mark.parametrize(
    ("rows", "line", "says"),
    [
        (
            ["2024-01-01T00:00:00+01:00", "2024-01-01T01:00:00+01:00", "2024-01-01 02:00:00"],
            4,
            "'2024-01-01 02:00:00' has no UTC marker or offset, but '2024-01-01T00:00:00+01:00'"
            " (first row) has one",
        ),
        (
            ["2024-01-01", "2024-01-02T00:00:00Z"],
            3,
            "'2024-01-02T00:00:00Z' has a UTC marker or offset, but '2024-01-01' (first row) "
            "has none",
        ),
        (
            ["2024-01-01 00:00:00 UTC", "2024-01-02 00:00:00"],
            3,
            "'2024-01-02 00:00:00' has no UTC marker or offset, but '2024-01-01 00:00:00 UTC'",
        ),
    ],
    ids=["offset-then-naive", "naive-then-z", "utc-then-naive"],
)
def test_a_file_mixing_naive_and_zoned_stamps_is_refused_naming_the_line(
    write_text: Write, rows: list[str], line: int, says: str
) -> None:
    """Mixed stamps were read, the naive ones as UTC: an hour off next to ``+01:00``."""
    body = HEADER + "".join(f"{stamp},A,1,1,1,1,1\n" for stamp in rows)
    path = write_text("mixed.csv", body)
    with pytest.raises(DataError) as err:
        read_raw(path)
    assert str(err.value).startswith(f"{path}: line {line}, column 'timestamp': {says}")


@pytest.mark.parametrize("stamp", ["2024-01-02 00:00:00 GMT", "2024-01-02T00:00:00 CET", "soon"])
def test_a_bad_stamp_still_names_the_file_and_line(write_text: Write, stamp: str) -> None:
    path = write_text("bad.csv", f"{HEADER}2024-01-01 UTC,A,1,1,1,1,1\n{stamp},A,1,1,1,1,1\n")
    with pytest.raises(DataError) as err:
        read_raw(path)
    assert str(err.value) == (
        f"{path}: line 3, column 'timestamp': cannot parse {stamp!r} as an ISO 8601 timestamp"
    )


def _bars(stamps: list[str]) -> str:
    rows = [
        f"{stamp},{symbol},{100 + i}.00,{101 + i}.50,{99 + i}.25,{100 + i}.75,{10 * i + 5}\n"
        for i, stamp in enumerate(stamps)
        for symbol in ("A", "B")
    ]
    return HEADER + "".join(rows)


def test_a_file_with_offsets_reads_to_the_bars_of_the_same_file_in_utc(write_text: Write) -> None:
    """Hourly bars across Berlin's spring change, written in UTC, with Z, with UTC, and in
    local time with the offset of the day: one market, the same content hash."""
    instants = pd.date_range("2024-03-30 21:00", periods=6, freq="h", tz="UTC")
    local = instants.tz_convert("Europe/Berlin")
    forms = {
        "naive.csv": instants.strftime("%Y-%m-%d %H:%M:%S"),
        "z.csv": instants.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "word.csv": instants.strftime("%Y-%m-%d %H:%M:%S UTC"),
        "berlin.csv": [t.isoformat() for t in local],  # +01:00, then +02:00 from 01:00 UTC
    }
    assert {t.isoformat()[-6:] for t in local} == {"+01:00", "+02:00"}
    markets = {name: load_market(write_text(name, _bars(list(s)))) for name, s in forms.items()}
    hashes = {market.content_hash() for market in markets.values()}
    assert len(hashes) == 1
    assert markets["berlin.csv"].timestamps.tolist() == instants.as_unit("ns").asi8.tolist()


OFFSETS = st.integers(-12 * 4, 14 * 4).map(lambda q: timedelta(minutes=15 * q))


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2199, 12, 31)),
        min_size=1,
        max_size=6,
    ),
    st.lists(OFFSETS, min_size=6, max_size=6),
)
def test_any_offset_converts_to_the_same_instant(
    instants: list[datetime], offsets: list[timedelta]
) -> None:
    utc = [pd.Timestamp(t, tz="UTC") for t in instants]
    zones = [timezone(off) for off in offsets[: len(utc)]]
    written = [t.tz_convert(zone).isoformat() for t, zone in zip(utc, zones, strict=True)]
    assert parse_timestamps(pd.Series(written)).ns.tolist() == [t.value for t in utc]

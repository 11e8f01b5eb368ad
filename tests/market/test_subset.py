"""A config's dates: ISO 8601, an offset converted to UTC without a warning, and the range
int64 nanoseconds hold."""

from __future__ import annotations

import warnings

import pytest

from scarline.errors import ConfigError
from scarline.market.subset import date_ns, subset, window_ns
from scarline.market.synthetic import SynthSpec, generate


def test_an_offset_is_converted_to_utc_quietly() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert date_ns("2020-01-01T00:00:00+14:00") == date_ns("2019-12-31T10:00:00")


@pytest.mark.parametrize("text", ["0001-01-01", "3000-01-01", "yesterday"])
def test_dates_outside_the_range_or_not_dates_are_named(text: str) -> None:
    with pytest.raises(ValueError, match=repr(text)):
        date_ns(text)


DAY = 86_400 * 10**9


@pytest.mark.parametrize(
    ("end", "last_day"),
    [
        ("2024", "2024-12-31"),  # once only 2024-01-01: the rest of the year was cut
        ("2024-02", "2024-02-29"),
        ("2024-06-30", "2024-06-30"),
        ("20240630", "2024-06-30"),  # once read by numpy as the year 20,240,630
    ],
)
def test_an_end_without_a_time_includes_its_whole_year_month_or_day(
    end: str, last_day: str
) -> None:
    _, last = window_ns(None, end)
    assert last == date_ns(last_day) + DAY - 1


def test_an_end_with_a_time_is_that_instant_and_the_last_day_does_not_overflow() -> None:
    assert window_ns(None, "2024-06-30T10:00")[1] == date_ns("2024-06-30") + 10 * 3600 * 10**9
    assert window_ns(None, "2262-04-10")[1] == date_ns("2262-04-10") + DAY - 1
    assert window_ns(None, "2262")[1] == 2**63 - 1
    assert window_ns("20240101", None)[0] == date_ns("2024-01-01")


def test_a_year_end_keeps_the_rows_of_that_year() -> None:
    market = generate(SynthSpec(n_steps=400, start="2020-01-01"))
    kept = subset(market, "2020", "2020")
    assert kept.timestamps.size == 366  # a leap year of daily bars
    with pytest.raises(ConfigError, match=r"data\.end: cannot parse 'June'"):
        window_ns(None, "June")

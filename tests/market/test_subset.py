"""A config's dates: ISO 8601, an offset converted to UTC without a warning, and the range
int64 nanoseconds hold."""

from __future__ import annotations

import warnings

import pytest

from scarline.market.subset import date_ns


def test_an_offset_is_converted_to_utc_quietly() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert date_ns("2020-01-01T00:00:00+14:00") == date_ns("2019-12-31T10:00:00")


@pytest.mark.parametrize("text", ["0001-01-01", "3000-01-01", "yesterday"])
def test_dates_outside_the_range_or_not_dates_are_named(text: str) -> None:
    with pytest.raises(ValueError, match=repr(text)):
        date_ns(text)

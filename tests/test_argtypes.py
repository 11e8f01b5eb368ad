"""argparse value types: each bad value is a one-line error saying what was expected."""

from __future__ import annotations

import argparse

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scarline.argtypes import (
    correlation,
    correlations,
    finite_floats,
    iso_date,
    non_negative_float,
    non_negative_int,
    non_negative_ints,
    positive_float,
    positive_int,
    positive_ints,
)


@given(st.integers(min_value=1, max_value=10**9))
def test_a_positive_whole_number_reads_back(value: int) -> None:
    assert positive_int(str(value)) == value


@given(st.lists(st.integers(min_value=1, max_value=10**6), min_size=1, max_size=8))
def test_sizes_read_back_sorted(values: list[int]) -> None:
    assert positive_ints(",".join(map(str, values))) == sorted(values)


@pytest.mark.parametrize(
    ("parse", "text", "says"),
    [
        (positive_int, "0", "at least 1"),
        (positive_int, "-3", "at least 1"),
        (positive_int, "2.5", "whole number"),
        (positive_int, "", "whole number"),
        (positive_ints, "8,,16", "comma-separated"),
        (positive_ints, "8,x", "whole number"),
        (positive_float, "0", "above 0"),
        (positive_float, "inf", "finite"),
        (positive_float, "nan", "finite"),
        (non_negative_float, "-0.1", "at least 0"),
        (non_negative_int, "-1", "at least 0"),
        (non_negative_ints, "1,-2", "at least 0"),
        (non_negative_ints, "", "comma-separated"),
        (finite_floats, "1,inf", "finite"),
        (correlation, "1", "between -1 and 1"),
        (correlation, "-1.5", "between -1 and 1"),
        (correlations, "0.1,0.99,1.0", "between -1 and 1"),
        (non_negative_float, "ten", "a number"),
        (iso_date, "2021-13-01", "YYYY-MM-DD"),
        (iso_date, "yesterday", "YYYY-MM-DD"),
        (iso_date, "20210101", "YYYY-MM-DD"),
        (iso_date, "2021-W01-1", "YYYY-MM-DD"),
    ],
)
def test_a_bad_value_says_what_was_expected(parse: object, text: str, says: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=says):
        parse(text)  # type: ignore[operator]


def test_good_values_pass() -> None:
    assert positive_float("0.5") == 0.5
    assert non_negative_float("0") == 0.0
    assert iso_date("2021-01-01") == "2021-01-01"
    assert non_negative_int("0") == 0
    assert non_negative_ints("3, 1,0") == [3, 1, 0]  # seeds: in the order given
    assert finite_floats("-1,0,1") == [-1.0, 0.0, 1.0]
    assert correlations("0.05,-0.2") == [0.05, -0.2]

import builtins
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scarline.instrument import (
    InstrumentSpec,
    floats_to_units,
    infer_decimals,
    price_to_ticks,
    texts_to_units,
    ticks_to_decimal,
)

SPEC = InstrumentSpec(symbol="X", tick_size="0.01")


def test_large_prices_keep_every_digit() -> None:
    # 17 significant digits: float would round this to ...564 or ...568.
    assert float("123456789012345.67") * 100 != 12345678901234567
    assert price_to_ticks("123456789012345.67", SPEC) == 12345678901234567


def test_parsing_never_calls_float(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_float(*args: object) -> float:
        raise AssertionError("float() used while parsing prices")

    monkeypatch.setattr(builtins, "float", no_float)
    assert price_to_ticks("0.30", SPEC) == 30
    assert texts_to_units(np.array(["1.10", "2.25"], dtype=object), Decimal("0.01")).tolist() == [
        110,
        225,
    ]


def test_bad_text_names_the_text() -> None:
    with pytest.raises(ValueError, match="'abc'"):
        price_to_ticks("abc", SPEC)
    with pytest.raises(ValueError, match="finite"):
        price_to_ticks("inf", SPEC)


def test_floats_go_through_their_repr() -> None:
    # arch stores 1229.23 as 1229.22998046875 (float32 origin): it still lands on its tick.
    assert floats_to_units(np.array([1229.22998046875, np.nan]), Decimal("0.01")).tolist() == [
        122923,
        0,
    ]


@given(st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("1e12"), places=4))
def test_text_round_trips_through_ticks(value: Decimal) -> None:
    spec = InstrumentSpec(symbol="X", tick_size="0.0001")
    ticks = price_to_ticks(str(value), spec)
    assert ticks_to_decimal(ticks, spec) == value


def test_infer_decimals() -> None:
    assert infer_decimals(["1.5", "2.25", "3"]) == 2
    assert infer_decimals(["1.123456789012"]) == 8

"""A strategy's parameters are what the run's config records and replay rebuilds it from:
numpy numbers are Python numbers, what the config cannot hold is refused in one line, and a
subclass that skips ``super().__init__`` is told so, not met with an AttributeError."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scarline.agents.strategy import Strategy


class Plain(Strategy):
    def signals(self, data: object) -> object:
        return data


class NoSuper(Strategy):
    def __init__(self, fast: int = 3) -> None:
        self.fast = fast

    def signals(self, data: object) -> object:
        return data


def test_numpy_numbers_are_recorded_as_python_numbers() -> None:
    made = Plain(fast=np.int64(10), level=np.float32(0.5), on=np.bool_(True))
    assert made.params == {"fast": 10, "level": 0.5, "on": True}
    assert [type(v) for v in made.params.values()] == [int, float, bool]
    assert type(made.fast) is int  # the attribute is the recorded value


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (math.nan, r"Plain: parameter 'x' is nan; a parameter must be finite"),
        (-math.inf, r"parameter 'x' is -inf"),
        (np.float64(math.inf), r"parameter 'x' is inf"),
        (2**63, r"parameter 'x' = 9223372036854775808 does not fit in 64 bits"),
    ],
)
def test_values_a_config_cannot_hold_are_refused_naming_them(value: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Plain(x=value)  # type: ignore[arg-type]


def test_params_cannot_be_overwritten_or_skipped() -> None:
    with pytest.raises(TypeError, match=r"parameter name\(s\) params would hide"):
        Plain(params=5)
    made = Plain(fast=3)
    made.params["fast"] = 99  # a copy: the recorded parameters stay
    assert made.params == {"fast": 3} and made.label == "Plain(fast=3)"
    with pytest.raises(TypeError, match=r"NoSuper: its __init__ does not call super\(\)"):
        _ = NoSuper().params
    with pytest.raises(TypeError, match=r"NoSuper: its __init__ does not call super\(\)"):
        _ = NoSuper().label


values = (
    st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
    | st.booleans()
)


@given(st.dictionaries(st.from_regex(r"[a-z][a-z0-9]{0,6}", fullmatch=True), values))
def test_any_recordable_parameters_round_trip(params: dict[str, int | float | str | bool]) -> None:
    """What a strategy records rebuilds the same strategy (replay's contract)."""
    params = {k: v for k, v in params.items() if not hasattr(Strategy, k)}
    made = Plain(**params)
    assert made.params == params
    assert Plain(**made.params).params == params


def test_a_dataclass_strategys_fields_are_its_parameters() -> None:
    """A dataclass's generated ``__init__`` calls no ``super().__init__``: its init fields are
    the parameters (they rebuild it), not an AttributeError."""

    @dataclasses.dataclass
    class Windows(Strategy):
        fast: int = 3
        slow: int = 10
        cache: dict[str, int] = dataclasses.field(default_factory=dict, init=False)

        def signals(self, data: object) -> object:
            return data

    made = Windows(fast=np.int64(5))  # type: ignore[arg-type]
    assert made.params == {"fast": 5, "slow": 10} and made.label == "Windows(fast=5,slow=10)"
    assert Windows(**made.params) == made
    with pytest.raises(TypeError, match=r"Windows: parameter 'fast' must be a number"):
        _ = Windows(fast=[1]).params  # type: ignore[arg-type]


def test_a_parameter_may_not_hide_the_subclasss_own_methods() -> None:
    """``Smooth(window=...)`` was set over the method ``window``: ``self.window(x)`` then
    failed inside ``signals`` as "'int' object is not callable". A class attribute is a
    default a parameter overrides."""

    class Smooth(Strategy):
        fast = 10

        def window(self) -> int:
            return 3

        @property
        def span(self) -> int:
            return 4

        def signals(self, data: object) -> object:
            return data

    assert Smooth(fast=5).fast == 5 and Smooth().fast == 10
    for name in ("window", "span"):
        with pytest.raises(TypeError, match=rf"{name} would hide Smooth's own method"):
            Smooth(**{name: 3})

"""The base of every config model: unknown keys and wrong types are errors; values are frozen.

Every number must be usable: floats are finite (no ``inf``/``nan``, which TOML can spell)
and integers fit in 64 bits (TOML integers are 64-bit, but Python's TOML reader accepts
any size, and numpy and torch would overflow or refuse them later, far from the key).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

INT64_LIMIT = 2**63
"""Integers of a config are in ``[-2**63, 2**63)``."""


def _check_ints(value: Any) -> None:
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        if not -INT64_LIMIT <= value < INT64_LIMIT:
            raise ValueError(f"{value} does not fit in a 64-bit integer (|x| < 2**63)")
    elif isinstance(value, list | tuple):
        for item in value:
            _check_ints(item)
    elif isinstance(value, dict):
        for item in value.values():
            _check_ints(item)


def positive_decimals(value: dict[str, str]) -> dict[str, str]:
    """A ``{symbol: "0.00001"}`` table of tick or lot sizes: each a positive decimal (the
    error names the symbol), kept as text so it becomes units exactly."""
    for symbol, text in value.items():
        try:  # Decimal alone takes "1_000", " 0.1 " and other scripts' digits
            ok = _PLAIN_DECIMAL.fullmatch(text) is not None and Decimal(text) > 0
        except InvalidOperation:
            ok = False
        if not ok:
            raise ValueError(
                f"size {text!r} of {symbol!r} is not a positive decimal (write it like '0.01')"
            )
    return value


UNSIGNED_DECIMAL = r"(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?"
"""A number as files and venues write it (compile with ``re.ASCII``): digits, a point, an
exponent. ``Decimal`` alone also takes ``1_000``, padded text and other scripts' digits
(``١٢``), which no exporter writes: such text is more likely a mistake than a number."""

_PLAIN_DECIMAL = re.compile(UNSIGNED_DECIMAL, re.ASCII)
"""A size: no sign, no spaces, no ``_`` separators."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _int64(cls, value: Any) -> Any:
        _check_ints(value)
        return value

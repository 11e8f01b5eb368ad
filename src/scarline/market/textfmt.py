"""Integers in ticks → exact decimal text, vectorized.

Writing a file must not lose a digit: ``12345`` ticks of ``0.01`` is the text ``"123.45"``,
built with integer arithmetic only. A tick is ``m * 10**e`` (``0.25`` is ``25 * 10**-2``),
so a price is the integer ``ticks * m`` scaled by ``10**e``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

NS_PER_SECOND = 10**9
NS_PER_DAY = 86_400 * NS_PER_SECOND


def _scale(tick: str) -> tuple[int, int]:
    """``"0.25"`` → ``(25, 2)``: integer mantissa and decimal places of a tick size."""
    sign, digits, exponent = Decimal(tick).normalize().as_tuple()
    mantissa = int("".join(map(str, digits)))
    if not isinstance(exponent, int) or sign:
        raise ValueError(f"tick size {tick!r} must be a positive finite decimal")
    if exponent >= 0:
        return mantissa * 10**exponent, 0
    return mantissa, -exponent


def tick_places(tick: str) -> int:
    """Decimal places a price of this tick size is written with (``"0.25"`` → 2)."""
    return _scale(tick)[1]


def units_text(units: np.ndarray, ticks: np.ndarray) -> np.ndarray:
    """Decimal text of ``units[i] * ticks[i]`` with exactly the tick's decimal places."""
    out = np.empty(units.shape, dtype=object)
    for tick in dict.fromkeys(ticks.tolist()):
        rows = ticks == tick
        mantissa, places = _scale(tick)
        scaled = units[rows].astype(np.int64) * mantissa
        magnitude = np.abs(scaled)
        sign = np.where(scaled < 0, "-", "")
        whole = pd.Series(magnitude // 10**places).astype(str).to_numpy(dtype=object)
        if places:
            frac = pd.Series(magnitude % 10**places).astype(str).str.zfill(places)
            whole = whole + "." + frac.to_numpy(dtype=object)
        out[rows] = sign.astype(object) + whole
    return out


def timestamps_text(stamps: np.ndarray) -> np.ndarray:
    """ISO 8601 UTC text: ``2020-01-02`` for whole days, else ``2020-01-02T09:30:00Z``."""
    as_dt: npt.NDArray[np.datetime64] = stamps.astype("datetime64[ns]")
    if np.all(stamps % NS_PER_DAY == 0):
        return np.datetime_as_string(as_dt, unit="D").astype(object)
    unit: Literal["s", "ns"] = "s" if np.all(stamps % NS_PER_SECOND == 0) else "ns"
    return np.datetime_as_string(as_dt, unit=unit).astype(object) + "Z"

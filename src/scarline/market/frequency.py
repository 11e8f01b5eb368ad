"""Bar frequencies as text (``"1d"``, ``"1h"``, ``"5min"``) and as integer nanoseconds.

Frequencies are labels on a market and steps for the synthetic clock; keeping both
directions in one place means a generated file re-imports with the same label. The
annualization factor of a market's bars (:func:`infer_periods_per_year`) is read from its
timestamps here too.
"""

from __future__ import annotations

import re
from typing import Literal

import numpy as np

Calendar = Literal["exchange", "24/7"]
"""When a market trades: ``exchange`` (US equities: 252 days of 6.5 h; daily bars count
trading days) or ``24/7`` (crypto: 365 days of 24 h, e.g. 525 600 one-minute bars a year)."""

_UNITS_NS = {"d": 86_400 * 10**9, "h": 3_600 * 10**9, "min": 60 * 10**9, "s": 10**9}
NS_PER_DAY = _UNITS_NS["d"]
TRADING_DAYS_PER_YEAR = 252.0
_PATTERN = re.compile(r"^\s*(\d+)\s*(d|h|min|s)\s*$")


def frequency_ns(text: str) -> int:
    """``"5min"`` → 300_000_000_000; raises ``ValueError`` naming the text when unknown."""
    match = _PATTERN.match(text.lower())
    if match is None or int(match.group(1)) <= 0:
        raise ValueError(f"unknown frequency {text!r} (use e.g. '1d', '1h', '1min', '30s')")
    return int(match.group(1)) * _UNITS_NS[match.group(2)]


def format_frequency(step_ns: int) -> str:
    """The largest whole unit that writes ``step_ns`` exactly (``86_400e9`` → ``"1d"``)."""
    for unit, size in _UNITS_NS.items():
        if step_ns > 0 and step_ns % size == 0:
            return f"{step_ns // size}{unit}"
    return f"{step_ns}ns"


def infer_frequency(timestamps: np.ndarray) -> str:
    """Label for the median positive step of sorted ``int64`` ns timestamps (``"?"`` if < 2)."""
    steps = np.diff(np.unique(timestamps))
    if steps.size == 0:
        return "?"
    return format_frequency(int(np.median(steps)))


def infer_periods_per_year(timestamps: np.ndarray, session_hours: float = 6.5) -> float:
    """Annualization factor from the median bar step, for Sharpe ratios.

    Daily bars → 252; intraday bars → 252 × ``session_hours`` / step (US equities trade
    6.5 h: 1h → 1638, 1min → 98 280; pass 24 for FX or crypto); bars of two days or more →
    365.25 calendar days / step (weekly → 52.18). Fewer than two timestamps → 252.
    """
    steps = np.diff(np.unique(np.asarray(timestamps, dtype=np.int64)))
    if steps.size == 0:
        return TRADING_DAYS_PER_YEAR
    step = float(np.median(steps))
    if step < NS_PER_DAY:
        return TRADING_DAYS_PER_YEAR * session_hours * 3_600e9 / step
    if step < 2 * NS_PER_DAY:
        return TRADING_DAYS_PER_YEAR
    return 365.25 * NS_PER_DAY / step


def periods_per_year(frequency: str, timestamps: np.ndarray, calendar: Calendar) -> float:
    """Bars a year for Sharpe ratios: ``24/7`` counts 365 days of 24 h of the market's bar
    length (its ``frequency`` label, or the median step when the label is not one), so it is
    the same from a live session's first bar on; ``exchange`` is
    :func:`infer_periods_per_year` of the timestamps."""
    if calendar == "exchange":
        return infer_periods_per_year(timestamps)
    try:
        step = float(frequency_ns(frequency))
    except ValueError:
        steps = np.diff(np.unique(np.asarray(timestamps, dtype=np.int64)))
        if steps.size == 0:
            return 365.0
        step = float(np.median(steps))
    return 365.0 * NS_PER_DAY / step

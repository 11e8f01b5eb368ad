"""Argument types the bench scripts share: a bad value is argparse's one-line error and exit
code 2, never a traceback from deep inside a run (``--agents 0`` once divided by zero).

The scripts run as ``python bench/NAME.py``, so this module is imported by its bare name.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def positive_int(text: str) -> int:
    """A whole number of at least 1 (agents, bars, repeats, workers)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def positive_ints(text: str) -> list[int]:
    """Comma-separated whole numbers of at least 1, e.g. ``256,1024,4096``; sorted."""
    parts = [part.strip() for part in text.split(",")]
    if not all(parts):
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}")
    return sorted(positive_int(part) for part in parts)


def positive_float(text: str) -> float:
    """A finite number above 0 (a request rate)."""
    value = _finite(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be above 0, got {text!r}")
    return value


def non_negative_float(text: str) -> float:
    """A finite number of at least 0 (a tolerance in percent)."""
    value = _finite(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, got {text!r}")
    return value


def iso_date(text: str) -> str:
    """A calendar date as ``YYYY-MM-DD`` (kept as text: the run's config parses it)."""
    try:
        if not _DATE.fullmatch(text):  # fromisoformat alone takes 20210101 and 2021-W01-1
            raise ValueError(text)
        dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from None
    return text


def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value

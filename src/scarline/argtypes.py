"""argparse value types for the scripts in ``bench/`` and ``scripts/``: a bad value is
argparse's one-line error naming the option, and exit code 2, never a traceback from deep
inside a run (``bench/kernel.py --agents 0`` once divided by zero)."""

from __future__ import annotations

import argparse
import datetime as dt
import re
from collections.abc import Callable

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def positive_int(text: str) -> int:
    """A whole number of at least 1 (agents, bars, repeats, workers)."""
    return _whole_at_least(text, 1)


def non_negative_int(text: str) -> int:
    """A whole number of at least 0 (a count that may be none, a seed)."""
    return _whole_at_least(text, 0)


def non_negative_ints(text: str) -> list[int]:
    """Comma-separated whole numbers of at least 0, e.g. seeds ``1,2,3``; in the order given."""
    return [non_negative_int(part) for part in _parts(text)]


def positive_ints(text: str) -> list[int]:
    """Comma-separated whole numbers of at least 1, e.g. ``256,1024,4096``; sorted."""
    return sorted(positive_int(part) for part in _parts(text))


def finite_float(text: str) -> float:
    """Any finite number (a correlation, an exposure)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def finite_floats(text: str) -> list[float]:
    """Comma-separated finite numbers, e.g. exposures ``-1,0,1``; in the order given."""
    return [finite_float(part) for part in _parts(text)]


def correlation(text: str) -> float:
    """A number strictly between -1 and 1 (an information coefficient)."""
    return _finite_where(text, lambda v: -1 < v < 1, "between -1 and 1")


def correlations(text: str) -> list[float]:
    """Comma-separated numbers strictly between -1 and 1; in the order given."""
    return [correlation(part) for part in _parts(text)]


def positive_float(text: str) -> float:
    """A finite number above 0 (a request rate)."""
    return _finite_where(text, lambda v: v > 0, "above 0")


def non_negative_float(text: str) -> float:
    """A finite number of at least 0 (a tolerance in percent)."""
    return _finite_where(text, lambda v: v >= 0, "at least 0")


def _finite_where(text: str, holds: Callable[[float], bool], must_be: str) -> float:
    """:func:`finite_float` of ``text``, refused unless ``holds`` of it."""
    value = finite_float(text)
    if not holds(value):
        raise argparse.ArgumentTypeError(f"must be {must_be}, got {text!r}")
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


def _whole_at_least(text: str, low: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
    return value


def _parts(text: str) -> list[str]:
    parts = [part.strip() for part in text.split(",")]
    if not all(parts):
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}")
    return parts

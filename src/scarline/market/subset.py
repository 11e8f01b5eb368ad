"""Cut a market down to a date range and a list of symbols (from ``[data]`` in the config)."""

from __future__ import annotations

import re
import warnings
from dataclasses import replace

import numpy as np

from scarline.errors import ConfigError
from scarline.market.frame import MarketData, Quotes

FIRST_DATE = np.datetime64("1677-09-22", "D")
LAST_DATE = np.datetime64("2262-04-10", "D")
"""Dates and times of a config are within these days (int64 nanoseconds since 1970)."""
_NS_PER_DAY = 86_400 * 10**9
_LAST_NS = 2**63 - 1
_COMPACT_DATE = re.compile(r"\d{8}")


def date_ns(text: str) -> int:
    """``text`` (an ISO 8601 date or date-time) in ns since 1970; ``ValueError`` naming the
    supported range for year 1 or year 3000 (numpy would silently wrap them around)."""
    return int(_parse(text).astype("datetime64[ns]").astype(np.int64))


def _parse(text: str) -> np.datetime64:
    """``text`` as numpy reads ISO 8601, in the unit it was written to (a year, a month, a
    day, a second …); a compact date (``20240101``, as files may write it) is a day."""
    stripped = text.strip()
    if _COMPACT_DATE.fullmatch(stripped):  # numpy would read it as the year 20,240,101
        stripped = f"{stripped[:4]}-{stripped[4:6]}-{stripped[6:]}"
    try:
        with warnings.catch_warnings():  # an offset ("+14:00") converts to UTC, as meant
            warnings.filterwarnings("ignore", "no explicit representation of timezones")
            value = np.datetime64(stripped)
    except ValueError:
        raise ValueError(f"cannot parse {text!r} as an ISO 8601 date") from None
    if np.isnat(value):
        raise ValueError(f"cannot parse {text!r} as an ISO 8601 date")
    if not FIRST_DATE <= value.astype("datetime64[D]") <= LAST_DATE:
        raise ValueError(
            f"{text!r} is outside the supported range {FIRST_DATE} .. {LAST_DATE} "
            "(int64 nanoseconds since 1970)"
        )
    return value


def end_ns(text: str) -> int:
    """The last ns an inclusive ``end`` covers: a year, a month or a day written without a
    time (``"2024"``, ``"2024-06"``, ``"2024-06-30"``) includes all of it; a time is itself."""
    value = _parse(text)
    if np.datetime_data(value.dtype)[0] not in ("Y", "M", "W", "D"):
        return int(value.astype("datetime64[ns]").astype(np.int64))
    next_day = int((value + 1).astype("datetime64[D]").astype(np.int64))  # Python int: no wrap
    return min(next_day * _NS_PER_DAY - 1, _LAST_NS)


def _ns(date: str, field: str) -> int:
    try:
        return date_ns(date)
    except ValueError as err:
        raise ConfigError(f"data.{field}: {err}") from None


def window_ns(start: str | None, end: str | None) -> tuple[int | None, int | None]:
    """``[start, end]`` in ns, inclusive (a date ``end`` includes its whole day); None: open."""
    first = None if start is None else _ns(start, "start")
    last = None
    if end is not None:
        try:
            last = end_ns(end)
        except ValueError as err:
            raise ConfigError(f"data.end: {err}") from None
    return first, last


def subset(
    market: MarketData,
    start: str | None = None,
    end: str | None = None,
    symbols: list[str] | None = None,
) -> MarketData:
    """Rows in ``[start, end]`` (a date ``end`` includes its whole day) and the named symbols."""
    ts = market.timestamps
    first, last = window_ns(start, end)
    lo = 0 if first is None else int(np.searchsorted(ts, first, "left"))
    hi = len(ts) if last is None else int(np.searchsorted(ts, last, "right"))
    if hi <= lo:
        raise ConfigError(f"data: no rows of {market.name!r} between {start} and {end}")
    out = market.slice(lo, hi)
    if symbols is None:
        return out
    known = out.symbols
    missing = [s for s in symbols if s not in known]
    if missing:
        raise ConfigError(f"data.symbols: {missing} not in {market.name!r} (has {known})")
    cols = np.array([known.index(s) for s in symbols])
    q = out.quotes
    return replace(
        out,
        instruments=tuple(out.instruments[i] for i in cols),
        open=out.open[:, cols],
        high=out.high[:, cols],
        low=out.low[:, cols],
        close=out.close[:, cols],
        volume=out.volume[:, cols],
        valid=out.valid[:, cols],
        exog=out.exog[:, cols],
        quotes=None
        if q is None
        else Quotes(q.bid[:, cols], q.ask[:, cols], q.bid_size[:, cols], q.ask_size[:, cols]),
    )

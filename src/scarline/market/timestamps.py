"""A time column → ``int64`` ns UTC, and how it was written (stated, never guessed silently).

Files name their time column ``timestamp``, ``date`` (Freqtrade), ``datetime`` or ``time``
and write it as ISO 8601 text (naive = UTC; a ``Z``, ``UTC`` or ``+00:00`` marker is UTC,
another offset is converted to UTC, and a column mixing naive and marked stamps is refused:
its naive ones would be a guess), as a datetime column (Parquet, Feather; naive = UTC) or as
epoch numbers (ccxt's milliseconds, seconds, microseconds, nanoseconds). An epoch column's
unit is detected from the magnitude of its values: a unit is taken when it puts every value
between :data:`PLAUSIBLE_FIRST` and :data:`PLAUSIBLE_END`. Those bands do not overlap
between units (1971 in ms is after 2200 in s), so at most one unit fits a value; a value no
unit fits, or a column whose values fit different units, is refused with the value named.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np
import pandas as pd

from scarline.market.parse import CellError

FIRST_TIMESTAMP = pd.Timestamp("1677-09-22", tz="UTC")
LAST_TIMESTAMP = pd.Timestamp("2262-04-10 23:59:59.999999999", tz="UTC")
SUPPORTED_RANGE = "1677-09-22 .. 2262-04-10"
"""Timestamps are int64 nanoseconds since 1970 (UTC): whole days of that range only."""

PLAUSIBLE_FIRST = pd.Timestamp("1971-01-01", tz="UTC")
PLAUSIBLE_END = pd.Timestamp("2200-01-01", tz="UTC")
"""Epoch numbers are read only as dates in ``[1971-01-01, 2200-01-01)``: wide enough for
market data, narrow enough that the seconds, ms, µs and ns bands are disjoint."""

EPOCH_UNITS: tuple[tuple[str, int], ...] = (
    ("seconds", 10**9),
    ("milliseconds", 10**6),
    ("microseconds", 10**3),
    ("nanoseconds", 1),
)
"""Epoch units and their nanoseconds, coarsest first."""

ISO_TEXT = "ISO 8601 text"
ISO_ZONED = "ISO 8601 text with UTC offsets (converted to UTC)"
DATES = "dates (midnight UTC)"
_UTC_WORD = r"\s*UTC$"
"""``2024-01-01 00:00:00 UTC``: the zone spelled out, the same instant as ``Z``."""
_OFFSET = re.compile(r"[+-]\d{2}(:?\d{2})?$", re.ASCII)
"""A ``±hh[:mm]`` offset at the end of a stamp that has a time of day (a date alone has
none: the ``-01`` of ``2024-01-01`` is its day)."""
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", re.ASCII)
_INTEGER = re.compile(r"[+-]?\d{1,18}", re.ASCII)
"""Fits int64 (at most 18 digits); longer integers take the exact ``Decimal`` path."""
_FIRST_NS = int(PLAUSIBLE_FIRST.value)
_END_NS = int(PLAUSIBLE_END.value)


@dataclass(frozen=True, eq=False)
class TimeColumn:
    """``ns``: ``int64[n]`` ns UTC; ``encoding``: how the column was written, for people
    (``"epoch milliseconds"``, ``"ISO 8601 text"``, ``"UTC datetimes"`` …)."""

    ns: np.ndarray
    encoding: str


def parse_timestamps(series: pd.Series) -> TimeColumn:
    """Read a time column of any source type; :class:`CellError` at the first bad cell."""
    dtype = series.dtype
    if isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(dtype):
        return _datetimes(series)
    if pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_float_dtype(dtype):
        return _numeric_epoch(series)
    if pd.api.types.infer_dtype(series, skipna=False) == "date":  # Arrow date32/date64
        return TimeColumn(_datetimes(pd.to_datetime(series)).ns, DATES)
    texts = series.astype(object).where(series.notna(), "").astype(str).str.strip()
    present = texts != ""
    first = texts[present].iloc[0] if present.any() else ""
    if _NUMBER.fullmatch(first) and texts[present].str.fullmatch(_NUMBER).all():
        try:
            return _text_epoch(texts)
        except CellError:
            iso = pd.to_datetime(texts, utc=True, format="ISO8601", errors="coerce")
            if iso.notna().all():  # compact ISO dates (20200102) are digits too
                return TimeColumn(_in_range(iso, series), ISO_TEXT)
            raise
    return _iso_text(texts, series)


def _iso_text(texts: pd.Series, series: pd.Series) -> TimeColumn:
    """ISO 8601 text to ns UTC: naive stamps are UTC; ``UTC`` is read as ``Z``; an offset
    (``+02:00``, or DST's ``+01:00`` then ``+02:00``) is converted. A column mixing naive and
    marked stamps is refused at the first stamp unlike the first row's: a naive stamp read
    as UTC next to ``+02:00`` ones is most likely two hours off."""
    word = texts.str.endswith("UTC").to_numpy(dtype=bool)
    stamps = texts.str.replace(_UTC_WORD, "", regex=True) if word.any() else texts
    parsed = pd.to_datetime(stamps, utc=True, format="ISO8601", errors="coerce")
    bad = parsed.isna().to_numpy()
    if bad.any():
        i = int(np.argmax(bad))
        raise CellError(i, f"cannot parse {texts.iloc[i]!r} as an ISO 8601 timestamp")
    zoned = word | _zoned(stamps)
    unlike = zoned != (zoned[0] if zoned.size else False)
    if unlike.any():
        i = int(np.argmax(unlike))
        has, first_has = ("has a", "has none") if zoned[i] else ("has no", "has one")
        raise CellError(
            i,
            f"{texts.iloc[i]!r} {has} UTC marker or offset, but {texts.iloc[0]!r} (first "
            f"row) {first_has}: a file's timestamps are all naive (read as UTC) or all "
            "carry a zone; write Z, UTC or an offset on every row, or on none",
        )
    return TimeColumn(_in_range(parsed, series), ISO_ZONED if zoned.any() else ISO_TEXT)


def _zoned(stamps: pd.Series) -> np.ndarray:
    """``bool[n]``: the stamp ends in ``Z``, or in an offset after a time of day. The tails
    are few (one per time of day at most), so the pattern runs on each distinct one."""
    codes, tails = pd.factorize(stamps.str.slice(-6))
    offset = np.array([bool(_OFFSET.search(str(t))) for t in tails], dtype=bool)
    ends_z = stamps.str.endswith("Z").to_numpy(dtype=bool)
    if not offset.any():
        return ends_z
    timed = stamps.str.contains("T", regex=False) | stamps.str.contains(" ", regex=False)
    return ends_z | (offset[codes] & timed.to_numpy(dtype=bool))


def _datetimes(series: pd.Series) -> TimeColumn:
    bad = series.isna().to_numpy()
    if bad.any():
        raise CellError(int(np.argmax(bad)), "missing timestamp")
    zone = getattr(series.dtype, "tz", None)
    if zone is None:
        encoding = "naive datetimes (read as UTC)"
    elif str(zone) == "UTC":
        encoding = "UTC datetimes"
    else:
        encoding = f"{zone} datetimes (converted to UTC)"
    return TimeColumn(_in_range(pd.to_datetime(series, utc=True), series), encoding)


def _in_range(parsed: pd.Series, series: pd.Series) -> np.ndarray:
    outside = ((parsed < FIRST_TIMESTAMP) | (parsed > LAST_TIMESTAMP)).to_numpy()
    if outside.any():
        i = int(np.argmax(outside))
        raise CellError(
            i,
            f"timestamp {str(series.iloc[i]).strip()!r} is outside the supported range "
            f"{SUPPORTED_RANGE} (int64 nanoseconds since 1970)",
        )
    return np.asarray(parsed.dt.as_unit("ns").astype("int64").to_numpy(), dtype=np.int64)


def epoch_unit_codes(values: np.ndarray) -> np.ndarray:
    """``int[n]``: the index in :data:`EPOCH_UNITS` of the unit each value is plausible in,
    -1 where none is."""
    out = np.full(values.shape, -1, dtype=np.int64)
    for k, (_, ns) in enumerate(EPOCH_UNITS):
        lo, hi = -(-_FIRST_NS // ns), -(-_END_NS // ns)  # v*ns in [first, end)
        out[(values >= lo) & (values < hi)] = k
    return out


def _unit(values: np.ndarray, show: Callable[[int], str]) -> int:
    """The one unit every value fits; ``CellError`` naming a value (``show(i)``) otherwise."""
    codes = epoch_unit_codes(values)
    if (codes < 0).any():
        i = int(np.argmax(codes < 0))
        raise CellError(
            i,
            f"{show(i)!r} is not a plausible epoch time: as seconds, milliseconds, "
            f"microseconds or nanoseconds it is not between {PLAUSIBLE_FIRST.date()} and "
            f"{PLAUSIBLE_END.date()} (write other dates as ISO 8601 text)",
        )
    first = int(codes[0])
    mixed = codes != first
    if mixed.any():
        i = int(np.argmax(mixed))
        raise CellError(
            i,
            f"ambiguous epoch unit: {show(i)!r} is epoch {EPOCH_UNITS[int(codes[i])][0]} "
            f"but {show(0)!r} (first row) is epoch {EPOCH_UNITS[first][0]}",
        )
    return first


def _numeric_epoch(series: pd.Series) -> TimeColumn:
    bad = series.isna().to_numpy()
    if bad.any():
        raise CellError(int(np.argmax(bad)), "missing timestamp")
    if pd.api.types.is_integer_dtype(series.dtype):
        unsigned = pd.api.types.is_unsigned_integer_dtype(series.dtype)
        ints = series.to_numpy(dtype=np.uint64 if unsigned else np.int64)
        k = _unit(ints, lambda i: str(ints[i]))  # bounded below 2200: int64 ns cannot overflow
        ns = ints.astype(np.int64) * EPOCH_UNITS[k][1]
        return TimeColumn(ns, f"epoch {EPOCH_UNITS[k][0]}")
    floats = series.to_numpy(dtype=np.float64)
    finite = np.isfinite(floats)
    if not finite.all():
        i = int(np.argmax(~finite))
        raise CellError(i, f"cannot parse {floats[i]!r} as a timestamp")
    k = _unit(floats, lambda i: repr(float(floats[i])))
    name, scale = EPOCH_UNITS[k]
    if (floats == np.floor(floats)).all():
        return TimeColumn(floats.astype(np.int64) * scale, f"epoch {name}")
    return TimeColumn(_decimal_ns([repr(float(v)) for v in floats], scale), f"epoch {name}")


def _text_epoch(texts: pd.Series) -> TimeColumn:
    empty = (texts == "").to_numpy()
    if empty.any():
        raise CellError(int(np.argmax(empty)), "cannot parse '' as a timestamp")
    codes, uniques = pd.factorize(texts, sort=False)
    distinct = pd.Series(uniques, dtype=texts.dtype)

    def show(i: int) -> str:
        return str(distinct.iloc[codes[i]])

    if distinct.str.fullmatch(_INTEGER).all():  # the common case, vectorized
        ints = distinct.astype(np.int64).to_numpy()
        k = _unit(ints[codes], show)
        ns = ints * EPOCH_UNITS[k][1]
    else:
        texts_list = [str(t) for t in distinct]
        approx = np.array([float(Decimal(t)) for t in texts_list], dtype=np.float64)
        k = _unit(approx[codes], show)
        ns = _decimal_ns(texts_list, EPOCH_UNITS[k][1])
    return TimeColumn(ns[codes], f"epoch {EPOCH_UNITS[k][0]}")


def _decimal_ns(texts: list[str], scale: int) -> np.ndarray:
    """Exact ns of decimal texts in a unit of ``scale`` ns (half-even below one ns)."""
    out = np.empty(len(texts), dtype=np.int64)
    for i, text in enumerate(texts):
        value = Decimal(text) * scale
        out[i] = int(value.to_integral_value(rounding=ROUND_HALF_EVEN))
    return out

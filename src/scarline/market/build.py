"""A canonical long DataFrame → :class:`RawTable` (shared by file import and datasets).

The frame's columns are already canonical lower-case names (``timestamp``, ``symbol``,
``open`` … ``volume``, ``bid`` … ``ask_size``, anything else numeric is exogenous). Every
problem a user can fix becomes one :class:`DataError` line naming the source, the line (or
row) and the column.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation

import numpy as np
import pandas as pd

from scarline.errors import DataError
from scarline.instrument import tick_for_decimals
from scarline.market.parse import CellError, Cells, column_cells
from scarline.market.raw import (
    PRICE_COLUMNS,
    QUOTE_PRICE_COLUMNS,
    QUOTE_SIZE_COLUMNS,
    RawTable,
)
from scarline.market.timestamps import parse_timestamps

RESERVED = frozenset(
    {"timestamp", "symbol", *PRICE_COLUMNS, "volume", *QUOTE_PRICE_COLUMNS, *QUOTE_SIZE_COLUMNS}
)
MAX_DECIMALS = 8
"""The finest inferred tick, 10⁻⁸: one cash unit (``execution.types.CASH_SCALE``) per lot of
one. Prices written as text with more decimal places need a ``data.tick_size`` (written
digits are never rounded silently); floats (no written precision: ``0.1 + 0.2`` is
``0.30000000000000004``) are rounded at it, unless that moves one by more than
:data:`FLOAT_ROUNDING_LIMIT`."""

FLOAT_ROUNDING_LIMIT = 1e-4
"""The most a float price may move, relative to itself, when rounded to its symbol's tick
(one basis point, a tenth of a typical fee): a float's last digits are noise, but a 3.3e-8
price at the finest tick (10⁻⁸) would become 3e-8, a tenth off. Such prices are refused."""


def raw_from_frame(
    frame: pd.DataFrame,
    *,
    source: str,
    tick_size: str | dict[str, str] | None = None,
    default_symbol: str = "ASSET",
    rows: np.ndarray | None = None,
    lines: np.ndarray | None = None,
    lot_sizes: Mapping[str, str] | None = None,
    time_column: str = "timestamp",
) -> RawTable:
    """Convert ``frame`` exactly; ``tick_size`` None infers it per symbol from the price text;
    ``lot_sizes`` (by symbol, default one unit) is what volumes are counted in;
    ``time_column`` is the source's name of ``timestamp`` (named in errors and the meta, with
    the detected encoding: ``meta["timestamps"]``)."""
    n = len(frame)
    rows = np.arange(1, n + 1, dtype=np.int64) if rows is None else np.asarray(rows, np.int64)

    def where(i: int) -> str:
        return f"line {int(lines[i])}" if lines is not None else f"row {int(rows[i])}"

    def fail(i: int, column: str, message: str) -> DataError:
        return DataError(f"{source}: {where(i)}, column '{column}': {message}")

    columns = set(frame.columns)
    has_ohlc = bool(columns & {"open", "high", "low"})
    needed = list(PRICE_COLUMNS) if has_ohlc else []
    if columns & {*QUOTE_PRICE_COLUMNS, *QUOTE_SIZE_COLUMNS}:
        needed += QUOTE_PRICE_COLUMNS
    for col in ("timestamp", "close", *needed):
        if col not in columns:
            have = ", ".join(map(str, frame.columns)) or "none"
            raise DataError(f"{source}: missing required column '{col}' (columns: {have})")
    if n == 0:
        raise DataError(f"{source}: no data rows")

    try:
        time = parse_timestamps(frame["timestamp"])
    except CellError as err:
        raise fail(err.index, time_column, str(err)) from None
    codes, symbols = _symbols(frame, default_symbol, fail)

    price_cols = [c for c in (*PRICE_COLUMNS, *QUOTE_PRICE_COLUMNS) if c in columns]
    size_cols = [c for c in ("volume", *QUOTE_SIZE_COLUMNS) if c in columns]
    cells: dict[str, Cells] = {}
    for col in (*price_cols, *size_cols):
        try:
            cells[col] = column_cells(frame[col])
        except CellError as err:
            raise fail(err.index, col, str(err)) from None

    ticks = _tick_sizes(tick_size, symbols, codes, [cells[c] for c in price_cols], source)
    for tick in dict.fromkeys(ticks):
        if not _positive_decimal(tick):
            raise DataError(f"{source}: tick size {tick!r} is not a positive decimal")
    prices = {c: _units_by_tick(cells[c], ticks, codes, fail, c) for c in price_cols}
    named = [isinstance(tick_size, str) or (tick_size or {}).get(s) is not None for s in symbols]
    for col in price_cols:  # an inferred tick may not round a float far; a named one may
        _check_float_rounding(cells[col], prices[col], ticks, named, codes, symbols, fail, col)
    lots = tuple((lot_sizes or {}).get(s, "1") for s in symbols)
    for symbol, lot in zip(symbols, lots, strict=True):
        if not _positive_decimal(lot):
            raise DataError(f"{source}: lot size {lot!r} of {symbol!r} is not a positive decimal")
    sizes = {c: _units_by_tick(cells[c], lots, codes, fail, c) for c in size_cols}
    exog, ignored = _exog(frame)
    meta = {"timestamps": time.encoding, "time_column": time_column}
    if ignored:
        meta["ignored_columns"] = ",".join(ignored)
    return RawTable(
        source=source,
        timestamps=time.ns,
        symbol_codes=codes,
        symbols=symbols,
        tick_sizes=ticks,
        prices=prices,
        sizes=sizes,
        missing={c: cells[c].missing for c in (*price_cols, *size_cols)},
        exog=exog,
        rows=rows,
        lines=lines,
        has_ohlc=has_ohlc,
        has_volume="volume" in columns,
        meta=meta,
        lot_sizes=lots if lot_sizes else (),
    )


def _symbols(
    frame: pd.DataFrame, default: str, fail: Callable[[int, str, str], DataError]
) -> tuple[np.ndarray, tuple[str, ...]]:
    if "symbol" not in frame.columns:
        return np.zeros(len(frame), dtype=np.int64), (default,)
    names = frame["symbol"].astype(object).where(frame["symbol"].notna(), "").astype(str)
    names = names.str.strip()
    empty = (names == "").to_numpy()
    if empty.any():
        raise fail(int(np.argmax(empty)), "symbol", "empty symbol")
    codes, uniques = pd.factorize(names, sort=False)
    return codes.astype(np.int64), tuple(str(u) for u in uniques)


def _tick_sizes(
    given: str | dict[str, str] | None,
    symbols: tuple[str, ...],
    codes: np.ndarray,
    price_cells: list[Cells],
    source: str,
) -> tuple[str, ...]:
    if isinstance(given, str):
        return (given,) * len(symbols)
    places = np.zeros(len(symbols), dtype=np.int64)
    written = np.zeros(len(symbols), dtype=np.int64)  # of text cells: what the file says
    for cells in price_cells:
        found = cells.decimals(codes, len(symbols), cap=64)
        places = np.maximum(places, np.minimum(found, MAX_DECIMALS))
        if cells.floats is None:
            written = np.maximum(written, found)
    for symbol, p in zip(symbols, written.tolist(), strict=True):
        named = isinstance(given, dict) and symbol in given
        if p > MAX_DECIMALS and not named:  # a tick that fine is finer than one cash unit
            raise DataError(
                f"{source}: prices of {symbol!r} are written with {p} decimal places, finer "
                f"than one cash unit (at most {MAX_DECIMALS}): set data.tick_size to the tick "
                "they trade in (written digits are never rounded silently)"
            )
    return tuple(
        given[s] if isinstance(given, dict) and s in given else tick_for_decimals(int(p))
        for s, p in zip(symbols, places, strict=True)
    )


def _positive_decimal(text: str) -> bool:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return False
    return value.is_finite() and value > 0


def _units_by_tick(
    cells: Cells,
    ticks: tuple[str, ...],
    codes: np.ndarray,
    fail: Callable[[int, str, str], DataError],
    column: str,
) -> np.ndarray:
    out = np.zeros(codes.shape, dtype=np.int64)
    for tick in dict.fromkeys(ticks):
        rows = np.isin(codes, [k for k, t in enumerate(ticks) if t == tick])
        try:
            units = cells.to_units(Decimal(tick))
        except OverflowError:
            i = _first_too_large(cells, Decimal(tick))
            raise fail(
                i,
                column,
                f"{cells.texts[int(cells.codes[i])]} is too large to count in units of {tick} "
                "(int64)",
            ) from None
        out[rows] = units[rows]
    return out


def _first_too_large(cells: Cells, unit: Decimal) -> int:
    """The first row whose value, in ``unit``s, does not fit int64 (for the error message)."""
    limit = Decimal(2**63 - 1) * unit
    too_large = [abs(Decimal(t)) > limit for t in cells.texts]
    bad = np.array([*too_large, False], dtype=bool)[cells.codes]  # code -1: missing
    return int(np.argmax(bad))


def _check_float_rounding(
    cells: Cells,
    units: np.ndarray,
    ticks: tuple[str, ...],
    named: list[bool],
    codes: np.ndarray,
    symbols: tuple[str, ...],
    fail: Callable[[int, str, str], DataError],
    column: str,
) -> None:
    """Refuse float prices their inferred tick moves by more than
    :data:`FLOAT_ROUNDING_LIMIT` (a tick the user ``named`` rounds as asked)."""
    if cells.floats is None or all(named):
        return
    rows = np.flatnonzero((cells.codes >= 0) & ~np.asarray(named, dtype=bool)[codes])
    value = cells.floats[cells.codes[rows]]
    tick = np.array([float(Decimal(t)) for t in ticks])[codes[rows]]
    moved = np.abs(units[rows] * tick - value) > FLOAT_ROUNDING_LIMIT * np.abs(value)
    if not moved.any():
        return
    k = int(np.argmax(moved))
    i = int(rows[k])
    symbol, symbol_tick = symbols[int(codes[i])], ticks[int(codes[i])]
    rounded = Decimal(int(units[i])) * Decimal(symbol_tick)
    raise fail(
        i,
        column,
        f"the price {float(value[k])!r} of {symbol!r} is too small for its tick {symbol_tick} "
        f"(it would be rounded to {rounded:f}): prices are held in whole ticks and "
        "the finest is 0.00000001: quote the instrument in a larger unit (e.g. per 1,000 "
        "tokens), or name the tick to round to with data.tick_size",
    )


def _exog(frame: pd.DataFrame) -> tuple[dict[str, np.ndarray], list[str]]:
    """Further numeric columns as float64 (features); non-numeric ones are ignored."""
    exog: dict[str, np.ndarray] = {}
    ignored: list[str] = []
    for col in frame.columns:
        if col in RESERVED:
            continue
        series = frame[col]
        if pd.api.types.is_numeric_dtype(series.dtype):
            exog[str(col)] = series.to_numpy(dtype=np.float64, na_value=np.nan)
            continue
        text = series.astype(object).where(series.notna(), "").astype(str).str.strip()
        blank = (text == "") | text.str.lower().isin(["nan", "na", "n/a", "null", "none"])
        values = pd.to_numeric(text.where(~blank, "nan"), errors="coerce")
        if (values.notna() | blank).all() and not blank.all():
            exog[str(col)] = values.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            ignored.append(str(col))
    return exog, ignored

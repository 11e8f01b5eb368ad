"""A DataFrame a user hands to ``backtest`` becomes a source file the run can name.

A run must be able to re-read its input (replay, the gates' G0), so a DataFrame is written as
a long Parquet file (``timestamp``, ``symbol`` and the frame's own columns), named by the
sha256 of its bytes under ``<out_dir>/inputs/`` (the same data is written once). The values
go in as they are: the file loader then reads the frame exactly as it reads a user's own
file (:mod:`scarline.market.io`): epoch numbers by their magnitude, ``date``/``ticker``
aliases, quotes and further numeric columns as features, prices to ticks without rounding
what was written. (An earlier CSV form wrote times to the second and prices to 8 decimals:
epoch milliseconds became dates in 1970 and a 3.3e-8 price became 3e-8.)

Accepted shapes: long (a ``symbol`` or ``ticker`` column, or a (time, symbol) row index), wide
(columns ``(field, symbol)`` or ``(symbol, field)``,
as ``data`` is in ``Strategy.signals``), or one symbol's columns; the time is the index or a
``timestamp``/``date``/``datetime``/``time`` column.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from scarline.errors import DataError
from scarline.safe_write import replace_file

TIME_NAMES = ("timestamp", "date", "datetime", "time")
SYMBOL_NAMES = ("symbol", "ticker")


def _named(name: object, names: tuple[str, ...]) -> bool:
    return str(name).strip().lower() in names


def _is_time_index(index: pd.Index) -> bool:
    """An index of times: datetimes, periods, dates (``datetime.date`` objects) or one named
    as a time column (``read_csv(index_col="Date")`` leaves its ISO text as it is)."""
    if isinstance(index, pd.DatetimeIndex | pd.PeriodIndex) or _named(index.name, TIME_NAMES):
        return True
    return pd.api.types.infer_dtype(index, skipna=False) in ("date", "datetime", "datetime64")


def _time_values(index: pd.Index) -> pd.Index:
    """A time index as the loader reads it: a period is its first instant."""
    return index.to_timestamp() if isinstance(index, pd.PeriodIndex) else index


def _with_time(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its time as a column: one of its columns, else its index (levels of a
    (time, symbol) MultiIndex become columns, as ``df.set_index(["date", "ticker"])``)."""
    if any(_named(c, TIME_NAMES) for c in frame.columns):
        return frame
    if isinstance(frame.index, pd.MultiIndex):
        return _from_row_levels(frame)
    if _is_time_index(frame.index):
        return (
            frame.set_axis(_time_values(frame.index), axis=0).rename_axis("timestamp").reset_index()
        )
    raise DataError("data: no time (a DatetimeIndex or a timestamp/date/datetime/time column)")


def _from_row_levels(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame indexed by (time, symbol) in either order, the levels named or not."""
    index = frame.index
    assert isinstance(index, pd.MultiIndex)
    times = [k for k in range(index.nlevels) if _is_time_index(index.get_level_values(k))]
    if index.nlevels != 2 or len(times) != 1:
        raise DataError(
            "data: a MultiIndex of rows must be (time, symbol) "
            f"(levels: {', '.join(str(n) for n in index.names)})"
        )
    names = ["symbol", "symbol"]
    names[times[0]] = "timestamp"
    taken = [c for c in frame.columns if _named(c, (*TIME_NAMES, *SYMBOL_NAMES))]
    if taken:
        raise DataError(
            f"data: the rows are indexed by (time, symbol) and a column is named {taken[0]!r} too"
        )
    levels = [_time_values(index.get_level_values(k)) for k in range(2)]
    flat = frame.set_axis(pd.MultiIndex.from_arrays(levels, names=names), axis=0)
    return flat.reset_index()


def _field_first(data: pd.DataFrame) -> pd.DataFrame:
    """Columns (field, symbol): as they are, or swapped from (symbol, field) (yfinance's
    ``group_by="ticker"``), told apart by the level that holds ``close``."""
    columns = data.columns
    assert isinstance(columns, pd.MultiIndex)
    has_close = [
        any(_named(v, ("close",)) for v in columns.get_level_values(k).unique()) for k in (0, 1)
    ]
    if has_close == [False, True]:
        return data.swaplevel(axis=1)
    return data


def _as_pandas(data: object) -> pd.DataFrame:
    """``data`` as a pandas DataFrame: itself, or what its ``to_pandas()`` gives (a polars
    DataFrame, a pyarrow Table); a :class:`DataError` naming the type otherwise."""
    if isinstance(data, pd.DataFrame):
        return data
    kind = f"{type(data).__name__} ({type(data).__module__})"
    convert = getattr(data, "to_pandas", None)
    if callable(convert) and not isinstance(data, pd.Series | pd.Index):
        try:
            frame = convert()
        except Exception as err:  # a third-party type: whatever it raises, say which
            raise DataError(f"data: cannot convert the {kind} to pandas ({err})") from None
        if isinstance(frame, pd.DataFrame):
            return frame
    raise DataError(f"data: expected a DataFrame, a file path or a dataset name, not {kind}")


def long_frame(data: object, symbol: str = "ASSET") -> pd.DataFrame:
    """``data`` in long format: a time column, a symbol column and the frame's own columns
    (names stripped and lower-cased), values as they were; text where a column held Python
    objects, so the loader reads each cell's digits."""
    return _long(_as_pandas(data), symbol)


def _long(data: pd.DataFrame, symbol: str) -> pd.DataFrame:
    if isinstance(data.columns, pd.MultiIndex):
        if data.columns.nlevels != 2:
            raise DataError("data: MultiIndex columns must be (field, symbol)")
        if not _is_time_index(data.index) or isinstance(data.index, pd.MultiIndex):
            raise DataError("data: (field, symbol) columns need the time as a DatetimeIndex")
        data = _field_first(data.set_axis(_time_values(data.index), axis=0))
        stacked = data.stack(level=1, future_stack=True)
        stacked.index = stacked.index.set_names(["timestamp", "symbol"])
        out = stacked.reset_index()
        closes = [c for c in out.columns if str(c).strip().lower() == "close"]
        out = out.dropna(subset=closes)  # a symbol's rows before it listed, or after
    else:
        out = _with_time(data)
        if not {str(c).strip().lower() for c in out.columns} & set(SYMBOL_NAMES):
            out = out.assign(symbol=symbol)
    names = [str(c).strip().lower() for c in out.columns]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise DataError(f"data: columns {repeated} appear more than once (names ignore case)")
    out = out.set_axis(names, axis=1)
    if "close" not in names:
        raise DataError(f"data: no close column (columns: {', '.join(names)})")
    for name in names:
        column = out[name]
        if column.dtype == object:  # mixed or Python values: their text, missing stays missing
            out[name] = column.astype(str).where(column.notna(), None)
    return out.reset_index(drop=True)


def frame_source(data: object, out_dir: Path, symbol: str = "ASSET") -> Path:
    """Write ``data`` as a long Parquet file under ``out_dir/inputs`` (named by content); its
    absolute path, so the run names it from any working directory."""
    frame = long_frame(data, symbol)
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowException, ValueError, TypeError) as err:
        raise DataError(f"data: cannot store the DataFrame ({err})") from None
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    raw = sink.getvalue().to_pybytes()
    path = (out_dir / "inputs" / f"frame-{hashlib.sha256(raw).hexdigest()[:16]}.parquet").resolve()
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        replace_file(path, raw)
    return path

"""CSV, Parquet and Feather market files: read them exactly, write them back exactly.

Canonical columns are ``timestamp, [symbol,] open, high, low, close, volume`` (names are
case-insensitive, ``date``/``datetime``/``time`` are accepted for ``timestamp``, so
Freqtrade's and ccxt's files read as they are); close-only files are allowed, ``bid, ask,
bid_size, ask_size`` become L1 quotes and any further numeric column is kept as an exogenous
feature. CSV cells are read as text and become ticks through ``Decimal``. What was detected
(format, timestamp encoding, where the symbol came from) is in the rows' ``meta``.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq

from scarline.errors import DataError
from scarline.instrument import check_tick_size
from scarline.market.build import raw_from_frame
from scarline.market.datasets import dataset_raw, is_dataset, known_names, load_dataset
from scarline.market.filenames import freqtrade_symbol
from scarline.market.frame import MarketData
from scarline.market.pivot import from_market, to_market
from scarline.market.raw import PRICE_COLUMNS, QUOTE_PRICE_COLUMNS, QUOTE_SIZE_COLUMNS, RawTable
from scarline.market.textfmt import tick_places, timestamps_text, units_text

CSV_SUFFIXES = frozenset({".csv"})
PARQUET_SUFFIXES = frozenset({".parquet", ".pq"})
FEATHER_SUFFIXES = frozenset({".feather"})
"""Arrow IPC files, as Freqtrade stores candles (``BTC_USDT-1h.feather``)."""
RECORDING_SUFFIXES = frozenset({".jsonl"})
"""A live feed recording (``scarline-feed`` JSON Lines): ``data check`` reads it."""
INPUT_SUFFIXES = CSV_SUFFIXES | PARQUET_SUFFIXES | FEATHER_SUFFIXES | RECORDING_SUFFIXES
INPUT_TYPES = ".csv, .parquet, .pq or .feather"
TICKS_KEY = b"scarline.tick_sizes"
CANONICAL_ORDER = (*PRICE_COLUMNS, "volume", *QUOTE_PRICE_COLUMNS, *QUOTE_SIZE_COLUMNS)
_ALIASES = {"date": "timestamp", "datetime": "timestamp", "time": "timestamp", "ticker": "symbol"}


def read_raw(
    path: str | Path,
    *,
    tick_size: str | None = None,
    symbol: str | None = None,
    lot_sizes: Mapping[str, str] | None = None,
) -> RawTable:
    """Read a .csv/.parquet/.feather file into source rows (no pivot yet; G0 runs on this).

    A file without a ``symbol`` column holds ``symbol``, else the pair of a Freqtrade file
    name (``BTC_USDT-1h.feather`` → ``BTC/USDT``), else the file stem.
    """
    path = Path(path)
    source = str(path)
    suffix = path.suffix.lower()
    if suffix not in INPUT_SUFFIXES:
        raise DataError(f"{source}: unsupported file type (use {INPUT_TYPES})")
    if not path.is_file():
        raise DataError(f"{source}: {_not_a_file(path)}")
    ticks: str | dict[str, str] | None = tick_size
    lines = None
    if suffix in RECORDING_SUFFIXES:
        frame, lines, venue_ticks = _read_recording(path)
        ticks = tick_size or venue_ticks
        kind = "scarline-feed recording"
    elif suffix in CSV_SUFFIXES:
        frame, lines = _read_csv(path)
        kind = "csv"
    else:
        kind = "feather" if suffix in FEATHER_SUFFIXES else "parquet"
        frame, file_ticks = _read_arrow(path, kind)
        ticks = tick_size or file_ticks
    frame, time_column = _canonical_columns(frame, source)
    default_symbol, origin = _default_symbol(path, symbol)
    raw = raw_from_frame(
        frame,
        source=source,
        tick_size=ticks,
        default_symbol=default_symbol,
        lines=lines,
        lot_sizes=lot_sizes,
        time_column=time_column,
    )
    meta = {"format": kind, **raw.meta}
    if "symbol" not in frame.columns:
        meta |= {"symbol": default_symbol, "symbol_from": origin}
    if suffix in RECORDING_SUFFIXES:
        meta["timestamps"] = "epoch nanoseconds"
    return replace(raw, meta=meta)


def _not_a_file(path: Path) -> str:
    """Why ``path`` cannot be read as a file, with where a relative path was looked for
    (the working directory, not the config file's)."""
    if path.is_dir():
        return "is a directory, not a file (a data source is one file)"
    if path.is_absolute():
        return "no such file"
    return f"no such file (relative paths are read from the working directory {Path.cwd()})"


def _default_symbol(path: Path, given: str | None) -> tuple[str, str]:
    """The symbol of a file without a symbol column, and where it came from."""
    if given:
        return given, "the symbol option"
    pair = freqtrade_symbol(path.stem)
    if pair is not None:
        return pair, f"the Freqtrade file name {path.name}"
    return path.stem, "the file name"


def load_file(
    path: str | Path,
    *,
    tick_size: str | None = None,
    symbol: str | None = None,
    frequency: str | None = None,
    lot_sizes: Mapping[str, str] | None = None,
) -> MarketData:
    """Read and pivot a market file; the frequency is inferred from the median step if not given."""
    path = Path(path)
    raw = read_raw(path, tick_size=tick_size, symbol=symbol, lot_sizes=lot_sizes)
    return to_market(raw, name=path.stem, source=str(path), frequency=frequency)


def read_source(
    name_or_path: str | Path,
    *,
    tick_size: str | None = None,
    symbol: str | None = None,
    lot_sizes: Mapping[str, str] | None = None,
) -> RawTable:
    """Source rows of a registered dataset name or a market file."""
    if isinstance(name_or_path, str) and is_dataset(name_or_path):
        return dataset_raw(name_or_path, tick_size, lot_sizes)
    _require_file_like(name_or_path)
    return read_raw(name_or_path, tick_size=tick_size, symbol=symbol, lot_sizes=lot_sizes)


def load_market(
    name_or_path: str | Path,
    *,
    tick_size: str | None = None,
    symbol: str | None = None,
    frequency: str | None = None,
    lot_sizes: Mapping[str, str] | None = None,
) -> MarketData:
    """A registered dataset by name, else a .csv/.parquet/.pq/.feather file by path.

    ``tick_size`` overrides the registry / inferred tick; ``lot_sizes`` (by symbol, default
    one unit) is each instrument's lot; ``symbol`` (the symbol of a file without a
    ``symbol`` column) and ``frequency`` apply to files only.
    """
    if isinstance(name_or_path, str) and is_dataset(name_or_path):
        return load_dataset(name_or_path, tick_size, lot_sizes)
    _require_file_like(name_or_path)
    return load_file(
        name_or_path, tick_size=tick_size, symbol=symbol, frequency=frequency, lot_sizes=lot_sizes
    )


def write_market(market: MarketData, path: str | Path) -> Path:
    """Write ``market`` as CSV or Parquet, chosen by the file extension."""
    path = Path(path)
    if path.suffix.lower() in CSV_SUFFIXES:
        return write_csv(market, path)
    if path.suffix.lower() in PARQUET_SUFFIXES:
        return write_parquet(market, path)
    raise DataError(f"{path}: unsupported file type to write (use .csv, .parquet or .pq)")


def write_csv(market: MarketData, path: str | Path) -> Path:
    """Long-format CSV of the valid bars; prices are exact decimal text of the ticks."""
    path = Path(path)
    _long_frame(market, as_text=True).to_csv(path, index=False, lineterminator="\n")
    return path


def write_parquet(market: MarketData, path: str | Path) -> Path:
    """Long-format Parquet; prices are exact ``decimal128`` columns, tick sizes in metadata."""
    path = Path(path)
    table = pa.Table.from_pandas(_long_frame(market, as_text=False), preserve_index=False)
    ticks = {i.symbol: i.tick_size for i in market.instruments}
    decimal = pa.decimal128(38, max(tick_places(t) for t in ticks.values()))
    for k, name in enumerate(table.column_names):
        if name in PRICE_COLUMNS or name in QUOTE_PRICE_COLUMNS:
            table = table.set_column(k, name, table.column(k).cast(decimal))
    metadata = {**(table.schema.metadata or {}), TICKS_KEY: json.dumps(ticks).encode()}
    pq.write_table(table.replace_schema_metadata(metadata), path)
    return path


def _read_recording(path: Path) -> tuple[pd.DataFrame, np.ndarray, dict[str, str]]:
    """A live feed recording (``scarline-feed`` JSON Lines, e.g. a paper session's
    feed.jsonl) as text rows: its candles with their file lines, and the venue's ticks."""
    from scarline.market.feeds.replay_feed import read_recording

    header, candles, _, _ = read_recording(path)
    frame = pd.DataFrame(
        {
            "timestamp": [pd.Timestamp(c.ts, unit="ns").isoformat() for c in candles],
            "symbol": [c.symbol for c in candles],
            **{f: [getattr(c, f) for c in candles] for f in ("open", "high", "low", "close")},
            "volume": [c.volume for c in candles],
        },
        dtype=str,
    )
    lines = np.array(_candle_lines(path), dtype=np.int64)
    ticks = {i.symbol: i.tick_size for i in header.instruments if i.tick_size}
    return frame, lines, ticks


def _candle_lines(path: Path) -> list[int]:
    """The file line of each candle record, in order."""
    with path.open("rb") as handle:
        return [n for n, line in enumerate(handle, start=1) if b'"kind":"candle"' in line]


def _require_file_like(name_or_path: str | Path) -> None:
    suffix = Path(name_or_path).suffix.lower()
    if suffix not in INPUT_SUFFIXES:
        raise DataError(
            f"{str(name_or_path)!r} is neither a dataset ({', '.join(known_names())}) "
            "nor a .csv/.parquet/.pq/.feather file"
        )


def _read_csv(path: Path) -> tuple[pd.DataFrame, np.ndarray]:
    """Every cell as text; blank lines dropped but counted, so ``lines`` are the file's lines
    (blank lines before the header and cells quoted over several lines too)."""
    separator, skipped = _csv_header(path)
    try:
        frame = pd.read_csv(
            path,
            sep=separator,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            skiprows=skipped,
        )
    except UnicodeDecodeError:
        raise DataError(_not_utf8(path)) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        message = str(err).strip().splitlines()[-1] if str(err).strip() else type(err).__name__
        raise DataError(f"{path}: {message}") from None
    row_lines = _row_lines(path, separator, skipped, len(frame))
    if not isinstance(frame.index, pd.RangeIndex):  # rows of more cells than the header names
        frame = _without_trailing_cells(frame, path, row_lines)
    blank = (frame.fillna("").astype(str).apply(lambda c: c.str.strip()) == "").all(axis=1)
    lines = row_lines[~blank.to_numpy()]
    return frame.loc[~blank].reset_index(drop=True), lines.astype(np.int64)


def _row_lines(path: Path, separator: str, skipped: int, n_rows: int) -> np.ndarray:
    """The file line each of the ``n_rows`` rows after the header starts on: consecutive
    lines, unless a quoted cell holds a line break (then the csv module counts them)."""
    first = skipped + 2  # the header is line skipped + 1
    if _count_lines(path) == skipped + 1 + n_rows:  # one line per row: the common case
        return np.arange(first, first + n_rows, dtype=np.int64)
    starts: list[int] = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=separator)
        for _ in range(skipped + 1):
            next(reader, None)
        end = reader.line_num
        for _ in reader:
            starts.append(end + 1)
            end = reader.line_num
    if len(starts) != n_rows:  # the two readers disagree: keep the simple numbering
        return np.arange(first, first + n_rows, dtype=np.int64)
    return np.array(starts, dtype=np.int64)


def _count_lines(path: Path) -> int:
    """Lines in the file (a last line without a line break counts), read in blocks."""
    count, last = 0, b"\n"
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            count += block.count(b"\n")
            last = block[-1:]
    return count + (last != b"\n")


SEPARATORS = (",", ";", "\t")
"""CSV cell separators: a comma, else the ``;`` of European spreadsheets or a tab, chosen
from the header line (a header without a comma that has one of them)."""


def _csv_header(path: Path) -> tuple[str, int]:
    """The separator of the CSV at ``path`` and the blank lines before its header; a
    :class:`DataError` for a header naming a column twice (pandas would rename the second
    ``close`` to ``close.1``, a feature)."""
    skipped, first = 0, ""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for first in handle:
                if first.strip():
                    break
                skipped += 1
    except UnicodeDecodeError:
        raise DataError(_not_utf8(path)) from None
    separator = next((s for s in SEPARATORS if s in first), ",")
    header = next(csv.reader([first], delimiter=separator), [])
    twice = _first_repeated([name for name in header if name.strip()])
    if twice is not None:
        raise DataError(f"{path}: line {skipped + 1}: duplicate column {twice!r}")
    return separator, skipped if first.strip() else 0


def _not_utf8(path: Path) -> str:
    """Where a file stops being UTF-8 text: its line and the byte, for the error message."""
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        return (
            f"{path}: line {line}: byte 0x{data[err.start]:02x} is not UTF-8 text "
            "(save the file as UTF-8)"
        )
    return f"{path}: not UTF-8 text (save the file as UTF-8)"


def _without_trailing_cells(frame: pd.DataFrame, path: Path, lines: np.ndarray) -> pd.DataFrame:
    """A CSV whose every row has more cells than its header names, which pandas read with
    the first cells taken for an index: the rows as written when the extra cells are empty
    (trailing commas), else a :class:`DataError` naming the first line with a value there."""
    header = list(frame.columns)
    cells = frame.reset_index().to_numpy(dtype=object)  # each row's cells, as written
    extra = cells[:, len(header) :]
    filled = (extra != "").any(axis=1)
    if filled.any():
        line = int(lines[int(np.argmax(filled))])  # blank lines are rows too
        raise DataError(
            f"{path}: line {line} has {cells.shape[1]} cells, but the header names "
            f"{len(header)} ({', '.join(map(str, header))})"
        )
    return pd.DataFrame(cells[:, : len(header)], columns=header)


def _read_arrow(path: Path, kind: str) -> tuple[pd.DataFrame, dict[str, str] | None]:
    """A Parquet or Feather file as typed columns (an index becomes a column), and the tick
    sizes :func:`write_parquet` stores in the schema metadata."""
    try:
        twice = _first_repeated(pq.read_schema(path).names) if kind == "parquet" else None
        if twice is not None:
            raise DataError(f"{path}: duplicate column {twice!r}")
        table = feather.read_table(path) if kind == "feather" else pq.read_table(path)
        frame = table.to_pandas()
    except (pa.ArrowException, OSError, ValueError) as err:
        reason = " ".join(str(err).split())  # one line: Arrow's messages span several
        raise DataError(f"{path}: cannot read as {kind.capitalize()} ({reason})") from None
    if not isinstance(frame.index, pd.RangeIndex):
        if isinstance(frame.index, pd.DatetimeIndex) and frame.index.name is None:
            # pandas' default ``to_parquet`` of a time-indexed frame: the index is the time
            names = {str(c).strip().lower() for c in frame.columns}
            if not names & {"timestamp", "date", "datetime", "time"}:
                frame = frame.rename_axis("timestamp")
        frame = frame.reset_index()
    metadata = table.schema.metadata or {}
    return frame, _file_ticks(metadata[TICKS_KEY], path) if TICKS_KEY in metadata else None


def _file_ticks(stored: bytes, path: Path) -> dict[str, str]:
    """The tick sizes :func:`write_parquet` stores (``{symbol: "0.01"}``), each one a tick
    the accounts can hold (as ``data.tick_size``); a :class:`DataError` for anything else."""
    problem = f"{path}: schema metadata {TICKS_KEY.decode()}"
    try:
        ticks = json.loads(stored)
    except (ValueError, UnicodeDecodeError):
        raise DataError(f"{problem} is not JSON") from None
    if not isinstance(ticks, dict) or not all(isinstance(t, str) for t in ticks.values()):
        raise DataError(f'{problem} is not an object of tick texts ({{"SYMBOL": "0.01"}})')
    for symbol, tick in ticks.items():
        try:
            check_tick_size(tick)
        except ValueError as err:
            raise DataError(f"{problem} of {symbol!r}: {err}") from None
    return ticks


def _first_repeated(names: list[str]) -> str | None:
    """The first column name given twice (a reader could not tell which one is meant: pandas
    renames the second ``close`` to ``close.1``, a feature), or None."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            return name
        seen.add(name)
    return None


def _canonical_columns(frame: pd.DataFrame, source: str) -> tuple[pd.DataFrame, str]:
    """Lower-case, stripped column names with ``date``/``ticker`` aliases; no duplicates.
    Also the source's name of the time column (``timestamp`` if there is none)."""
    frame, joined = _joined_date_and_time(frame)
    names = [str(c).strip().lower() for c in frame.columns]
    present = set(names)
    names = [_ALIASES[n] if n in _ALIASES and _ALIASES[n] not in present else n for n in names]
    seen: set[str] = set()
    time_column = "timestamp"
    for original, name in zip(frame.columns, names, strict=True):
        if name in seen:
            raise DataError(f"{source}: duplicate column {str(original)!r} (as {name!r})")
        seen.add(name)
        if name == "timestamp":
            time_column = joined or str(original)
    return frame.set_axis(names, axis=1), time_column


def _joined_date_and_time(frame: pd.DataFrame) -> tuple[pd.DataFrame, str | None]:
    """A text ``date`` column and a ``time`` column (``Date,Time,Open,…`` exports) and no
    ``timestamp``/``datetime``: one ``timestamp`` column of ``"<date> <time>"`` in their
    place, and its name for messages (``"Date Time"``); ``frame`` as it is otherwise."""
    by_name = {str(c).strip().lower(): c for c in frame.columns}
    if "timestamp" in by_name or "datetime" in by_name:
        return frame, None
    date, time = by_name.get("date"), by_name.get("time")
    if date is None or time is None or not _is_text(frame[date]):
        return frame, None
    day = frame[date].astype(object).where(frame[date].notna(), "").astype(str).str.strip()
    clock = frame[time].astype(object).where(frame[time].notna(), "").astype(str).str.strip()
    both = (day != "") & (clock != "")  # a missing half is a missing timestamp, not midnight
    stamp = (day + " " + clock).where(both, "")
    out = frame.drop(columns=[date, time])
    at = min(list(frame.columns).index(date), len(out.columns))
    out.insert(at, "timestamp", stamp.to_numpy(dtype=object))
    return out, f"{date} {time}"


def _is_text(series: pd.Series) -> bool:
    """A column of text (or Python objects), not datetimes or numbers."""
    dtype = series.dtype
    return pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)


def _long_frame(market: MarketData, *, as_text: bool) -> pd.DataFrame:
    """Valid bars as long rows; prices always exact text, the rest text or typed."""
    raw = from_market(market)
    ticks = np.array(raw.tick_sizes, dtype=object)[raw.symbol_codes]
    stamps = raw.timestamps
    columns: dict[str, object] = {
        "timestamp": timestamps_text(stamps)
        if as_text
        else pd.to_datetime(stamps, utc=True).as_unit("ns"),
        "symbol": np.array(raw.symbols, dtype=object)[raw.symbol_codes],
    }
    for col in CANONICAL_ORDER:
        if col in raw.prices:
            columns[col] = units_text(raw.prices[col], ticks)
        elif col in raw.sizes:
            columns[col] = raw.sizes[col].astype(str) if as_text else raw.sizes[col]
    for col, values in raw.exog.items():
        columns[col] = _float_text(values) if as_text else values
    return pd.DataFrame(columns)


def _float_text(values: np.ndarray) -> np.ndarray:
    """Shortest round-trip text of each float (numpy's repr algorithm); NaN as an empty cell."""
    return np.where(np.isnan(values), "", values.astype(str)).astype(object)

"""``scarline data fetch``: download a venue's closed candles into a market file.

Like Freqtrade's ``download-data``: for each symbol, closed candles from ``since`` (or, when
the file already holds the symbol, from the bar after its last one: a rerun resumes) to
``until`` (default: now), paged through the ccxt feed's REST history with the feed's retry
policy. The file's rows and the new ones are merged with duplicates removed (a ``(symbol,
timestamp)`` the file has keeps the file's row) and written through the project's market
writer, atomically (a temporary file, then a rename), so the result passes
``scarline data check``. When a download fails after its retries, what was fetched is
written first, so the next run resumes from there.

Prices keep the venue's tick size when every price is a multiple of it (else the tick is
inferred from the price text, which is always exact). Volumes are stored in whole units of
the base currency, as every market file is today (fractional lot sizes in files are
issue 16, item 4).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from scarline.errors import DataError
from scarline.market.feeds.bars import timeframe_ns, timeframe_text
from scarline.market.feeds.port import Candle, Clock, FeedRequestError
from scarline.market.feeds.retry import RetryPolicy
from scarline.market.timestamps import SUPPORTED_RANGE

SUFFIXES = (".parquet", ".pq", ".csv")


@dataclass
class FetchReport:
    """What a fetch did, per symbol and in total (the ``--json`` document)."""

    path: str
    exchange: str
    timeframe: str
    rows: int = 0
    added: int = 0
    duplicates: int = 0
    resumed: dict[str, str | None] = field(default_factory=dict)
    fetched: dict[str, int] = field(default_factory=dict)
    first: str | None = None
    last: str | None = None
    tick_sizes: dict[str, str] = field(default_factory=dict)
    g0_ok: bool = False
    g0_errors: int = 0
    g0_warnings: int = 0

    def to_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def parse_time(text: str, what: str) -> int:
    """An ISO date or time (naive: UTC) as ns; a DataError names the option otherwise."""
    try:
        stamp = pd.Timestamp(text)
    except (ValueError, TypeError):
        raise DataError(f"{what} {text!r} is not an ISO 8601 date or time") from None
    if stamp is pd.NaT:
        raise DataError(f"{what} {text!r} is not an ISO 8601 date or time")
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    try:
        return int(stamp.as_unit("ns").value)
    except (OverflowError, ValueError):  # year 3000: past what int64 nanoseconds hold
        raise DataError(
            f"{what} {text!r} is outside the supported range {SUPPORTED_RANGE}"
        ) from None


def fetch_to_file(
    exchange: str,
    symbols: list[str],
    timeframe: str,
    since: str,
    out: str | Path,
    *,
    until: str | None = None,
    base_url: str | None = None,
    timeout_seconds: float = 10.0,
    page_limit: int = 1000,
    max_attempts: int = 8,
    retry: RetryPolicy | None = None,
    clock: Clock | None = None,
    sleep: Callable[[float], None] | None = None,
    on_page: Callable[[str, int, int], None] | None = None,
    on_retry: Callable[[int, FeedRequestError, float], None] | None = None,
) -> FetchReport:
    """Download into ``out`` (.parquet, .pq or .csv), resuming and deduplicating."""
    from scarline.market.checks import check_market_source
    from scarline.market.feeds.ccxt_feed import CcxtFeed

    path = Path(out)
    if path.suffix.lower() not in SUFFIXES:
        raise DataError(f"{path}: unsupported file type (use .parquet, .pq or .csv)")
    if not symbols:
        raise DataError("no symbols to fetch (use --symbols BTC/USDT,ETH/USDT)")
    try:
        step = timeframe_ns(timeframe)
    except ValueError as err:
        raise DataError(str(err)) from None
    since_ns = parse_time(since, "--since")
    until_ns = parse_time(until, "--until") if until else None
    if until_ns is not None and until_ns < since_ns:
        raise DataError(f"--until {until} is before --since {since}: nothing to fetch")
    report = FetchReport(path=str(path), exchange=exchange, timeframe=timeframe_text(step))
    existing = _read_existing(path)
    feed = CcxtFeed(
        exchange,
        symbols,
        step,
        base_url=base_url,
        timeout_seconds=timeout_seconds,
        quotes=False,
        page_limit=page_limit,
        grace_seconds=0.0,
        clock=clock,
        retry=retry,
        sleep=sleep,
    )
    new: list[Candle] = []
    venue_ticks: dict[str, str | None] = {}
    try:
        venue_ticks = {s: i.tick_size for s, i in feed.instruments().items()}
        for symbol in symbols:
            held = existing[existing["symbol"] == symbol]["ts"]
            last = int(held.max()) if len(held) else None
            report.resumed[symbol] = _iso(last) if last is not None else None
            start = max(since_ns, last + step) if last is not None else since_ns
            count = 0
            for page in feed.history(
                symbol, start, until_ns, max_attempts=max_attempts, on_retry=on_retry
            ):
                new += page
                count += len(page)
                if on_page is not None:
                    on_page(symbol, count, page[-1].ts)
            report.fetched[symbol] = count
    finally:
        feed.close()
        if new:  # a failure still keeps what was fetched: the next run resumes after it
            _write(path, existing, new, venue_ticks, report)
    if not new and len(existing) == 0:
        raise DataError(
            f"{exchange} has no closed {report.timeframe} candles of {', '.join(symbols)} "
            f"from {since}" + (f" to {until}" if until else "")
        )
    if not new:
        report.rows = len(existing)
        report.tick_sizes = _file_ticks(path)
        _span(report, existing["ts"].to_numpy())
    g0 = check_market_source(path)
    report.g0_ok, report.g0_errors, report.g0_warnings = g0.ok, len(g0.errors), len(g0.warnings)
    return report


COLUMNS = ("open", "high", "low", "close", "volume")


def _read_existing(path: Path) -> pd.DataFrame:
    """The file's rows as text (exact), or an empty frame when there is no file yet."""
    empty = pd.DataFrame({k: pd.Series(dtype=object) for k in ("symbol", *COLUMNS)})
    empty.insert(0, "ts", pd.Series(dtype=np.int64))
    if not path.exists():
        return empty
    from scarline.market.io import read_raw
    from scarline.market.textfmt import units_text

    raw = read_raw(path)
    if not raw.has_ohlc or not raw.has_volume:
        raise DataError(f"{path}: an existing file to resume must have OHLCV columns")
    ticks = np.array(raw.tick_sizes, dtype=object)[raw.symbol_codes]
    frame = pd.DataFrame(
        {
            "ts": raw.timestamps,
            "symbol": np.array(raw.symbols, dtype=object)[raw.symbol_codes],
            **{k: units_text(raw.prices[k], ticks) for k in COLUMNS[:4]},
            "volume": raw.sizes["volume"].astype(str).astype(object),
        }
    )
    return frame


def _write(
    path: Path,
    existing: pd.DataFrame,
    new: list[Candle],
    venue_ticks: dict[str, str | None],
    report: FetchReport,
) -> None:
    from scarline.market.build import raw_from_frame
    from scarline.market.io import write_market
    from scarline.market.pivot import to_market

    fresh = pd.DataFrame(
        {
            "ts": np.array([c.ts for c in new], dtype=np.int64),
            "symbol": [c.symbol for c in new],
            **{k: [getattr(c, k) for c in new] for k in COLUMNS},
        }
    )
    merged = pd.concat([existing, fresh], ignore_index=True)
    dup = merged.duplicated(subset=["symbol", "ts"], keep="first")
    report.duplicates = int(dup.sum())
    report.added = int((~dup).sum()) - len(existing)
    merged = merged[~dup].sort_values(["ts", "symbol"], kind="stable").reset_index(drop=True)
    ticks = _ticks(merged, venue_ticks, _file_ticks(path) if path.exists() else {})
    frame = merged.drop(columns="ts")
    frame.insert(0, "timestamp", pd.to_datetime(merged["ts"].to_numpy(), utc=True))
    raw = raw_from_frame(frame, source=str(path), tick_size=ticks)
    frequency = report.timeframe
    market = to_market(raw, name=path.stem, source=str(path), frequency=frequency)
    partial = path.with_name(f".{path.stem}.partial{path.suffix}")
    write_market(market, partial)
    os.replace(partial, path)
    report.rows = len(merged)
    report.tick_sizes = {s: t for s, t in ticks.items() if s in set(merged["symbol"])}
    _span(report, merged["ts"].to_numpy())


def _ticks(
    frame: pd.DataFrame, venue: dict[str, str | None], held: dict[str, str]
) -> dict[str, str]:
    """Per symbol, the venue's (or the file's) tick when every price is a multiple of it."""
    out: dict[str, str] = {}
    for symbol, rows in frame.groupby("symbol", sort=False):
        for tick in (venue.get(str(symbol)), held.get(str(symbol))):
            if tick and _all_multiples(rows, Decimal(tick)):
                out[str(symbol)] = tick
                break
    return out


def _all_multiples(rows: pd.DataFrame, tick: Decimal) -> bool:
    texts = {t for k in COLUMNS[:4] for t in rows[k].tolist()}
    return all(Decimal(t) % tick == 0 for t in texts)


def _file_ticks(path: Path) -> dict[str, str]:
    from scarline.market.io import read_raw

    raw = read_raw(path)
    return dict(zip(raw.symbols, raw.tick_sizes, strict=True))


def _span(report: FetchReport, stamps: np.ndarray) -> None:
    if stamps.size:
        report.first, report.last = _iso(int(stamps.min())), _iso(int(stamps.max()))


def _iso(ns: int) -> str:
    return pd.Timestamp(ns, tz="UTC").isoformat().replace("+00:00", "Z")

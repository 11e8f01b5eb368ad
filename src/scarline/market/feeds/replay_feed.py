"""The replay adapter: a recorded feed file played back at a chosen speed (drills, soaks).

**Format** (``scarline-feed`` version 1): JSON Lines, UTF-8. The first line is the header::

    {"format": "scarline-feed", "version": 1, "feed": "ccxt", "venue": "binance",
     "step": 60000000000, "symbols": ["BTC/USDT"], "has_volume": true, "has_quotes": false,
     "instruments": [{"symbol": "BTC/USDT", "venue": "binance", "tick_size": "0.01",
                      "lot_size": "0.00001", "min_notional": "5", ...}]}

then one record per line, in time order, ``kind`` first::

    {"kind": "candle", "symbol": "BTC/USDT", "ts": 1704067200000000000,
     "open": "42283.58", "high": "42298.62", "low": "42261.02", "close": "42284.74",
     "volume": "35.92"}
    {"kind": "quote", "symbol": "BTC/USDT", "ts": 1704067260000000000, "bid": "42284.73",
     "ask": "42284.74", "bid_size": "1.2", "ask_size": "0.4"}
    {"kind": "outage", "start": 1704070800000000000, "end": 1704070815000000000,
     "failures": 4, "kinds": ["server", "timeout"], "error": "…"}

Times are ns since the Unix epoch (UTC), ``ts`` the bar's open, prices and sizes decimal
text. A missing candle is a gap on replay. :class:`FeedRecorder` writes this format from live
batches and :func:`write_recording` from candles (:func:`candles_of_market` turns a market
file into candles).

**Time.** The feed has its own clock (:attr:`ReplayFeed.clock`): recorded time, which runs
``speed`` times faster than the wall clock from the first poll (``speed = None``: as fast
as polled, each poll moves to the next event). A candle becomes available at its end plus
the grace delay; during a recorded outage nothing is delivered, its candles come when it
ends (a backfill), and the outage is reported as a live feed reports one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import msgspec
import numpy as np

from scarline.errors import DataError
from scarline.market.feeds.bars import BarAssembler, closes_between
from scarline.market.feeds.port import (
    Candle,
    Clock,
    FailureKind,
    FeedBatch,
    FeedInfo,
    Gap,
    Outage,
    OutageStarted,
    Quote,
    SystemClock,
    VenueInstrument,
)
from scarline.market.frame import MarketData
from scarline.market.textfmt import units_text

FORMAT = "scarline-feed"
VERSION = 1
NS_PER_SECOND = 10**9


class Header(msgspec.Struct, frozen=True, kw_only=True):
    """The first line of a recording."""

    format: str = FORMAT
    version: int = VERSION
    feed: str = "replay"
    venue: str = "replay"
    step: int
    symbols: list[str]
    has_volume: bool = True
    has_quotes: bool = False
    instruments: list[VenueInstrument] = []

    def info(self) -> FeedInfo:
        return FeedInfo(
            feed="replay",
            venue=self.venue,
            symbols=tuple(self.symbols),
            step=self.step,
            has_volume=self.has_volume,
            has_quotes=self.has_quotes,
        )


class OutageRecord(msgspec.Struct, frozen=True, kw_only=True):
    start: int
    end: int
    failures: int = 1
    kinds: list[FailureKind] = []
    error: str = ""


_encoder = msgspec.json.Encoder()


def _line(kind: str, record: msgspec.Struct, drop: tuple[str, ...] = ()) -> bytes:
    body = {k: v for k, v in msgspec.structs.asdict(record).items() if k not in drop}
    return _encoder.encode({"kind": kind, **body}) + b"\n"


def header_of(info: FeedInfo, instruments: Mapping[str, VenueInstrument] | None = None) -> Header:
    return Header(
        feed=info.feed,
        venue=info.venue,
        step=info.step,
        symbols=list(info.symbols),
        has_volume=info.has_volume,
        has_quotes=info.has_quotes,
        instruments=list((instruments or {}).values()),
    )


class FeedRecorder:
    """Append live batches to a recording (candles, quotes and finished outages)."""

    def __init__(self, path: str | Path, header: Header) -> None:
        self.path = Path(path)
        fresh = not self.path.exists() or self.path.stat().st_size == 0
        if not fresh:
            _drop_torn_line(self.path)  # a crash mid-write: the next record starts clean
        self._file = self.path.open("ab")
        if fresh:
            self._file.write(_encoder.encode(header) + b"\n")

    def write(self, batch: FeedBatch) -> None:
        for candle in batch.candles:
            self._file.write(_line("candle", candle, ("step",)))
        for quote in batch.quotes:
            self._file.write(_line("quote", quote))
        if batch.outage_ended is not None:
            o = batch.outage_ended
            record = OutageRecord(
                start=o.start,
                end=o.end,
                failures=o.failures,
                kinds=list(o.kinds),
                error=o.last_error,
            )
            self._file.write(_line("outage", record))
        self._file.flush()

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> FeedRecorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _drop_torn_line(path: Path) -> None:
    """Cut a last line without its newline (written only in part when the writer died)."""
    with path.open("r+b") as f:
        size = f.seek(0, 2)
        back = min(size, 1 << 16)
        f.seek(size - back)
        tail = f.read(back)
        if tail.endswith(b"\n"):
            return
        cut = tail.rfind(b"\n")
        f.truncate(size - back + cut + 1 if cut >= 0 else 0)


def write_recording(
    path: str | Path,
    header: Header,
    candles: Iterable[Candle],
    quotes: Iterable[Quote] = (),
    outages: Iterable[OutageRecord] = (),
) -> Path:
    """A whole recording at once; records are written in time order."""
    path = Path(path)
    items: list[tuple[int, int, bytes]] = []
    items += [(c.ts, 1, _line("candle", c, ("step",))) for c in candles]
    items += [(q.ts, 2, _line("quote", q)) for q in quotes]
    items += [(o.start, 0, _line("outage", o)) for o in outages]
    items.sort(key=lambda item: (item[0], item[1]))
    with path.open("wb") as out:
        out.write(_encoder.encode(header) + b"\n")
        out.writelines(line for _, _, line in items)
    return path


def candles_of_market(market: MarketData) -> list[Candle]:
    """The valid bars of a market as candles (exact decimal text of the ticks)."""
    from scarline.market.frequency import frequency_ns

    step = frequency_ns(market.frequency)
    out = []
    for j, spec in enumerate(market.instruments):
        rows = np.flatnonzero(market.valid[:, j])
        ticks = np.full(rows.size, spec.tick_size, dtype=object)
        texts = {
            k: units_text(getattr(market, k)[rows, j], ticks)
            for k in ("open", "high", "low", "close")
        }
        for n, i in enumerate(rows.tolist()):
            out.append(
                Candle(
                    symbol=spec.symbol,
                    ts=int(market.timestamps[i]),
                    step=step,
                    open=texts["open"][n],
                    high=texts["high"][n],
                    low=texts["low"][n],
                    close=texts["close"][n],
                    volume=str(int(market.volume[i, j])),
                )
            )
    out.sort(key=lambda c: c.ts)
    return out


@dataclass(frozen=True)
class _Event:
    at: int  # recorded time at which it is delivered
    order: int
    kind: Literal["candle", "quote", "start", "end"]
    item: Any


def read_recording(
    path: str | Path,
) -> tuple[Header, list[Candle], list[Quote], list[OutageRecord]]:
    """Parse a recording; a bad line is a DataError naming the file and line."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such feed recording")
    candles: list[Candle] = []
    quotes: list[Quote] = []
    outages: list[OutageRecord] = []
    with path.open("rb") as lines:
        try:
            header = msgspec.json.decode(next(lines, b""), type=Header)
        except msgspec.DecodeError as err:
            raise DataError(f"{path}: line 1: not a {FORMAT} header ({err})") from None
        if header.format != FORMAT or header.version != VERSION:
            raise DataError(f"{path}: format {header.format!r} v{header.version} is not read")
        for number, raw in enumerate(lines, start=2):
            if not raw.strip():
                continue
            try:
                record = msgspec.json.decode(raw)
                kind = record.pop("kind")
                if kind == "candle":
                    candles.append(msgspec.convert({**record, "step": header.step}, Candle))
                elif kind == "quote":
                    quotes.append(msgspec.convert(record, Quote))
                elif kind == "outage":
                    outages.append(msgspec.convert(record, OutageRecord))
                else:
                    raise ValueError(f"unknown kind {kind!r}")
            except (msgspec.DecodeError, msgspec.ValidationError, ValueError, KeyError) as err:
                raise DataError(f"{path}: line {number}: {err}") from None
    return header, candles, quotes, outages


class _VirtualClock:
    def __init__(self, feed: ReplayFeed) -> None:
        self.feed = feed

    def now(self) -> int:
        return self.feed.now()


class ReplayFeed:
    """A recording played back (``speed`` × real time, or ``None``: as fast as polled)."""

    def __init__(
        self,
        path: str | Path,
        *,
        speed: float | None = 1.0,
        grace_seconds: float = 0.0,
        symbols: Iterable[str] | None = None,
        clock: Clock | None = None,
        after: Mapping[str, int] | None = None,
    ) -> None:
        if speed is not None and not speed > 0:
            raise ValueError(f"replay speed must be > 0 (or None: as fast as polled), got {speed}")
        header, candles, quotes, outages = read_recording(path)
        chosen = tuple(symbols) if symbols is not None else tuple(header.symbols)
        missing = [s for s in chosen if s not in header.symbols]
        if missing:
            raise DataError(f"{path}: the recording has no symbol {', '.join(map(repr, missing))}")
        self.header = header
        self._info = FeedInfo(
            feed="replay",
            venue=header.venue,
            symbols=chosen,
            step=header.step,
            has_volume=header.has_volume,
            has_quotes=header.has_quotes,
        )
        self.speed = speed
        self.wall = clock or SystemClock()
        self.grace = round(grace_seconds * NS_PER_SECOND)
        self._events = self._timeline(candles, quotes, outages, set(chosen))
        start = min((c.ts for c in candles if c.symbol in chosen), default=0)
        self.assembler = BarAssembler(chosen, header.step, self.grace, start=start, after=after)
        self._cursor = 0
        self._wall0: int | None = None
        self._data0 = self._events[0].at if self._events else start
        self._vnow = self._data0
        self._down: OutageRecord | None = None
        self.clock: Clock = _VirtualClock(self)

    @property
    def info(self) -> FeedInfo:
        return self._info

    def instruments(self) -> dict[str, VenueInstrument]:
        given = {i.symbol: i for i in self.header.instruments}
        return {
            s: given.get(s) or VenueInstrument(symbol=s, venue=self.header.venue)
            for s in self._info.symbols
        }

    def now(self) -> int:
        """Recorded time now (it moves with the wall clock once polling started)."""
        if self.speed is None or self._wall0 is None:
            return self._vnow
        elapsed = self.wall.now() - self._wall0
        return max(self._vnow, self._data0 + round(elapsed * self.speed))

    def seconds_until(self, t: int) -> float:
        """Wall seconds until the feed's clock reads ``t``."""
        if self.speed is None:
            return 0.0
        return max(0.0, (t - self.now()) / NS_PER_SECOND / self.speed)

    def poll(self) -> FeedBatch:
        if self._wall0 is None:
            self._wall0 = self.wall.now()
        if self.speed is None and self._cursor < len(self._events):
            self._vnow = max(self._vnow, self._events[self._cursor].at)
        now = self.now()
        self._vnow = now
        by_symbol: dict[str, list[Candle]] = {}
        quotes: list[Quote] = []
        started: OutageStarted | None = None
        ended: Outage | None = None
        events = self._events
        while self._cursor < len(events) and events[self._cursor].at <= now:
            event = events[self._cursor]
            self._cursor += 1
            if event.kind == "candle":
                by_symbol.setdefault(event.item.symbol, []).append(event.item)
            elif event.kind == "quote":
                quotes.append(event.item)
            elif event.kind == "start":
                record: OutageRecord = event.item
                self._down = record
                kind: FailureKind = record.kinds[0] if record.kinds else "other"
                started = OutageStarted(start=record.start, kind=kind, error=record.error)
            else:
                record = event.item
                self._down = None
                ended = Outage(
                    start=record.start,
                    end=record.end,
                    failures=record.failures,
                    bars_missed=_bars_in(record, self._info.step, self.grace),
                    kinds=tuple(record.kinds),
                    last_error=record.error,
                )
        candles: list[Candle] = []
        gaps: list[Gap] = []
        dropped = 0
        for symbol in self._info.symbols:
            kept = self.assembler.offer(symbol, by_symbol.get(symbol, []), now)
            candles += kept.candles
            gaps += kept.gaps
            dropped += kept.dropped
        order = {s: i for i, s in enumerate(self._info.symbols)}
        candles.sort(key=lambda c: (c.ts, order[c.symbol]))
        exhausted = self._cursor >= len(events)
        next_at = now if exhausted else max(now, events[self._cursor].at)
        return FeedBatch(
            polled_ns=now,
            next_poll_ns=next_at,
            candles=tuple(candles),
            quotes=tuple(quotes),
            gaps=tuple(gaps),
            outage_started=started,
            outage_ended=ended,
            healthy=self._down is None,
            dropped=dropped,
            exhausted=exhausted,
        )

    def close(self) -> None:
        pass

    def _timeline(
        self,
        candles: list[Candle],
        quotes: list[Quote],
        outages: list[OutageRecord],
        chosen: set[str],
    ) -> list[_Event]:
        windows = sorted((o.start, o.end) for o in outages)

        def deliver(at: int) -> int:
            for start, end in windows:
                if start <= at < end:
                    return end
            return at

        events = [_Event(o.start, 0, "start", o) for o in outages]
        events += [_Event(o.end, 1, "end", o) for o in outages]
        events += [
            _Event(deliver(c.end + self.grace), 2, "candle", c)
            for c in candles
            if c.symbol in chosen
        ]
        events += [_Event(deliver(q.ts), 3, "quote", q) for q in quotes if q.symbol in chosen]
        events.sort(key=lambda e: (e.at, e.order))
        return events


def _bars_in(record: OutageRecord, step: int, grace: int) -> int:
    return closes_between(record.start, record.end, step, grace)

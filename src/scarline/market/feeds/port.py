"""The feed port: what a live market feed gives a session, whatever the venue.

A :class:`Feed` is polled; each :meth:`Feed.poll` returns a :class:`FeedBatch` of the bars
that *closed* since the last poll (venue timestamps, exact decimal text), the latest best
bid/ask where the venue has them, the gaps found and the begin/end of a feed outage. A poll
never raises on a network failure: the failure becomes an outage record and the next poll
is scheduled after a backoff (``FeedBatch.next_poll_ns``). Only a mistake the user can fix
(an unknown exchange or symbol) raises, as :class:`~scarline.errors.DataError`.

Adapters (ports and adapters, as in NautilusTrader): :mod:`.ccxt_feed` (any ccxt exchange,
REST polling), :mod:`.coingecko` (the public v3 REST API) and :mod:`.replay_feed` (a recorded
feed file). This module holds the protocol and the value types only, no network code.

Times are integer nanoseconds since the Unix epoch (UTC); a bar is stamped with its venue
*open* time ``ts`` and covers ``[ts, ts + step)``. Prices and sizes are decimal text
(``"67187.33"``, ``"0.00001"``), never floats, so they become ticks and lots exactly.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Literal, Protocol

import msgspec

from scarline.errors import DataError
from scarline.instrument import InstrumentSpec

FailureKind = Literal["rate_limit", "server", "timeout", "network", "client", "other"]
"""Why a request failed: 429/418 (``rate_limit``), 5xx (``server``), a time-out, a refused or
reset connection (``network``), another 4xx (``client``) or anything else (``other``)."""

GapReason = Literal["venue", "no_observation"]
"""``venue``: the venue served a later bar but not these (it has none, even on backfill);
``no_observation``: no price observation fell in these bars (aggregating feeds)."""


class Candle(msgspec.Struct, frozen=True, kw_only=True):
    """One closed OHLCV bar of one symbol: ``[ts, ts + step)`` in venue time, decimal text."""

    symbol: str
    ts: int
    step: int
    open: str
    high: str
    low: str
    close: str
    volume: str = "0"

    @property
    def end(self) -> int:
        """The bar's end (exclusive), ns."""
        return self.ts + self.step

    def prices(self) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        """``(open, high, low, close)`` as Decimals (``NaN`` where the text is no number)."""
        return (_dec(self.open), _dec(self.high), _dec(self.low), _dec(self.close))


class Quote(msgspec.Struct, frozen=True, kw_only=True):
    """Best bid and ask of one symbol when polled; ``ts`` is the venue's time (or, when the
    venue gives none, the time it was received)."""

    symbol: str
    ts: int
    bid: str | None = None
    ask: str | None = None
    bid_size: str | None = None
    ask_size: str | None = None


class Gap(msgspec.Struct, frozen=True, kw_only=True):
    """Bars ``[start, end)`` of ``symbol`` that will not come: ``bars`` of them."""

    symbol: str
    start: int
    end: int
    bars: int
    reason: GapReason = "venue"


class OutageStarted(msgspec.Struct, frozen=True, kw_only=True):
    """The first failed request of an outage: the feed is down since ``start``."""

    start: int
    kind: FailureKind
    error: str


class Outage(msgspec.Struct, frozen=True, kw_only=True):
    """A finished outage: down from ``start`` to ``end`` (the first good poll), ``failures``
    failed attempts, ``bars_missed`` bar closes per symbol that fell inside it (what the
    session did not get on time; the recovering batch backfills what the venue still has)."""

    start: int
    end: int
    failures: int
    bars_missed: int
    kinds: tuple[FailureKind, ...]
    last_error: str


class VenueInstrument(msgspec.Struct, frozen=True, kw_only=True):
    """What the venue says about one symbol: price tick, lot (amount step, fractional for
    crypto, e.g. ``"0.00001"``), minimum quantity and minimum notional, as decimal text
    (``None`` where the venue does not say)."""

    symbol: str
    venue: str
    base: str = ""
    quote: str = ""
    tick_size: str | None = None
    lot_size: str | None = None
    min_qty: str | None = None
    min_notional: str | None = None

    def spec(self, *, tick_size: str = "0.01", lot_size: str = "1") -> InstrumentSpec:
        """The kernel's instrument; the defaults fill what the venue does not give."""
        return InstrumentSpec(
            symbol=self.symbol,
            tick_size=self.tick_size or tick_size,
            lot_size=self.lot_size or lot_size,
            currency=self.quote or "USD",
            venue=self.venue,
            min_qty=self.min_qty,
            min_notional=self.min_notional,
        )


class FeedInfo(msgspec.Struct, frozen=True, kw_only=True):
    """What a feed is and what it can give (``has_volume`` False: no usable bar volume, so a
    participation cap cannot apply)."""

    feed: str
    venue: str
    symbols: tuple[str, ...]
    step: int
    has_volume: bool = True
    has_quotes: bool = False


class FeedBatch(msgspec.Struct, frozen=True, kw_only=True):
    """What one poll produced.

    ``candles`` are closed, new (never delivered before), ordered by ``(ts, symbol)``;
    ``gaps`` the bars found missing; ``outage_started`` is set by the first failure of an
    outage and ``outage_ended`` by the poll that recovers; ``healthy`` is False while the
    feed is down (the poll failed or was skipped in backoff). ``dropped`` counts candles or
    observations left out as duplicates or too late. Poll again at ``next_poll_ns``;
    ``exhausted`` says a finite feed (a replay) has nothing more to give.
    """

    polled_ns: int
    next_poll_ns: int
    candles: tuple[Candle, ...] = ()
    quotes: tuple[Quote, ...] = ()
    gaps: tuple[Gap, ...] = ()
    outage_started: OutageStarted | None = None
    outage_ended: Outage | None = None
    healthy: bool = True
    dropped: int = 0
    exhausted: bool = False


class Clock(Protocol):
    def now(self) -> int:
        """Current time, ns since the Unix epoch (UTC)."""
        ...


class SystemClock:
    """The wall clock (``time.time_ns``)."""

    def now(self) -> int:
        return time.time_ns()


class OffsetClock:
    """``clock`` moved by ``offset_ns``: the venue's time where its clock differs from ours,
    so the closing rule and the staleness check read the clock the bars are stamped on."""

    def __init__(self, clock: Clock, offset_ns: int) -> None:
        self.clock, self.offset_ns = clock, offset_ns

    def now(self) -> int:
        return self.clock.now() + self.offset_ns


class Feed(Protocol):
    """A live source of closed bars. ``poll`` never raises on a network failure.

    ``clock`` is the feed's time: the wall clock for a live venue, recorded time for a replay.
    Batch times (``polled_ns``, ``next_poll_ns``) and the *now* of the closing rule and the
    live checks are read on it; :meth:`seconds_until` converts one to a wall-clock wait.
    """

    @property
    def info(self) -> FeedInfo: ...

    @property
    def clock(self) -> Clock: ...

    def seconds_until(self, t: int) -> float:
        """Wall-clock seconds until the feed's clock reads ``t`` (0 when it has)."""
        ...

    def instruments(self) -> dict[str, VenueInstrument]:
        """Per symbol, what the venue says (loaded once; a DataError for unknown symbols)."""
        ...

    def poll(self) -> FeedBatch:
        """Bars closed since the last poll, quotes, gaps and outage records."""
        ...

    def close(self) -> None:
        """Release connections; the feed is not used afterwards."""
        ...


class FeedRequestError(Exception):
    """A request to the venue failed; ``kind`` says why, ``retry_after`` (seconds) is the
    venue's Retry-After when it sent one. Adapters translate their library's errors into
    this, so the retry policy and outage records are the same for every feed."""

    def __init__(
        self,
        kind: FailureKind,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind: FailureKind = kind
        self.status = status
        self.retry_after = retry_after


class FeedSetupError(DataError):
    """The venue refuses a setting the user chose: ``key`` names it as in ``[live]``
    (``exchange``, ``timeframe``, ``symbols``), so a session's error can name the field."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


StampUnit = Literal["s", "ms", "us", "ns"]
"""The unit of a venue's Unix time."""

_STAMP_UNITS: tuple[tuple[int, StampUnit, int], ...] = (
    (10**11, "s", 10**9),
    (10**14, "ms", 10**6),
    (10**17, "us", 10**3),
)


def stamp_unit(stamp: int) -> tuple[StampUnit, int]:
    """The unit of a venue's Unix time read from its size, and ns per unit: below 10¹¹
    seconds (in ms that would be before 1973), below 10¹⁴ ms (in s that would be after the
    year 5000), below 10¹⁷ µs, else ns. The ranges do not overlap for any time from 1973 to
    5138, so the reading is unambiguous for every real venue time."""
    for bound, unit, ns in _STAMP_UNITS:
        if stamp < bound:
            return unit, ns
    return "ns", 1


def venue_ns(stamp: int) -> int:
    """A venue's Unix time in ns, its unit read from its size (:func:`stamp_unit`). A venue
    that sends ms where CoinGecko documents seconds still gives its prices' true times, not
    ones thousands of years ahead (a bar that never closes)."""
    return stamp * stamp_unit(stamp)[1]


def retry_after_seconds(value: str | None, date: str | None = None) -> float | None:
    """A ``Retry-After`` header in seconds: delay-seconds, or an HTTP-date (RFC 9110) less
    the response's ``Date`` (the local clock without one); ``None`` when absent or junk."""
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        until = parsedate_to_datetime(value)
        since = parsedate_to_datetime(date) if date else datetime.now(UTC)
    except (TypeError, ValueError):
        return None
    if until.tzinfo is None or since.tzinfo is None:
        return None  # not an HTTP-date (those are GMT)
    return max(0.0, (until - since).total_seconds())


def kind_of_status(status: int) -> FailureKind:
    """An HTTP status as a failure kind (429 and 418 are rate limits; 408 a time-out)."""
    if status in (418, 429):
        return "rate_limit"
    if status in (408, 504):
        return "timeout"
    if status >= 500:
        return "server"
    if status >= 400:
        return "client"
    return "other"


def decimal_text(value: object) -> str:
    """Exact decimal text of a venue number: a float through its shortest ``repr``, a
    Decimal or string as written (normalized, no exponent); ``None`` or junk → ``"NaN"``."""
    if value is None or isinstance(value, bool):
        return "NaN"
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return "NaN"
    if not number.is_finite():
        return "NaN"
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def _dec(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        return Decimal("NaN")

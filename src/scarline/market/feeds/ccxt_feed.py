"""The ccxt adapter: any exchange ccxt supports, by REST polling.

Each poll asks ``fetch_ohlcv(symbol, timeframe, since=<next expected bar>, limit)`` for every
symbol whose next bar has closed (paging on when a page comes back full, so an outage is
backfilled from REST as far as the venue keeps history), then ``fetch_ticker`` for the best
bid and ask where the exchange has them. ccxt's own rate limiter is on
(``enableRateLimit=True``); 429s, 5xx and time-outs become outage records and a backoff
(:mod:`.retry`), never an exception.

Instruments come from ``load_markets()``: ``precision.price`` is the tick, ``precision.amount``
the lot (fractional for crypto, e.g. ``0.00001``), ``limits.amount.min`` the minimum quantity
and ``limits.cost.min`` the minimum notional, as decimal text. ccxt gives them as tick sizes
(``TICK_SIZE`` precision mode, most exchanges) or as decimal places (``DECIMAL_PLACES``).

``base_url`` replaces the scheme and host of every REST URL the exchange calls and keeps each
path: every ``http(s)`` entry of the exchange's ``urls['api']`` is rewritten, e.g. binance's
``https://api.binance.com/api/v3`` becomes ``http://127.0.0.1:8080/api/v3`` (a path in
``base_url`` is put in front: ``http://proxy/binance`` → ``http://proxy/binance/api/v3``). For
binance the feed calls ``GET /api/v3/exchangeInfo`` (and ``/fapi/v1/exchangeInfo``,
``/dapi/v1/exchangeInfo`` unless ``options = {fetchMarkets = {types = ["spot"]}}``),
``GET /api/v3/klines`` and ``GET /api/v3/ticker/24hr``.

Timestamps are read in the unit their size shows (:class:`VenueStamps`): ccxt promises ms, but
a venue or proxy that stamps candles in seconds would otherwise read as January 1970, every
bar older than the last and the feed idle.

ccxt is imported when a feed is built, not when this module is.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import structlog

from scarline.errors import DataError
from scarline.instrument import tick_for_decimals
from scarline.market.feeds.bars import last_closed_open
from scarline.market.feeds.polling import Collected, PollingFeed
from scarline.market.feeds.port import (
    Candle,
    Clock,
    FeedInfo,
    FeedRequestError,
    FeedSetupError,
    OffsetClock,
    Quote,
    VenueInstrument,
    decimal_text,
    kind_of_status,
    retry_after_seconds,
    stamp_unit,
)
from scarline.market.feeds.retry import RetryPolicy, call_with_retry

NS_PER_MS = 1_000_000
NS_PER_SECOND = 10**9
MAX_SKEW_NS = NS_PER_SECOND
"""How far our clock may be from the venue's before the feed follows the venue's."""
T = TypeVar("T")
_UNITS = (("w", 7 * 86_400), ("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1))


def ccxt_timeframe(step_ns: int) -> str:
    """ccxt's name of a bar length: 1 s → ``"1s"``, 60 s → ``"1m"``, 1 h → ``"1h"``."""
    if step_ns <= 0 or step_ns % NS_PER_SECOND:
        raise ValueError(f"a ccxt timeframe is a whole number of seconds, got {step_ns} ns")
    seconds = step_ns // NS_PER_SECOND
    for unit, size in _UNITS:
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    raise AssertionError("unreachable: every whole second count divides by 1")


def rewrite_url(url: str, base_url: str) -> str:
    """``url`` with the scheme and host of ``base_url`` (its path, if any, in front)."""
    base, parts = urlsplit(base_url), urlsplit(url)
    prefix = base.path.rstrip("/")
    return urlunsplit((base.scheme, base.netloc, prefix + parts.path, parts.query, parts.fragment))


def rewrite_urls(api: Any, base_url: str) -> Any:
    """Every ``http(s)`` URL inside ccxt's ``urls['api']`` (a string, dict or list) rewritten."""
    if isinstance(api, str):
        return rewrite_url(api, base_url) if api.startswith(("http://", "https://")) else api
    if isinstance(api, dict):
        return {k: rewrite_urls(v, base_url) for k, v in api.items()}
    if isinstance(api, list):
        return [rewrite_urls(v, base_url) for v in api]
    return api


def make_exchange(
    exchange: str,
    *,
    base_url: str | None = None,
    timeout_seconds: float = 10.0,
    options: Mapping[str, Any] | None = None,
) -> Any:
    """A ccxt exchange (sync REST) with the rate limiter on and ``base_url`` applied."""
    import ccxt

    if exchange not in ccxt.exchanges:
        raise FeedSetupError("exchange", f"unknown ccxt exchange {exchange!r} (see ccxt.exchanges)")
    config: dict[str, Any] = {
        "enableRateLimit": True,
        "timeout": max(1, round(timeout_seconds * 1000)),
    }
    if options:
        config["options"] = dict(options)
    client = getattr(ccxt, exchange)(config)
    if base_url:
        client.urls["api"] = rewrite_urls(client.urls["api"], base_url)
    return client


def classify(err: Exception, client: Any = None) -> FeedRequestError:
    """A ccxt (or transport) exception as a :class:`FeedRequestError`."""
    import ccxt

    message = f"{type(err).__name__}: {err}"
    retry_after = _retry_after(client)
    if isinstance(err, ccxt.DDoSProtection | ccxt.RateLimitExceeded):
        return FeedRequestError("rate_limit", message, status=429, retry_after=retry_after)
    if isinstance(err, ccxt.RequestTimeout):
        return FeedRequestError("timeout", message)
    if isinstance(err, ccxt.ExchangeNotAvailable):
        status = _status_in(str(err))
        kind = kind_of_status(status) if status is not None else "server"
        return FeedRequestError(kind, message, status=status, retry_after=retry_after)
    if isinstance(err, ccxt.NetworkError):
        return FeedRequestError("network", message)
    if isinstance(err, ccxt.ExchangeError):
        return FeedRequestError("client", message)
    if isinstance(err, TimeoutError):
        return FeedRequestError("timeout", message)
    if isinstance(err, OSError):
        return FeedRequestError("network", message)
    return FeedRequestError("other", message)


def _status_in(text: str) -> int | None:
    """The HTTP status ccxt writes into its messages (``… GET url 503 Service Unavailable``)."""
    for word in text.split():
        if len(word) == 3 and word.isdigit() and 400 <= int(word) <= 599:
            return int(word)
    return None


def _short_text(text: str, limit: int = 120) -> str:
    """``text`` on one line, cut to ``limit`` characters (a venue's body in an error)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _retry_after(client: Any) -> float | None:
    headers = getattr(client, "last_response_headers", None) if client is not None else None
    if not headers:
        return None
    value = headers.get("Retry-After") or headers.get("retry-after")
    return retry_after_seconds(value, headers.get("Date") or headers.get("date"))


def _precision_text(value: Any, mode: int) -> str | None:
    """A ccxt precision as a decimal step (``TICK_SIZE``: the step; ``DECIMAL_PLACES``: places)."""
    from ccxt.base.decimal_to_precision import DECIMAL_PLACES, TICK_SIZE

    if value is None:
        return None
    if mode == TICK_SIZE:
        text = decimal_text(value)
        return None if text == "NaN" or Decimal(text) <= 0 else text
    if mode == DECIMAL_PLACES:
        return tick_for_decimals(int(value))
    return None  # SIGNIFICANT_DIGITS: no fixed step


def _limit_text(market: Mapping[str, Any], kind: str) -> str | None:
    value = ((market.get("limits") or {}).get(kind) or {}).get("min")
    if value is None:
        return None
    text = decimal_text(value)
    return None if text == "NaN" else text


CANDLE_TIME = "ohlcv open time"
"""The field :class:`VenueStamps` names for a candle's timestamp."""


class VenueStamps:
    """A venue's timestamps in ns, whatever unit it sends, read from their size
    (:func:`~.port.stamp_unit`). ccxt promises ms, but some venues and proxies stamp candles
    in seconds: read as ms those fall in January 1970, so no bar is ever newer than the last
    and the feed would sit idle. The unit found is logged once per field when it is not ms."""

    def __init__(self, venue: str) -> None:
        self.venue = venue
        self._logged: set[tuple[str, str]] = set()

    def ns(self, stamp: int, field: str) -> int:
        """``stamp`` (``field`` of the venue's answer) in ns; 0 or less is left as ms."""
        if stamp <= 0:
            return stamp * NS_PER_MS
        unit, ns_per_unit = stamp_unit(stamp)
        if unit != "ms" and (field, unit) not in self._logged:
            self._logged.add((field, unit))
            structlog.get_logger("scarline.feeds").warning(
                "feed.timestamp_unit",
                venue=self.venue,
                field=field,
                unit=unit,
                note="ccxt's unit is ms; converted",
            )
        return stamp * ns_per_unit

    def ms(self, stamp: int, field: str) -> int:
        """``stamp`` in ms (what ccxt filters ``since`` on)."""
        return self.ns(stamp, field) // NS_PER_MS

    def parse_ohlcv_in_ms(self, client: Any) -> None:
        """Make ``client.parse_ohlcv`` give the open time in ms: ccxt drops every candle
        stamped before ``since`` (``filter_by_since_limit``) right after parsing, so a
        second-stamped one is gone before the feed sees it."""
        parse = client.parse_ohlcv

        def parse_ms(ohlcv: Any, market: Any = None) -> Any:
            row = parse(ohlcv, market)
            stamp = row[0] if isinstance(row, list) and row else None
            if isinstance(stamp, int) and not isinstance(stamp, bool):
                row[0] = self.ms(stamp, CANDLE_TIME)
            return row

        client.parse_ohlcv = parse_ms


def venue_instrument(market: Mapping[str, Any], venue: str, mode: int) -> VenueInstrument:
    """A ccxt market structure (``load_markets()[symbol]``) as a :class:`VenueInstrument`."""
    precision = market.get("precision") or {}
    return VenueInstrument(
        symbol=str(market["symbol"]),
        venue=venue,
        base=str(market.get("base") or ""),
        quote=str(market.get("quote") or ""),
        tick_size=_precision_text(precision.get("price"), mode),
        lot_size=_precision_text(precision.get("amount"), mode),
        min_qty=_limit_text(market, "amount"),
        min_notional=_limit_text(market, "cost"),
    )


class CcxtFeed(PollingFeed):
    """Closed OHLCV bars (and best bid/ask) of ``symbols`` from a ccxt exchange."""

    def __init__(
        self,
        exchange: str,
        symbols: list[str] | tuple[str, ...],
        step_ns: int,
        *,
        poll_seconds: float = 5.0,
        grace_seconds: float = 2.0,
        base_url: str | None = None,
        timeout_seconds: float = 10.0,
        quotes: bool = True,
        page_limit: int = 500,
        max_pages: int = 20,
        options: Mapping[str, Any] | None = None,
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
        rng: np.random.Generator | None = None,
        after: Mapping[str, int] | None = None,
        warmup_bars: int = 0,
        sleep: Callable[[float], None] | None = None,
        client: Any = None,
    ) -> None:
        self.client = client or make_exchange(
            exchange, base_url=base_url, timeout_seconds=timeout_seconds, options=options
        )
        # ccxt keeps the body it parsed, so a 200 that is no JSON is found without a
        # second parse (_check_json)
        self.client.enableLastJsonResponse = True
        self.stamps = VenueStamps(exchange)
        self.stamps.parse_ohlcv_in_ms(self.client)
        self.timeframe = ccxt_timeframe(step_ns)
        has = self.client.has
        if not has.get("fetchOHLCV"):
            raise FeedSetupError(
                "exchange", f"ccxt exchange {exchange!r} has no fetchOHLCV (no REST candles)"
            )
        known = self.client.timeframes or {}
        if known and self.timeframe not in known:
            raise FeedSetupError(
                "timeframe",
                f"ccxt exchange {exchange!r} has no {self.timeframe!r} candles "
                f"(it has: {', '.join(known)})",
            )
        self.page_limit, self.max_pages = page_limit, max_pages
        self.want_quotes = bool(quotes and has.get("fetchTicker"))
        self._sleep = sleep
        self._instruments: dict[str, VenueInstrument] | None = None
        info = FeedInfo(
            feed="ccxt",
            venue=exchange,
            symbols=tuple(symbols),
            step=step_ns,
            has_volume=True,
            has_quotes=self.want_quotes,
        )
        super().__init__(
            info,
            poll_seconds=poll_seconds,
            grace_seconds=grace_seconds,
            clock=clock,
            retry=retry,
            rng=rng,
            after=after,
            warmup_bars=warmup_bars,
        )

    def instruments(self, *, max_attempts: int = 5) -> dict[str, VenueInstrument]:
        """Venue precision and limits of every symbol (``load_markets``, retried; an unknown
        symbol or markets that never load are a DataError)."""
        if self._instruments is None:
            markets = self._retrying(lambda: self.client.load_markets(), max_attempts)
            venue = self.info.venue
            unknown = [s for s in self.info.symbols if s not in markets]
            if unknown:
                raise FeedSetupError(
                    "symbols",
                    f"ccxt exchange {venue!r} has no market {', '.join(map(repr, unknown))}",
                )
            mode = int(self.client.precisionMode)
            self._instruments = {
                s: venue_instrument(markets[s], venue, mode) for s in self.info.symbols
            }
            self._follow_venue_clock()
        return self._instruments

    def _follow_venue_clock(self) -> None:
        """Read the venue's clock once (``fetch_time``, where it has one) and, when ours is
        more than :data:`MAX_SKEW_NS` off, run the closing rule on the venue's time: with our
        clock ahead, the venue's bar still in progress would pass for closed (a partial bar
        journaled as final); behind, closed bars would wait. No answer: our clock is used."""
        if not self.client.has.get("fetchTime"):
            return
        before = self.clock.now()
        try:
            venue_ms = self.client.fetch_time()
        except Exception:  # an optional check: a venue without the endpoint is no error
            return
        after = self.clock.now()
        if not isinstance(venue_ms, int) or isinstance(venue_ms, bool) or venue_ms <= 0:
            return
        offset = self.stamps.ns(venue_ms, "server time") - (before + after) // 2
        if abs(offset) <= MAX_SKEW_NS:
            return
        structlog.get_logger("scarline.feeds").warning(
            "feed.clock_skew",
            venue=self.info.venue,
            offset_seconds=round(offset / NS_PER_SECOND, 3),
            note="bars close on the venue's clock",
        )
        self.clock = OffsetClock(self.clock, offset)

    def history(
        self,
        symbol: str,
        since_ns: int,
        until_ns: int | None = None,
        *,
        max_attempts: int = 8,
        on_retry: Callable[[int, FeedRequestError, float], None] | None = None,
    ) -> Iterator[list[Candle]]:
        """Closed candles of ``symbol`` from ``since_ns`` (to ``until_ns``, inclusive), page
        by page; each page is retried (backoff) before the last error is raised."""
        step = self.info.step
        last_open = last_closed_open(self.clock.now(), step, self.grace)
        if until_ns is not None:
            last_open = min(last_open, until_ns - until_ns % step)
        since = -(-since_ns // step) * step
        while since <= last_open:
            start = since
            rows = self._retrying(
                functools.partial(self._ohlcv, symbol, start), max_attempts, on_retry
            )
            candles = [c for c in map(self._candle(symbol), rows) if start <= c.ts <= last_open]
            if not candles:
                return
            yield candles
            since = candles[-1].ts + step

    def close(self) -> None:
        session = getattr(self.client, "session", None)
        if session is not None:
            session.close()

    def _fetch(self, now: int, got: Collected) -> None:
        for symbol in self.info.symbols:
            for _ in range(self.max_pages):
                if not self.assembler.due(symbol, now):
                    break
                rows = self._ohlcv(symbol, self.assembler.next_expected(symbol))
                before = self.assembler.last(symbol)
                self.offer(symbol, map(self._candle(symbol), rows), now, got)
                if self.assembler.last(symbol) == before or len(rows) < self.page_limit:
                    break
        if self.want_quotes:
            for symbol in self.info.symbols:
                quote = self._quote(symbol, self._ticker(symbol), now)
                if quote is not None:
                    got.quotes.append(quote)

    def _ohlcv(self, symbol: str, since_ns: int) -> list[list[Any]]:
        """One page of candles from ``since_ns`` (a venue failure as FeedRequestError)."""
        return self._call(
            lambda: self.client.fetch_ohlcv(
                symbol, self.timeframe, since=since_ns // NS_PER_MS, limit=self.page_limit
            )
        )

    def _ticker(self, symbol: str) -> dict[str, Any]:
        return self._call(lambda: self.client.fetch_ticker(symbol))

    def _candle(self, symbol: str) -> Callable[[list[Any]], Candle]:
        step, stamps = self.info.step, self.stamps

        def make(row: list[Any]) -> Candle:
            ts, o, h, lo, c, *rest = row
            return Candle(
                symbol=symbol,
                ts=stamps.ns(int(ts), CANDLE_TIME),
                step=step,
                open=decimal_text(o),
                high=decimal_text(h),
                low=decimal_text(lo),
                close=decimal_text(c),
                volume=decimal_text(rest[0]) if rest and rest[0] is not None else "0",
            )

        return make

    def _quote(self, symbol: str, ticker: Mapping[str, Any], now: int) -> Quote | None:
        bid, ask = ticker.get("bid"), ticker.get("ask")
        if bid is None and ask is None:
            return None

        def text(value: Any) -> str | None:
            return None if value is None else decimal_text(value)

        stamp = ticker.get("timestamp")
        return Quote(
            symbol=symbol,
            ts=self.stamps.ns(int(stamp), "ticker timestamp") if stamp is not None else now,
            bid=text(bid),
            ask=text(ask),
            bid_size=text(ticker.get("bidVolume")),
            ask_size=text(ticker.get("askVolume")),
        )

    def _call(self, fn: Callable[[], T]) -> T:
        try:
            result = fn()
        except FeedRequestError:
            raise
        except Exception as err:  # every venue failure is an outage, never a crash
            raise classify(err, self.client) from err
        self._check_json()
        return result

    def _check_json(self) -> None:
        """A 200 whose body is no JSON (an HTML error page, a cut-off answer) is a failed
        request: ccxt parses it as nothing, which would read as "no candles yet" and keep a
        feed that gets no data looking healthy. ccxt's own parse of that body is read
        (``last_json_response``, kept next to ``last_http_response``): not parsed again."""
        body = getattr(self.client, "last_http_response", None)
        if not isinstance(body, str) or not body.strip():
            return
        if getattr(self.client, "last_json_response", None) is None:
            raise FeedRequestError("other", f"not JSON: {_short_text(body)}")

    def _retrying(
        self,
        fn: Callable[[], T],
        max_attempts: int,
        on_retry: Callable[[int, FeedRequestError, float], None] | None = None,
    ) -> T:
        import time

        try:
            return call_with_retry(
                lambda: self._call(fn),
                policy=self.backoff.policy,
                rng=self.backoff.rng,
                sleep=self._sleep or time.sleep,
                max_attempts=max_attempts,
                on_failure=on_retry,
            )
        except FeedRequestError as err:
            raise DataError(
                f"ccxt exchange {self.info.venue!r}: {err} (after {max_attempts} attempts)"
            ) from None

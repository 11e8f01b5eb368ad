"""The CoinGecko adapter: the public v3 REST API through httpx, aggregated into bars.

Each poll is one request::

    GET {base}/api/v3/simple/price?ids=bitcoin,ethereum&vs_currencies=usd
        &include_last_updated_at=true&include_24hr_vol=true

and CoinGecko answers (documented shape; coins it does not know are left out)::

    {"bitcoin":  {"usd": 67187.33, "usd_24h_vol": 31012345678.9, "last_updated_at": 1711356300},
     "ethereum": {"usd": 3401.2,   "usd_24h_vol": 12012345678.1, "last_updated_at": 1711356288}}

``last_updated_at`` is the venue's Unix time (seconds) of the price, so it — not the time of
the poll — decides the bar an observation belongs to. Numbers are parsed as decimals, never
floats. The observations of one bar make its open (first), high, low and close (last); an
observation repeated (same ``last_updated_at``) counts once, and one for a bar that has
already closed is dropped as late. A stamp in ms (or µs) is read as such
(:func:`~.port.venue_ns`). One stamped further ahead of the clock than :data:`MAX_AHEAD_NS`
(or a bar, if longer) is dropped: a venue clock gone wrong would otherwise become the newest
time seen, and every true observation after it would be dropped as older. A bar with no
observation is a gap (``no_observation``). CoinGecko refreshes a price about once a minute or
less often: choose a timeframe of a minute or more and a grace delay that covers the refresh
lag.

``volume`` is ``"0"``: ``usd_24h_vol`` is a rolling 24-hour total, not the bar's volume, so
the feed says ``has_volume = False`` (no participation cap can apply). There are no quotes.
Tick and lot sizes do not come from CoinGecko: they are the configured ones.

``base_url`` replaces ``https://api.coingecko.com`` (scheme and host, a path in it is put in
front) and the path ``/api/v3/simple/price`` is kept. Symbols are ``BASE/QUOTE``: the coin id
is ``ids[symbol]``, else ``ids[BASE]``, else ``BASE`` in lower case (``"bitcoin/usd"`` works
as is), and the vs currency is ``QUOTE`` in lower case.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from scarline.market.feeds.bars import bar_open, is_closed
from scarline.market.feeds.polling import Collected, PollingFeed
from scarline.market.feeds.port import (
    Candle,
    Clock,
    FeedInfo,
    FeedRequestError,
    FeedSetupError,
    VenueInstrument,
    decimal_text,
    kind_of_status,
    retry_after_seconds,
    venue_ns,
)
from scarline.market.feeds.retry import RetryPolicy

DEFAULT_BASE_URL = "https://api.coingecko.com"
PATH = "/api/v3/simple/price"
NS_PER_SECOND = 10**9
MAX_AHEAD_NS = 60 * NS_PER_SECOND
"""How far ahead of the feed's clock an observation's stamp may be (venue clock skew)."""


def coin_of(symbol: str, ids: Mapping[str, str]) -> tuple[str, str]:
    """``(coin id, vs currency)`` of a ``BASE/QUOTE`` symbol."""
    base, sep, quote = symbol.partition("/")
    if not sep or not base or not quote:
        raise ValueError(f"CoinGecko symbol {symbol!r} is not BASE/QUOTE (e.g. 'bitcoin/usd')")
    coin = ids.get(symbol) or ids.get(base) or base.lower()
    return coin, quote.lower()


@dataclass
class _Building:
    """The bar an observation stream is filling: decimals, first/last observation."""

    ts: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal

    def add(self, price: Decimal) -> None:
        self.high, self.low, self.close = max(self.high, price), min(self.low, price), price

    def candle(self, symbol: str, step: int) -> Candle:
        return Candle(
            symbol=symbol,
            ts=self.ts,
            step=step,
            open=decimal_text(self.open),
            high=decimal_text(self.high),
            low=decimal_text(self.low),
            close=decimal_text(self.close),
            volume="0",
        )


class CoinGeckoFeed(PollingFeed):
    """Bars of ``symbols`` built from CoinGecko ``/simple/price`` observations."""

    def __init__(
        self,
        symbols: list[str] | tuple[str, ...],
        step_ns: int,
        *,
        ids: Mapping[str, str] | None = None,
        poll_seconds: float = 20.0,
        grace_seconds: float = 60.0,
        base_url: str | None = None,
        timeout_seconds: float = 10.0,
        tick_sizes: Mapping[str, str] | None = None,
        lot_sizes: Mapping[str, str] | None = None,
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
        rng: np.random.Generator | None = None,
        after: Mapping[str, int] | None = None,
        transport: Any = None,
    ) -> None:
        import httpx

        self.coins = {s: coin_of(s, ids or {}) for s in symbols}
        self.tick_sizes, self.lot_sizes = dict(tick_sizes or {}), dict(lot_sizes or {})
        base = urlsplit(base_url or DEFAULT_BASE_URL)
        self.url = f"{base.scheme}://{base.netloc}{base.path.rstrip('/')}{PATH}"
        self.http = httpx.Client(timeout=timeout_seconds, transport=transport)
        self._bars: dict[str, list[_Building]] = {s: [] for s in symbols}
        self._seen: dict[str, int] = {}
        self._instruments: dict[str, VenueInstrument] | None = None
        info = FeedInfo(
            feed="coingecko",
            venue="coingecko",
            symbols=tuple(symbols),
            step=step_ns,
            has_volume=False,
            has_quotes=False,
        )
        super().__init__(
            info,
            poll_seconds=poll_seconds,
            grace_seconds=grace_seconds,
            clock=clock,
            retry=retry,
            rng=rng,
            after=after,
            gap_reason="no_observation",
        )

    def instruments(self) -> dict[str, VenueInstrument]:
        """The configured tick and lot sizes (CoinGecko has none); a symbol whose coin or
        currency CoinGecko does not know is a FeedSetupError (checked once)."""
        if self._instruments is None:
            self._check_listed()
            self._instruments = self._configured()
        return self._instruments

    def _check_listed(self) -> None:
        """CoinGecko leaves a coin it does not know out of its answer, and a currency it does
        not know out of a coin's entry: such a symbol would never get a bar, silently, while
        the feed looked healthy. One request at the start finds them (when it fails, the
        venue is down: the poll loop's outage handling takes over, nothing is refused)."""
        try:
            body = self._get()
        except FeedRequestError:
            return
        unknown = [
            f"{symbol!r} (coin id {coin!r})"
            for symbol, (coin, _) in self.coins.items()
            if not isinstance(body.get(coin), dict)
        ]
        if unknown:
            raise FeedSetupError(
                "symbols",
                f"CoinGecko has no coin for {', '.join(unknown)}; name its CoinGecko id in "
                'live.coingecko_ids (e.g. BTC = "bitcoin")',
            )
        no_currency = [
            f"{symbol!r} ({currency!r})"
            for symbol, (coin, currency) in self.coins.items()
            if currency not in body[coin]
        ]
        if no_currency:
            raise FeedSetupError(
                "symbols",
                f"CoinGecko has no price in the quote currency of {', '.join(no_currency)}",
            )

    def _configured(self) -> dict[str, VenueInstrument]:
        out = {}
        for symbol in self.info.symbols:
            base, _, quote = symbol.partition("/")
            out[symbol] = VenueInstrument(
                symbol=symbol,
                venue="coingecko",
                base=base,
                quote=quote,
                tick_size=self.tick_sizes.get(symbol),
                lot_size=self.lot_sizes.get(symbol),
            )
        return out

    def close(self) -> None:
        self.http.close()

    def params(self) -> dict[str, str]:
        coins = dict.fromkeys(c for c, _ in self.coins.values())
        currencies = dict.fromkeys(v for _, v in self.coins.values())
        return {
            "ids": ",".join(coins),
            "vs_currencies": ",".join(currencies),
            "include_last_updated_at": "true",
            "include_24hr_vol": "true",
        }

    def _fetch(self, now: int, got: Collected) -> None:
        body = self._get()
        step = self.info.step
        for symbol, (coin, currency) in self.coins.items():
            entry = body.get(coin)
            if isinstance(entry, dict):
                self._observe(symbol, entry, currency, now, got)
            bars = self._bars[symbol]
            ready = [b for b in bars if is_closed(b.ts, step, self.grace, now)]
            self._bars[symbol] = bars[len(ready) :]
            self.offer(symbol, [b.candle(symbol, step) for b in ready], now, got)

    def _observe(
        self, symbol: str, entry: dict[str, Any], currency: str, now: int, got: Collected
    ) -> None:
        price, stamp = entry.get(currency), entry.get("last_updated_at")
        if not isinstance(price, Decimal) or not isinstance(stamp, int | Decimal):
            return
        t = venue_ns(int(stamp))  # seconds, or the unit its size shows
        if t > now + max(MAX_AHEAD_NS, self.info.step):
            got.dropped += 1  # from the future: never the newest time seen
            return
        seen = self._seen.get(symbol)
        if seen is not None and t <= seen:
            if t < seen:
                got.dropped += 1  # older than what was already seen
            return
        self._seen[symbol] = t
        ts = bar_open(t, self.info.step)
        if ts <= self.assembler.last(symbol):
            got.dropped += 1  # its bar has closed already
            return
        bars = self._bars[symbol]
        if bars and bars[-1].ts == ts:
            bars[-1].add(price)
        else:
            bars.append(_Building(ts, price, price, price, price))

    def _get(self) -> dict[str, Any]:
        import httpx

        try:
            response = self.http.get(self.url, params=self.params())
        except httpx.TimeoutException as err:
            raise FeedRequestError("timeout", f"{type(err).__name__}: {err}") from err
        except httpx.HTTPError as err:
            raise FeedRequestError("network", f"{type(err).__name__}: {err}") from err
        if response.status_code != 200:
            headers = response.headers
            wait = retry_after_seconds(headers.get("Retry-After"), headers.get("Date"))
            raise FeedRequestError(
                kind_of_status(response.status_code),
                f"GET {self.url} {response.status_code}: {response.text[:200]}",
                status=response.status_code,
                retry_after=wait,
            )
        try:
            body = json.loads(response.text, parse_float=Decimal, parse_int=Decimal)
        except ValueError as err:
            raise FeedRequestError("other", f"GET {self.url}: not JSON ({err})") from err
        if not isinstance(body, dict):
            raise FeedRequestError("other", f"GET {self.url}: not a JSON object")
        return body

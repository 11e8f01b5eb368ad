"""The ccxt feed against a fake binance on 127.0.0.1: candles, instruments, quotes, outages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from feed_venue import NS, T0, FakeClock, FakeVenue, Fault, Market, Row, script
from structlog.testing import capture_logs

from scarline.errors import DataError
from scarline.market.feeds.bars import LiveChecks
from scarline.market.feeds.ccxt_feed import CcxtFeed, ccxt_timeframe, rewrite_url, rewrite_urls
from scarline.market.feeds.port import Candle, FeedBatch
from scarline.market.feeds.retry import RetryPolicy

SYMBOLS = ["BTC/USDT", "ETH/USDT"]


def make_feed(venue: FakeVenue, clock: FakeClock, **kw: Any) -> CcxtFeed:
    kw.setdefault("poll_seconds", 1.0)
    kw.setdefault("grace_seconds", 0.5)
    kw.setdefault("timeout_seconds", 0.5)
    feed = CcxtFeed(
        "binance", kw.pop("symbols", SYMBOLS), NS, base_url=venue.url, clock=clock, **kw
    )
    feed.client.rateLimit = 1  # ms: ccxt's limiter stays on, the suite stays fast
    return feed


def run(feed: CcxtFeed, clock: FakeClock, until: int) -> list[FeedBatch]:
    """Poll as a session would, sleeping (fake time) until each batch's next poll."""
    batches = []
    while clock.now() < until:
        batch = feed.poll()
        batches.append(batch)
        clock.set(max(batch.next_poll_ns, clock.now() + 1))
    return batches


def served(venue: FakeVenue, market_id: str, symbol: str, start: int, stop: int) -> list[Candle]:
    """The venue's scripted candles in ``[start, stop)`` as the feed must deliver them."""
    out = []
    for r in venue.candles[market_id]:
        if start <= r.ts < stop:
            out.append(Candle(symbol=symbol, ts=r.ts, step=NS, **_prices(r)))
    return out


def _prices(r: Row) -> dict[str, str]:
    from scarline.market.feeds.port import decimal_text

    fields = ("open", "high", "low", "close", "volume")
    return {k: decimal_text(getattr(r, k)) for k in fields}


def delivered(batches: list[FeedBatch], symbol: str) -> list[Candle]:
    return [c for b in batches for c in b.candles if c.symbol == symbol]


def test_the_rate_limiter_is_on_and_every_url_points_at_base_url(
    venue: FakeVenue, clock: FakeClock
) -> None:
    feed = make_feed(venue, clock)
    assert feed.client.enableRateLimit is True
    assert feed.client.urls["api"]["public"] == f"{venue.url}/api/v3"
    assert feed.client.urls["api"]["fapiPublic"] == f"{venue.url}/fapi/v1"
    assert all(url.startswith(venue.url) for url in _urls(feed.client.urls["api"]))


def _urls(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [u for v in node.values() for u in _urls(v)]
    return []


def test_base_url_keeps_each_path_and_prefixes_its_own() -> None:
    url = "https://api.binance.com/api/v3"
    assert rewrite_url(url, "http://127.0.0.1:9") == "http://127.0.0.1:9/api/v3"
    assert rewrite_url(url, "https://proxy.example/bn/") == "https://proxy.example/bn/api/v3"
    nested = {"rest": {"a": "https://x.io/v1", "b": ["https://y.io/v2"]}, "ws": "wss://x.io"}
    assert rewrite_urls(nested, "http://h:1") == {
        "rest": {"a": "http://h:1/v1", "b": ["http://h:1/v2"]},
        "ws": "wss://x.io",
    }


def test_timeframes_are_ccxt_names() -> None:
    assert [ccxt_timeframe(s * NS) for s in (1, 5, 60, 900, 3600, 86_400, 604_800)] == [
        "1s",
        "5s",
        "1m",
        "15m",
        "1h",
        "1d",
        "1w",
    ]


def test_instruments_carry_the_venue_tick_fractional_lot_and_min_notional(
    venue: FakeVenue, clock: FakeClock
) -> None:
    feed = make_feed(venue, clock)
    inst = feed.instruments()
    btc, eth = inst["BTC/USDT"], inst["ETH/USDT"]
    assert (btc.tick_size, btc.lot_size, btc.min_qty, btc.min_notional) == (
        "0.01",
        "0.00001",
        "0.00001",
        "5",
    )
    assert (eth.lot_size, eth.min_notional) == ("0.0001", "10")
    spec = btc.spec()
    assert (spec.tick_size, spec.lot_size, spec.currency, spec.venue) == (
        "0.01",
        "0.00001",
        "USDT",
        "binance",
    )


def test_an_unknown_symbol_is_a_data_error(venue: FakeVenue, clock: FakeClock) -> None:
    feed = make_feed(venue, clock, symbols=["BTC/USDT", "DOGE/USDT"])
    with pytest.raises(DataError, match="no market 'DOGE/USDT'"):
        feed.instruments()


def test_an_unknown_exchange_or_timeframe_is_a_data_error(venue: FakeVenue) -> None:
    with pytest.raises(DataError, match="unknown ccxt exchange 'nope'"):
        CcxtFeed("nope", ["BTC/USDT"], NS)
    with pytest.raises(DataError, match="no '7s' candles"):
        CcxtFeed("binance", ["BTC/USDT"], 7 * NS, base_url=venue.url)


def test_candles_equal_the_served_ones_none_missing_or_twice(
    venue: FakeVenue, clock: FakeClock
) -> None:
    """60 one-second bars over irregular polls; each served candle arrives once, closed."""
    feed = make_feed(venue, clock, warmup_bars=5)
    batches = run(feed, clock, T0 + 60 * NS)
    for symbol, market_id in (("BTC/USDT", "BTCUSDT"), ("ETH/USDT", "ETHUSDT")):
        got = delivered(batches, symbol)
        assert got == served(venue, market_id, symbol, T0 - 5 * NS, got[-1].ts + NS)
        assert got[-1].ts >= T0 + 58 * NS
    for batch in batches:
        assert all(c.end + feed.grace <= batch.polled_ns for c in batch.candles)  # closed only
        assert [c.ts for c in batch.candles] == sorted(c.ts for c in batch.candles)
        assert batch.healthy and not batch.gaps and batch.dropped == 0
    quotes = [q for b in batches for q in b.quotes if q.symbol == "BTC/USDT"]
    assert quotes and all(q.bid is not None and q.ask is not None for q in quotes)
    assert all(q.ts == b.polled_ns for b in batches for q in b.quotes)


@pytest.mark.parametrize("unit", [NS, 1_000, 1], ids=["s", "us", "ns"])
def test_candles_stamped_in_seconds_or_finer_units_become_bars_at_their_times(
    venue: FakeVenue, clock: FakeClock, unit: int
) -> None:
    """Before, second-stamped candles read as ms fell in January 1970: ccxt dropped them
    as older than ``since`` and the feed sat idle (its clock, set from the venue's, too)."""
    venue.stamp_ns = unit
    feed = make_feed(venue, clock, warmup_bars=3)
    with capture_logs() as logs:
        feed.instruments()  # reads the venue's clock, in the same unit
        batches = []
        for _ in range(24):  # polls every 0.5 s (a feed on a 1970 clock never sleeps)
            batches.append(feed.poll())
            clock.advance(0.5)
    for symbol, market_id in (("BTC/USDT", "BTCUSDT"), ("ETH/USDT", "ETHUSDT")):
        got = delivered(batches, symbol)
        assert got and got[-1].ts >= T0 + 10 * NS
        assert got == served(venue, market_id, symbol, T0 - 3 * NS, got[-1].ts + NS)
    units = [(e["field"], e["unit"]) for e in logs if e["event"] == "feed.timestamp_unit"]
    name = {NS: "s", 1_000: "us", 1: "ns"}[unit]
    assert units == [("server time", name), ("ohlcv open time", name)]  # once each


def test_polls_between_closes_ask_nothing_twice(venue: FakeVenue, clock: FakeClock) -> None:
    """Polling faster than bars close re-reads no candle (klines only when a bar is due)."""
    feed = make_feed(venue, clock, symbols=["BTC/USDT"], quotes=False)
    got = []
    for _ in range(40):
        got += feed.poll().candles
        clock.advance(0.25)
    assert [c.ts for c in got] == [T0 + k * NS for k in range(len(got))]
    klines = [p for p, _, _ in venue.requests if p == "/api/v3/klines"]
    assert len(klines) <= len(got) + 1


def test_a_resumed_feed_continues_after_the_bar_it_has(venue: FakeVenue, clock: FakeClock) -> None:
    clock.advance(30)
    feed = make_feed(venue, clock, symbols=["BTC/USDT"], after={"BTC/USDT": T0 + 4 * NS})
    got = feed.poll().candles
    assert [c.ts for c in got] == [T0 + k * NS for k in range(5, 29)]  # backfilled from REST


def test_a_bar_the_venue_skipped_is_a_gap(venue: FakeVenue, clock: FakeClock) -> None:
    venue.candles["BTCUSDT"] = [r for r in venue.candles["BTCUSDT"] if r.ts != T0 + 3 * NS]
    feed = make_feed(venue, clock, symbols=["BTC/USDT"])
    batches = run(feed, clock, T0 + 8 * NS)
    gaps = [g for b in batches for g in b.gaps]
    assert [(g.start, g.end, g.bars, g.reason) for g in gaps] == [
        (T0 + 3 * NS, T0 + 4 * NS, 1, "venue")
    ]
    assert T0 + 3 * NS not in [c.ts for c in delivered(batches, "BTC/USDT")]


def test_a_bad_print_is_flagged_by_the_jump_band(venue: FakeVenue, clock: FakeClock) -> None:
    rows = venue.candles["BTCUSDT"]
    k = next(i for i, r in enumerate(rows) if r.ts == T0 + 5 * NS)
    r = rows[k]
    x100 = {f: str(_dec(getattr(r, f)) * 100) for f in ("open", "high", "low", "close")}
    rows[k] = Row(r.ts, **x100, volume=r.volume)
    feed = make_feed(venue, clock, symbols=["BTC/USDT"], quotes=False)
    checks = LiveChecks(jump_band=0.2, stale=3 * NS)
    verdicts = []
    for batch in run(feed, clock, T0 + 12 * NS):
        verdicts += [checks.check(c, batch.polled_ns) for c in batch.candles]
    bad = [v for v in verdicts if not v.ok]
    assert [(v.ts, v.rule) for v in bad] == [(T0, "unconfirmed"), (T0 + 5 * NS, "price_jump")]
    assert "band ±20%" in bad[1].message
    assert len(verdicts) >= 10


def test_with_a_warmup_bar_the_first_live_bar_is_not_delayed(
    venue: FakeVenue, clock: FakeClock
) -> None:
    """The documented bound of the band's confirmed first reference (docs/feeds.md): the
    warmup bar waits unconfirmed, the bar in progress at the start confirms it and is ok."""
    feed = make_feed(venue, clock, symbols=["BTC/USDT"], quotes=False, warmup_bars=1)
    checks = LiveChecks(jump_band=0.2, stale=3 * NS)
    verdicts = []
    for batch in run(feed, clock, T0 + 4 * NS):
        verdicts += [checks.check(c, batch.polled_ns) for c in batch.candles]
    assert [(v.ts, v.rule) for v in verdicts[:3]] == [
        (T0 - NS, "unconfirmed"),
        (T0, "ok"),
        (T0 + NS, "ok"),
    ]


def _dec(text: str) -> Any:
    from decimal import Decimal

    return Decimal(text)


def test_500s_then_timeouts_back_off_record_an_outage_and_backfill(
    venue: FakeVenue, clock: FakeClock
) -> None:
    """15 s down (500s, then time-outs): no crash, polls back off, one outage record with
    the bars missed, and the recovering poll backfills every bar the venue kept."""
    down, up = T0 + 10 * NS, T0 + 25 * NS
    venue.faults = [Fault(down, T0 + 17 * NS, "500"), Fault(T0 + 17 * NS, up, "timeout")]
    policy = RetryPolicy(base_seconds=1.0, factor=2.0, max_seconds=4.0, jitter=0.5)
    feed = make_feed(venue, clock, symbols=["BTC/USDT"], retry=policy)
    batches = run(feed, clock, T0 + 40 * NS)

    started = [b.outage_started for b in batches if b.outage_started]
    ended = [b.outage_ended for b in batches if b.outage_ended]
    assert len(started) == 1 and len(ended) == 1
    assert started[0].kind == "server" and down <= started[0].start < down + NS
    outage = ended[0]
    assert outage.start == started[0].start and up <= outage.end <= up + 5 * NS
    assert set(outage.kinds) == {"server", "timeout"} and outage.failures >= 4
    assert outage.bars_missed == pytest.approx((outage.end - outage.start) / NS, abs=1)

    failed = [b for b in batches if not b.healthy]
    waits = [b.next_poll_ns - b.polled_ns for b in failed if b.outage_started or b.candles == ()]
    assert max(waits) <= 4 * NS and min(waits) >= 0
    assert sum(1 for b in failed if b.next_poll_ns > b.polled_ns + NS) >= 2  # backed off
    requests_down = [t for p, _, t in venue.requests if down <= t < up]
    assert len(requests_down) < 15  # not one per poll interval: the backoff spaced them

    got = delivered(batches, "BTC/USDT")
    assert got == served(venue, "BTCUSDT", "BTC/USDT", T0, got[-1].ts + NS)
    recovering = next(b for b in batches if b.outage_ended)
    assert len(recovering.candles) >= outage.bars_missed - 1  # the backfill
    assert not any(b.gaps for b in batches)


def test_a_429_waits_at_least_its_retry_after(venue: FakeVenue, clock: FakeClock) -> None:
    venue.faults = [Fault(T0, T0 + 2 * NS, "429", retry_after=7.0)]
    feed = make_feed(venue, clock, symbols=["BTC/USDT"], quotes=False, warmup_bars=2)
    batch = feed.poll()
    assert not batch.healthy and batch.outage_started is not None
    assert batch.outage_started.kind == "rate_limit"
    assert batch.next_poll_ns - batch.polled_ns >= 7 * NS
    clock.set(batch.next_poll_ns - 1)
    assert feed.poll().healthy is False  # still backing off: no request made
    assert len(venue.requests) == 1  # the first request (exchangeInfo) only
    clock.set(batch.next_poll_ns)
    again = feed.poll()
    assert again.healthy and again.outage_ended is not None and again.candles


def test_a_200_that_is_not_json_is_an_outage_not_an_empty_answer(
    venue: FakeVenue, clock: FakeClock
) -> None:
    # before, ccxt parsed the page as no candles: a feed getting no data looked healthy
    venue.faults = [Fault(T0 + 3 * NS, T0 + 8 * NS, "garbage")]
    feed = make_feed(venue, clock, symbols=["BTC/USDT"], quotes=False)
    batches = run(feed, clock, T0 + 15 * NS)
    (started,) = [b.outage_started for b in batches if b.outage_started]
    (ended,) = [b.outage_ended for b in batches if b.outage_ended]
    assert started.kind == "other" and "not JSON: <html>Bad Gateway</html>" in started.error
    assert ended.end >= T0 + 8 * NS and any(not b.healthy for b in batches)
    got = delivered(batches, "BTC/USDT")
    assert got == served(venue, "BTCUSDT", "BTC/USDT", T0, got[-1].ts + NS)  # none lost


def test_a_429_with_an_http_date_retry_after_waits_until_that_date(
    venue: FakeVenue, clock: FakeClock
) -> None:
    # before, only delay-seconds were read: an HTTP-date became the 5 s rate-limit floor
    at = format_datetime(datetime.now(UTC) + timedelta(seconds=10), usegmt=True)
    venue.faults = [Fault(T0, T0 + 2 * NS, "429", retry_after=at)]
    feed = make_feed(venue, clock, symbols=["BTC/USDT"], quotes=False, warmup_bars=2)
    batch = feed.poll()
    assert batch.outage_started is not None and batch.outage_started.kind == "rate_limit"
    assert 8 * NS <= batch.next_poll_ns - batch.polled_ns <= 12 * NS


class Lagging:
    """The venue's clock, ``lag`` ns behind ours."""

    def __init__(self, clock: FakeClock, lag: int) -> None:
        self.clock, self.lag = clock, lag

    def now(self) -> int:
        return self.clock.now() - self.lag


def test_bars_close_on_the_venue_clock_when_ours_runs_ahead(clock: FakeClock) -> None:
    # before, our clock 5 s ahead took the venue's bar in progress for a closed one
    venue_clock = Lagging(clock, 5 * NS)
    candles = {"BTCUSDT": script(T0 - 20 * NS, 60, NS, price="30000.00", seed=1)}
    with FakeVenue(venue_clock, NS, candles=candles) as venue:  # type: ignore[arg-type]
        feed = make_feed(venue, clock, symbols=["BTC/USDT"], quotes=False)
        feed.instruments()
        seen: list[tuple[int, Candle]] = []
        while clock.now() < T0 + 20 * NS:
            at = venue_clock.now()
            batch = feed.poll()
            seen += [(at, c) for c in batch.candles]
            clock.advance(max(feed.seconds_until(batch.next_poll_ns), 1e-3))  # as a session
        assert seen and all(c.end + feed.grace <= at for at, c in seen)
        got = [c for _, c in seen]
        assert got == served(venue, "BTCUSDT", "BTC/USDT", got[0].ts, got[-1].ts + NS)


def test_history_pages_through_closed_candles(venue: FakeVenue, clock: FakeClock) -> None:
    clock.advance(150)
    feed = make_feed(venue, clock, symbols=["BTC/USDT"], page_limit=50)
    pages = list(feed.history("BTC/USDT", T0 - 10 * NS))
    assert [len(p) for p in pages] == [50, 50, 50, 9]
    got = [c for p in pages for c in p]
    assert got == served(venue, "BTCUSDT", "BTC/USDT", T0 - 10 * NS, T0 + 149 * NS)


def test_history_retries_then_raises_a_data_error(venue: FakeVenue, clock: FakeClock) -> None:
    venue.faults = [Fault(T0, T0 + 100 * NS, "500")]
    waits: list[float] = []
    feed = make_feed(venue, clock, symbols=["BTC/USDT"], sleep=waits.append)
    feed._instruments = {}  # markets are not needed for this
    with pytest.raises(DataError, match="after 3 attempts"):
        list(feed.history("BTC/USDT", T0 - 5 * NS, max_attempts=3))
    assert len(waits) == 2 and 0.5 <= waits[0] <= 1.0 <= waits[1] <= 2.0  # 1 s, 2 s, jittered


def test_a_market_script_helper_is_consistent() -> None:
    rows = script(T0, 50, NS, seed=4)
    assert all(float(r.low) <= min(float(r.open), float(r.close)) for r in rows)
    assert all(float(r.high) >= max(float(r.open), float(r.close)) for r in rows)
    assert Market("ETH/USDT").id == "ETHUSDT"

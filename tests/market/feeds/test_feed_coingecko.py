"""The CoinGecko feed against a fake ``/api/v3/simple/price`` on 127.0.0.1."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from feed_venue import NS, T0, FakeClock, FakeVenue, Fault, Observation

from scarline.market.feeds.coingecko import CoinGeckoFeed, coin_of
from scarline.market.feeds.port import Candle, FeedBatch, FeedSetupError

STEP = 5 * NS
SYMBOLS = ["BTC/USD", "ethereum/usd"]


def observations(start_s: int, n: int, every: int, base: str, skip: range = range(0)) -> list:
    """One observation every ``every`` s; the price walks in cents, exact text."""
    out = []
    price = Decimal(base)
    for k in range(n):
        t = start_s + k * every
        price += Decimal((k * 37) % 11 - 5) / 100
        if t not in skip:
            out.append(Observation(updated_at=t, price=str(price)))
    return out


def expected_bars(obs: list[Observation], symbol: str, upto: int) -> list[Candle]:
    """OHLC per 5-s bar of ``last_updated_at`` (first, max, min, last), bars ending by upto."""
    bars: dict[int, list[Decimal]] = {}
    for o in obs:
        ts = o.updated_at * NS - o.updated_at * NS % STEP
        bars.setdefault(ts, []).append(Decimal(o.price))
    out = []
    for ts, p in sorted(bars.items()):
        if ts + STEP <= upto:
            o, h, lo, c = (f"{v.normalize():f}" for v in (p[0], max(p), min(p), p[-1]))
            out.append(Candle(symbol=symbol, ts=ts, step=STEP, open=o, high=h, low=lo, close=c))
    return out


def make(venue: FakeVenue, clock: FakeClock, **kw: Any) -> CoinGeckoFeed:
    kw.setdefault("poll_seconds", 1.0)
    kw.setdefault("grace_seconds", 1.0)
    kw.setdefault("timeout_seconds", 0.5)
    return CoinGeckoFeed(
        SYMBOLS, STEP, ids={"BTC": "bitcoin"}, base_url=venue.url, clock=clock, **kw
    )


def run(feed: CoinGeckoFeed, clock: FakeClock, until: int) -> list[FeedBatch]:
    batches = []
    while clock.now() < until:
        batch = feed.poll()
        batches.append(batch)
        clock.set(max(batch.next_poll_ns, clock.now() + 1))
    return batches


@pytest.fixture
def venue(clock: FakeClock) -> Any:
    start = T0 // NS
    with FakeVenue(clock, STEP) as fake:
        fake.observations = {
            "bitcoin": observations(start, 60, 2, "30000.00"),
            "ethereum": observations(
                start + 1, 40, 3, "2000.50", skip=range(start + 20, start + 31)
            ),
        }
        yield fake


def test_symbols_map_to_coin_ids_and_vs_currencies() -> None:
    assert coin_of("BTC/USD", {"BTC": "bitcoin"}) == ("bitcoin", "usd")
    assert coin_of("ethereum/usd", {}) == ("ethereum", "usd")
    assert coin_of("SOL/EUR", {"SOL/EUR": "solana"}) == ("solana", "eur")
    with pytest.raises(ValueError, match="BASE/QUOTE"):
        coin_of("BTC", {})


def test_observations_become_the_bars_of_their_venue_time(
    venue: FakeVenue, clock: FakeClock
) -> None:
    feed = make(venue, clock)
    batches = run(feed, clock, T0 + 100 * NS)
    got = {s: [c for b in batches for c in b.candles if c.symbol == s] for s in SYMBOLS}
    last = got["BTC/USD"][-1].end
    assert got["BTC/USD"] == expected_bars(venue.observations["bitcoin"], "BTC/USD", last)
    assert len(got["BTC/USD"]) == 19  # bars [0 s, 95 s) closed by 100 s
    eth = expected_bars(venue.observations["ethereum"], "ethereum/usd", got["ethereum/usd"][-1].end)
    assert got["ethereum/usd"] == eth
    gaps = [g for b in batches for g in b.gaps]
    assert [(g.symbol, (g.start - T0) // NS, g.bars, g.reason) for g in gaps] == [
        ("ethereum/usd", 20, 2, "no_observation")
    ]
    assert all(c.end + feed.grace <= b.polled_ns for b in batches for c in b.candles)
    assert feed.info.has_volume is False and feed.info.has_quotes is False
    path, params, _ = venue.requests[0]
    assert path == "/api/v3/simple/price"
    assert params == {
        "ids": "bitcoin,ethereum",
        "vs_currencies": "usd",
        "include_last_updated_at": "true",
        "include_24hr_vol": "true",
    }


def test_an_observation_after_its_bar_closed_is_dropped(venue: FakeVenue, clock: FakeClock) -> None:
    start = T0 // NS
    venue.observations = {
        "bitcoin": [Observation(start + 1, "10"), Observation(start + 3, "11")],
        "ethereum": [],
    }
    feed = make(venue, clock, grace_seconds=0.5)
    clock.set(T0 + 4 * NS)
    assert feed.poll().candles == ()
    clock.set(T0 + 6 * NS)  # bar [0, 5) closed: 10 then 11 (the poll at 4 s saw 11 already)
    (candle,) = feed.poll().candles
    assert (candle.open, candle.close) == ("11", "11")
    venue.observations["bitcoin"].append(Observation(start + 4, "12"))  # lagging: bar closed
    venue.observations["bitcoin"].append(Observation(start + 2, "9"))  # older than seen
    clock.set(T0 + 7 * NS)
    batch = feed.poll()
    assert batch.candles == () and batch.dropped == 1


def test_an_outage_is_recorded_and_the_feed_recovers(venue: FakeVenue, clock: FakeClock) -> None:
    venue.faults = [
        Fault(T0 + 20 * NS, T0 + 27 * NS, "500"),
        Fault(T0 + 27 * NS, T0 + 35 * NS, "timeout"),
    ]
    feed = make(venue, clock)
    batches = run(feed, clock, T0 + 80 * NS)
    (started,) = [b.outage_started for b in batches if b.outage_started]
    (ended,) = [b.outage_ended for b in batches if b.outage_ended]
    assert started.kind == "server" and set(ended.kinds) == {"server", "timeout"}
    assert ended.bars_missed >= 2 and ended.end >= T0 + 35 * NS
    btc = [c for b in batches for c in b.candles if c.symbol == "BTC/USD"]
    assert [c.ts for c in btc] == sorted({c.ts for c in btc})  # no bar twice
    missing = [g for b in batches for g in b.gaps if g.symbol == "BTC/USD"]
    assert missing and all(g.reason == "no_observation" for g in missing)


def test_a_429_carries_retry_after(venue: FakeVenue, clock: FakeClock) -> None:
    venue.faults = [Fault(T0, T0 + NS, "429", retry_after=9)]
    batch = make(venue, clock).poll()
    assert batch.outage_started is not None and batch.outage_started.kind == "rate_limit"
    assert batch.next_poll_ns - batch.polled_ns >= 9 * NS


def test_instruments_are_the_configured_sizes(venue: FakeVenue, clock: FakeClock) -> None:
    clock.advance(1)  # ethereum's first observation: the fake lists a coin once it has one
    feed = make(venue, clock, tick_sizes={"BTC/USD": "0.01"}, lot_sizes={"BTC/USD": "0.00001"})
    inst = feed.instruments()
    assert (inst["BTC/USD"].tick_size, inst["BTC/USD"].lot_size) == ("0.01", "0.00001")
    assert inst["ethereum/usd"].tick_size is None and inst["ethereum/usd"].quote == "usd"
    feed.close()


def test_a_stamp_from_the_future_is_dropped_and_does_not_stall_the_symbol(
    venue: FakeVenue, clock: FakeClock
) -> None:
    # one answer stamped a day ahead (a venue clock gone wrong): before, it became the
    # newest time seen and every true observation after it was dropped as older, for good
    serve = venue._simple_price

    def a_day_ahead_at_6s(params: dict[str, str]) -> dict[str, Any]:
        body = serve(params)
        if clock.now() // NS == T0 // NS + 6:
            body["bitcoin"]["last_updated_at"] += 86_400
        return body

    venue._simple_price = a_day_ahead_at_6s  # type: ignore[method-assign]
    feed = make(venue, clock)
    batches = run(feed, clock, T0 + 40 * NS)
    btc = [c for b in batches for c in b.candles if c.symbol == "BTC/USD"]
    assert [(c.ts - T0) // NS for c in btc] == list(range(0, 35, 5))
    assert sum(b.dropped for b in batches) >= 1
    feed.close()


@pytest.mark.parametrize(
    ("symbols", "message"),
    [
        (["BTC/USD", "NOPE/USD"], "CoinGecko has no coin for 'NOPE/USD' (coin id 'nope')"),
        (["BTC/XYZ"], "no price in the quote currency of 'BTC/XYZ' ('xyz')"),
    ],
)
def test_a_coin_or_currency_coingecko_leaves_out_is_refused_at_the_start(
    venue: FakeVenue, clock: FakeClock, symbols: list[str], message: str
) -> None:
    # before, the symbol silently never got a bar while the feed looked healthy
    serve = venue._simple_price

    def without_xyz(params: dict[str, str]) -> dict[str, Any]:
        body = serve({**params, "vs_currencies": "usd"})
        return {coin: {k: v for k, v in e.items() if "xyz" not in k} for coin, e in body.items()}

    venue._simple_price = without_xyz  # type: ignore[method-assign]
    feed = CoinGeckoFeed(symbols, STEP, ids={"BTC": "bitcoin"}, base_url=venue.url, clock=clock)
    with pytest.raises(FeedSetupError, match=re.escape(message)) as err:
        feed.instruments()
    assert err.value.key == "symbols"
    feed.close()


def test_a_venue_down_at_the_start_refuses_nothing(venue: FakeVenue, clock: FakeClock) -> None:
    venue.faults = [Fault(T0, T0 + NS, "500")]
    feed = make(venue, clock)
    assert set(feed.instruments()) == set(SYMBOLS)  # the poll loop's outages take over
    feed.close()


def test_stamps_in_milliseconds_give_the_same_bars(venue: FakeVenue, clock: FakeClock) -> None:
    # before, a stamp in ms was read as seconds: a bar thousands of years ahead, never closed
    serve = venue._simple_price

    def in_ms(params: dict[str, str]) -> dict[str, Any]:
        body = serve(params)
        for entry in body.values():
            entry["last_updated_at"] *= 1000
        return body

    venue._simple_price = in_ms  # type: ignore[method-assign]
    feed = make(venue, clock)
    batches = run(feed, clock, T0 + 40 * NS)
    got = [c for b in batches for c in b.candles if c.symbol == "BTC/USD"]
    assert got and got == expected_bars(venue.observations["bitcoin"], "BTC/USD", got[-1].end)
    feed.close()

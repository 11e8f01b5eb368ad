"""The live market book: decimal text to ticks and fractional lots exactly, rows in time
order, growth, and a resumed book."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scarline.instrument import InstrumentSpec
from scarline.market.feeds.port import Candle, Quote
from scarline.paper.book import LiveBook

BTC = InstrumentSpec(symbol="BTC/USDT", tick_size="0.01", lot_size="0.00001", currency="USDT")
ETH = InstrumentSpec(symbol="ETH/USDT", tick_size="0.01", lot_size="0.0001", currency="USDT")


def candle(symbol: str, ts: int, close: str, volume: str = "1.5") -> Candle:
    return Candle(
        symbol=symbol, ts=ts, step=60, open=close, high=close, low=close, close=close, volume=volume
    )


def test_prices_are_ticks_and_volumes_fractional_lots() -> None:
    book = LiveBook([BTC, ETH], name="t", frequency="1min", capacity=2)
    market = book.append(0, {0: candle("BTC/USDT", 0, "67187.33", "12.34567")})
    assert market.close[0, 0] == 6718733 and market.volume[0, 0] == 1234567
    assert market.valid.tolist() == [[True, False]]  # ETH had no bar at this row
    for t in range(1, 5):  # past the capacity: the arrays double
        market = book.append(
            t * 60,
            {0: candle("BTC/USDT", t * 60, "67187.34"), 1: candle("ETH/USDT", t * 60, "3000.5")},
        )
    assert market.n_steps == 5 and market.close[4, 1] == 300050 and market.volume[4, 1] == 15000
    assert market.timestamps.tolist() == [0, 60, 120, 180, 240]
    assert market.calendar == "24/7"
    with pytest.raises(ValueError, match="not after"):
        book.append(240, {})


@given(st.decimals(min_value=0, max_value=10**6, places=5, allow_nan=False))
def test_any_fractional_amount_on_the_lot_grid_is_exact(amount: object) -> None:
    book = LiveBook([BTC], name="t", frequency="1min")
    text = f"{amount:f}"
    market = book.append(0, {0: candle("BTC/USDT", 0, "1.00", text)})
    assert market.volume[0, 0] * BTC.lot == amount


def test_a_resumed_book_starts_from_the_journaled_rows() -> None:
    first = LiveBook([BTC], name="t", frequency="1min", capacity=1)
    for t in range(3):
        market = first.append(t, {0: candle("BTC/USDT", t, f"{100 + t}.00")})
    again = LiveBook([BTC], name="t", frequency="1min", capacity=1)
    again.load(market)
    grown = again.append(3, {0: candle("BTC/USDT", 3, "103.00")})
    assert grown.close[:, 0].tolist() == [10000, 10100, 10200, 10300]
    with pytest.raises(ValueError, match="other instruments"):
        LiveBook([ETH], name="t", frequency="1min").load(market)


def quote(bid: str | None, ask: str | None, size: str = "1") -> Quote:
    return Quote(symbol="BTC/USDT", ts=0, bid=bid, ask=ask, bid_size=size, ask_size=size)


def test_a_quote_no_fill_may_be_priced_from_is_refused() -> None:
    book = LiveBook([BTC], name="t", frequency="1min")
    assert book.quote_units(quote("100.00", "100.01")) == (10000, 10001, 100000, 100000)
    assert book.quote_units(quote("100.00", "100.00"))[:2] == (10000, 10000)  # locked: usable
    assert book.quote_units(quote(None, "100.01"))[:2] == (0, 10001)  # one side only
    with pytest.raises(ValueError, match=r"crossed quote of .BTC/USDT.: bid 100\.02 > 100\.01"):
        book.quote_units(quote("100.02", "100.01"))
    with pytest.raises(ValueError, match="negative"):
        book.quote_units(quote("-1.00", "100.01"))
    with pytest.raises(ValueError, match="negative"):
        book.quote_units(quote("100.00", "100.01", size="-2"))

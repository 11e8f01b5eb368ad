"""The live market book: decimal text to ticks and fractional lots exactly, rows in time
order, growth, and a resumed book."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scarline.instrument import InstrumentSpec
from scarline.market.feeds.port import Candle
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

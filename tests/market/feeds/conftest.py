"""A fake venue on 127.0.0.1 on a fake clock, for the feed tests (see tests/feed_venue.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from feed_venue import NS, T0, FakeClock, FakeVenue, Market, loopback_only, script

__all__ = ["loopback_only"]  # autouse: every test here stays on 127.0.0.1


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def venue(clock: FakeClock) -> Iterator[FakeVenue]:
    """1-second BTC/USDT and ETH/USDT candles from 10 s before T0 to 200 s after."""
    btc, eth = Market("BTC/USDT"), Market("ETH/USDT", lot="0.0001", min_notional="10")
    with FakeVenue(
        clock,
        NS,
        markets=[btc, eth],
        candles={
            "BTCUSDT": script(T0 - 10 * NS, 210, NS, price="30000.00", seed=1),
            "ETHUSDT": script(T0 - 10 * NS, 210, NS, price="2000.00", seed=2),
        },
    ) as fake:
        yield fake

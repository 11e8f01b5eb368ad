"""A fake venue on 127.0.0.1 on a fake clock, for the feed tests (see tests/feed_venue.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from feed_venue import T0, FakeClock, FakeVenue, loopback_only, two_symbols

__all__ = ["loopback_only"]  # autouse: every test here stays on 127.0.0.1


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def venue(clock: FakeClock) -> Iterator[FakeVenue]:
    """1-second BTC/USDT and ETH/USDT candles from 10 s before T0 to 200 s after."""
    with two_symbols(clock) as fake:
        yield fake

"""A fake venue on 127.0.0.1 on a fake clock, for the feed tests (see tests/feed_venue.py)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from feed_venue import NS, T0, FakeClock, FakeVenue, Market, script


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every connection of a feed test goes to 127.0.0.1: the internet is never reached (an
    attempt is refused, and fails the test even where a feed turns it into an outage)."""
    connect = socket.socket.connect
    attempts: list[Any] = []

    def guarded(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and host not in ("127.0.0.1", "localhost", "::1"):
            attempts.append(address)
            raise ConnectionRefusedError(f"a feed test tried to reach {address!r}")
        return connect(self, address)

    resolve = socket.getaddrinfo

    def guarded_resolve(host: Any, *args: Any, **kw: Any) -> Any:
        if isinstance(host, str) and host not in ("127.0.0.1", "localhost", "::1"):
            attempts.append(host)
            raise socket.gaierror(f"a feed test tried to resolve {host!r}")
        return resolve(host, *args, **kw)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_resolve)
    yield
    assert attempts == [], f"a feed test tried to reach {attempts}"


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

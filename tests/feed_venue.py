"""A fake venue on 127.0.0.1 for the feed tests: binance's REST paths the ccxt feed calls and
CoinGecko's ``/api/v3/simple/price``, serving scripted candles on a fake clock.

Routes: ``GET /api/v3/exchangeInfo`` (spot markets with PRICE_FILTER, LOT_SIZE and NOTIONAL
filters), ``GET /api/v3/time`` (the fake clock), ``GET /fapi/v1/exchangeInfo`` and
``/dapi/v1/exchangeInfo`` (no markets),
``GET /api/v3/klines`` (``symbol``, ``interval``, ``startTime``, ``endTime``, ``limit``; only
candles that have opened by the fake clock's now), ``GET /api/v3/ticker/24hr`` (last close
± one tick as bid/ask) and ``GET /api/v3/simple/price`` (the latest scripted observation per
coin at now). Faults are scripted by fake-clock windows: ``"500"``, ``"429"`` (with
Retry-After), ``"timeout"`` (the handler sleeps longer than the client waits) or ``"garbage"``
(a 200 whose body is an HTML page, not JSON). ``stamp_ns`` serves times in another unit than
binance's ms (``startTime``/``endTime`` are still read as ms: a proxy rewriting answers).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

NS = 10**9
MS = 10**6
T0 = 1_700_000_000 * NS
"""The feed tests' fake clock start: 2023-11-14T22:13:20Z."""


class FakeClock:
    """Time that moves only when told (``sleep`` advances it: no real waiting)."""

    def __init__(self, start_ns: int) -> None:
        self.t = start_ns
        self.lock = threading.Lock()

    def now(self) -> int:
        with self.lock:
            return self.t

    def advance(self, seconds: float) -> None:
        with self.lock:
            self.t += round(seconds * NS)

    def set(self, t: int) -> None:
        with self.lock:
            self.t = max(self.t, t)

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)


@dataclass(frozen=True)
class Market:
    symbol: str = "BTC/USDT"
    tick: str = "0.01"
    lot: str = "0.00001"
    min_notional: str = "5"

    @property
    def id(self) -> str:
        return self.symbol.replace("/", "")

    @property
    def base(self) -> str:
        return self.symbol.split("/")[0]

    @property
    def quote(self) -> str:
        return self.symbol.split("/")[1]


@dataclass(frozen=True)
class Row:
    """One scripted candle: open time (ns) and OHLCV text."""

    ts: int
    open: str
    high: str
    low: str
    close: str
    volume: str


@dataclass(frozen=True)
class Fault:
    """Requests whose fake-clock time is in ``[start, end)`` fail with ``kind``."""

    start: int
    end: int
    kind: str  # "500" | "429" | "timeout" | "garbage"
    retry_after: float | str = 2.0  # seconds, or an HTTP-date


@dataclass
class Observation:
    """A CoinGecko observation: ``last_updated_at`` (s), price and 24 h volume as text."""

    updated_at: int
    price: str
    volume: str = "1000000.5"


def script(
    start_ns: int, n: int, step_ns: int, *, price: str = "30000.00", seed: int = 0
) -> list[Row]:
    """``n`` candles from ``start_ns``: a deterministic walk in cents, OHLC consistent."""
    rows = []
    cents = int(Decimal(price) * 100)
    state = seed * 7919 + 17
    for i in range(n):
        state = (state * 1103515245 + 12345) % 2**31
        move = state % 201 - 100  # -1.00 .. +1.00
        o, c = cents, max(100, cents + move)
        h, lo = max(o, c) + state % 37, min(o, c) - state % 23
        vol = Decimal(state % 100_000) / Decimal(100_000) + 1
        rows.append(
            Row(start_ns + i * step_ns, _c(o), _c(h), _c(lo), _c(c), f"{vol.normalize():f}")
        )
        cents = c
    return rows


def _c(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


@dataclass
class FakeVenue:
    clock: FakeClock
    step_ns: int
    markets: list[Market] = field(default_factory=lambda: [Market()])
    candles: dict[str, list[Row]] = field(default_factory=dict)
    observations: dict[str, list[Observation]] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    timeout_sleep: float = 1.2
    spread_ticks: int = 1
    """The ticker's bid and ask sit this many ticks below and above the last close
    (negative: a crossed book)."""
    stamp_ns: int = MS
    """ns per unit of the times it sends (klines, server time): ms as binance; ``NS``:
    seconds, as some venues and proxies send."""
    requests: list[tuple[str, dict[str, str], int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        venue = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                venue._handle(self)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> FakeVenue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- routing -----------------------------------------------------------------------

    def _handle(self, req: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(req.path)
        params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        now = self.clock.now()
        self.requests.append((parts.path, params, now))
        for fault in self.faults:
            if fault.start <= now < fault.end:
                if fault.kind == "timeout":
                    time.sleep(self.timeout_sleep)
                    return self._send(req, 504, {"error": "late"})
                if fault.kind == "garbage":
                    return self._send(req, 200, "<html>Bad Gateway</html>", text=True)
                headers = {"Retry-After": str(fault.retry_after)} if fault.kind == "429" else {}
                status = int(fault.kind)
                return self._send(req, status, "Internal Server Error", headers, text=True)
        routes = {
            "/api/v3/exchangeInfo": self._exchange_info,
            "/fapi/v1/exchangeInfo": lambda p: {"symbols": []},
            "/dapi/v1/exchangeInfo": lambda p: {"symbols": []},
            "/api/v3/klines": self._klines,
            "/api/v3/ticker/24hr": self._ticker,
            "/api/v3/time": lambda p: {"serverTime": self.clock.now() // self.stamp_ns},
            "/api/v3/simple/price": self._simple_price,
        }
        route = routes.get(parts.path)
        if route is None:
            return self._send(req, 404, {"code": -1, "msg": f"no route {parts.path}"})
        return self._send(req, 200, route(params))

    @staticmethod
    def _send(
        req: BaseHTTPRequestHandler,
        status: int,
        body: Any,
        headers: dict[str, str] | None = None,
        *,
        text: bool = False,
    ) -> None:
        data = (body if text else json.dumps(body)).encode()
        try:
            req.send_response(status)
            req.send_header("Content-Type", "text/plain" if text else "application/json")
            req.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                req.send_header(k, v)
            req.end_headers()
            req.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a time-out)

    def _exchange_info(self, params: dict[str, str]) -> dict[str, Any]:
        symbols = []
        for m in self.markets:
            symbols.append(
                {
                    "symbol": m.id,
                    "status": "TRADING",
                    "baseAsset": m.base,
                    "baseAssetPrecision": 8,
                    "quoteAsset": m.quote,
                    "quotePrecision": 8,
                    "quoteAssetPrecision": 8,
                    "orderTypes": ["LIMIT", "MARKET"],
                    "icebergAllowed": True,
                    "ocoAllowed": True,
                    "isSpotTradingAllowed": True,
                    "isMarginTradingAllowed": False,
                    "filters": [
                        {
                            "filterType": "PRICE_FILTER",
                            "minPrice": m.tick,
                            "maxPrice": "1000000.00",
                            "tickSize": m.tick,
                        },
                        {
                            "filterType": "LOT_SIZE",
                            "minQty": m.lot,
                            "maxQty": "9000.00000000",
                            "stepSize": m.lot,
                        },
                        {
                            "filterType": "NOTIONAL",
                            "minNotional": m.min_notional,
                            "maxNotional": "9000000.00",
                        },
                    ],
                    "permissions": ["SPOT"],
                    "permissionSets": [["SPOT"]],
                }
            )
        return {"timezone": "UTC", "serverTime": self.clock.now() // MS, "symbols": symbols}

    def _opened(self, market_id: str) -> list[Row]:
        now = self.clock.now()
        return [r for r in self.candles.get(market_id, []) if r.ts <= now]

    def _klines(self, params: dict[str, str]) -> list[list[Any]]:
        rows = self._opened(params["symbol"])
        start = int(params.get("startTime", 0)) * MS
        end = int(params["endTime"]) * MS if "endTime" in params else None
        limit = min(int(params.get("limit", 500)), 1000)
        picked = [r for r in rows if r.ts >= start and (end is None or r.ts <= end)]
        if "startTime" not in params:
            picked = picked[-limit:]
        out = []
        unit = self.stamp_ns
        for r in picked[:limit]:
            close = (r.ts + self.step_ns) // unit - 1
            out.append(
                [r.ts // unit, r.open, r.high, r.low, r.close, r.volume, close, "0", 1, "0", "0"]
            )
        return out

    def _ticker(self, params: dict[str, str]) -> dict[str, Any]:
        market = next(m for m in self.markets if m.id == params["symbol"])
        rows = self._opened(market.id)
        last = Decimal(rows[-1].close) if rows else Decimal("1")
        tick = Decimal(market.tick) * self.spread_ticks
        return {
            "symbol": market.id,
            "lastPrice": str(last),
            "bidPrice": str(last - tick),
            "bidQty": "1.5",
            "askPrice": str(last + tick),
            "askQty": "2.25",
            "openTime": self.clock.now() // MS - 86_400_000,
            "closeTime": self.clock.now() // MS,
            "volume": "10",
            "quoteVolume": "100",
        }

    def _simple_price(self, params: dict[str, str]) -> dict[str, Any]:
        now_s = self.clock.now() // NS
        vs = params["vs_currencies"].split(",")
        out: dict[str, Any] = {}
        for coin in params["ids"].split(","):
            seen = [o for o in self.observations.get(coin, []) if o.updated_at <= now_s]
            if not seen:
                continue
            obs = seen[-1]
            entry: dict[str, Any] = {}
            for currency in vs:
                entry[currency] = _number(obs.price)
                if params.get("include_24hr_vol") == "true":
                    entry[f"{currency}_24h_vol"] = _number(obs.volume)
            if params.get("include_last_updated_at") == "true":
                entry["last_updated_at"] = obs.updated_at
            out[coin] = entry
        return out


def _number(text: str) -> float:
    """A JSON number as CoinGecko sends it (``json`` writes a float's shortest repr)."""
    return float(text)


HOUR = 3600 * NS
JAN_2024 = 1_704_067_200 * NS
"""2024-01-01T00:00:00Z."""


def history_venue(hours: int = 100) -> FakeVenue:
    """Hourly BTC/USDT and ETH/USDT candles from 2024-01-01, all closed by now (real time)."""
    return FakeVenue(
        FakeClock(time.time_ns()),
        HOUR,
        markets=[Market("BTC/USDT"), Market("ETH/USDT", lot="0.0001")],
        candles={
            "BTCUSDT": script(JAN_2024, hours, HOUR, price="42000.00", seed=3),
            "ETHUSDT": script(JAN_2024, hours, HOUR, price="2300.00", seed=4),
        },
    )


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


class ScaledClock:
    """Fake time that runs ``speed`` times faster than the wall clock from ``t0`` at wall
    time ``r0`` (ns): processes that share the three numbers share the clock."""

    def __init__(self, t0: int, r0: int, speed: float) -> None:
        self.t0, self.r0, self.speed = t0, r0, speed

    def now(self) -> int:
        return self.t0 + round((time.time_ns() - self.r0) * self.speed)


def two_symbols(clock: FakeClock) -> FakeVenue:
    """1-second BTC/USDT (lot 0.00001) and ETH/USDT (lot 0.0001) candles from 10 s before T0
    to 200 s after: the feed and paper tests' venue (use it as a context manager)."""
    btc, eth = Market("BTC/USDT"), Market("ETH/USDT", lot="0.0001", min_notional="10")
    return FakeVenue(
        clock,
        NS,
        markets=[btc, eth],
        candles={
            "BTCUSDT": script(T0 - 10 * NS, 210, NS, price="30000.00", seed=1),
            "ETHUSDT": script(T0 - 10 * NS, 210, NS, price="2000.00", seed=2),
        },
    )

"""Paper sessions against the fake venue on 127.0.0.1 (tests/feed_venue.py), on a fake clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from feed_venue import NS, T0, FakeClock, FakeVenue, Market, loopback_only, script

from scarline.config import RunConfig
from scarline.market.feeds.config import LiveConfig
from scarline.market.feeds.factory import make_feed
from scarline.market.feeds.port import Clock, Feed
from scarline.paper.session import PaperOptions, run_paper
from scarline.runner import RunSummary

__all__ = ["loopback_only"]  # autouse: every paper test stays on 127.0.0.1

AGENTS: list[dict[str, Any]] = [
    {"kind": "buy-and-hold"},
    {"kind": "sma-crossover", "fast": [2], "slow": [5]},
    {"kind": "momentum", "lookbacks": [3]},
    {"kind": "random-entry", "count": 4, "p_entry": 0.2, "p_exit": 0.2},
    {"kind": "q-network", "count": 4, "qnet": {"hidden": [8], "epsilon_decay_steps": 20}},
]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def venue(clock: FakeClock) -> Iterator[FakeVenue]:
    """1-second BTC/USDT (lot 0.00001) and ETH/USDT (lot 0.0001) candles from 10 s before
    T0 to 200 s after."""
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


def paper_config(tmp_path: Path, live: dict[str, Any], **kw: Any) -> RunConfig:
    return RunConfig(
        name="paper-test",
        seed=7,
        out_dir=str(tmp_path / "runs"),
        agents=kw.pop("agents", AGENTS),
        live=live,
        report=kw.pop("report", False),
        **kw,
    )


def ccxt_live(venue: FakeVenue, **kw: Any) -> dict[str, Any]:
    return {
        "feed": "ccxt",
        "exchange": "binance",
        "symbols": ["BTC/USDT", "ETH/USDT"],
        "timeframe": "1s",
        "base_url": venue.url,
        "poll_seconds": 1.0,
        "grace_seconds": 0.5,
        "timeout_seconds": 0.15,
        **kw,
    }


PaperRunner = Callable[..., RunSummary]


@pytest.fixture
def run_session(clock: FakeClock, tmp_path: Path) -> PaperRunner:
    """Run a paper session of ``config`` on the fake clock: ``run_session(config,
    max_steps=…, run_id=…)``."""

    def go(config: RunConfig, **kw: Any) -> RunSummary:
        options = PaperOptions(
            out_dir=tmp_path / "runs",
            run_id=kw.pop("run_id", "paper"),
            feed_factory=fast_feeds(clock),
            sleep=clock.sleep,
            **kw,
        )
        return run_paper(config, options)

    return go


def fast_feeds(clock: Clock) -> Callable[[LiveConfig, Mapping[str, int] | None], Feed]:
    """Feeds on ``clock`` with ccxt's rate limiter at 1 ms (on, but the suite stays fast)."""

    def build(live: LiveConfig, after: Mapping[str, int] | None) -> Feed:
        feed = make_feed(live, clock=clock, after=after)
        client = getattr(feed, "client", None)
        if client is not None:
            client.rateLimit = 1
        return feed

    return build

"""What the paper tests share besides fixtures: the population, configs of a paper session
against the fake venue, and feeds on a fake clock (tests/feed_venue.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from feed_venue import FakeVenue

from scarline.config import RunConfig
from scarline.events import DataFault
from scarline.market.feeds.config import LiveConfig
from scarline.market.feeds.factory import make_feed
from scarline.market.feeds.port import Clock, Feed
from scarline.runner import RunSummary

AGENTS: list[dict[str, Any]] = [
    {"kind": "buy-and-hold"},
    {"kind": "sma-crossover", "fast": [2], "slow": [5]},
    {"kind": "momentum", "lookbacks": [3]},
    {"kind": "random-entry", "count": 4, "p_entry": 0.2, "p_exit": 0.2},
    {"kind": "q-network", "count": 4, "qnet": {"hidden": [8], "epsilon_decay_steps": 20}},
]


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
        # real seconds, unlike the feed's fake clock: a process busy for 0.15 s (a numba
        # compile after an edit, holding the GIL) timed a poll out and turned a bar into a
        # late, stale one; tests that inject timeouts pass a short one (FakeVenue sleeps 0.4 s)
        "timeout_seconds": 2.0,
        **kw,
    }


PaperRunner = Callable[..., RunSummary]
"""``run_session(config, max_steps=…, run_id=…)``: the conftest fixture."""


def fast_feeds(clock: Clock) -> Callable[[LiveConfig, Mapping[str, int] | None], Feed]:
    """Feeds on ``clock`` with ccxt's rate limiter at 1 ms (on, but the suite stays fast)."""

    def build(live: LiveConfig, after: Mapping[str, int] | None) -> Feed:
        feed = make_feed(live, clock=clock, after=after)
        client = getattr(feed, "client", None)
        if client is not None:
            client.rateLimit = 1
        return feed

    return build


def after_first_bars(faults: list[DataFault], symbols: list[str], first: int) -> list[DataFault]:
    """``faults`` past each symbol's first bar (at ``first``), which is journaled as an
    ``unconfirmed`` fault until the next bar confirms the band's reference (docs/feeds.md)."""
    leading = [(f.symbol, f.bar_ts, f.rule) for f in faults[: len(symbols)]]
    assert leading == [(s, first, "unconfirmed") for s in symbols], leading
    return faults[len(symbols) :]

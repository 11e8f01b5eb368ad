"""What every polling feed shares: the poll cycle around one venue fetch.

A poll at ``now`` skips the network while a backoff is pending; otherwise it asks the
adapter to fetch (:meth:`PollingFeed._fetch`), which offers what the venue returned to the
:class:`~.bars.BarAssembler` (closing rule, dedup, gaps). A
:class:`~.port.FeedRequestError` ends the fetch: what arrived before it is kept, the failure
opens (or extends) an outage and schedules the next attempt. The first good poll after
failures closes the outage; its batch carries the backfilled bars.

The next poll is due ``poll_seconds`` later, or at the next bar close if that is sooner.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from scarline.market.feeds.bars import BarAssembler
from scarline.market.feeds.port import (
    Candle,
    Clock,
    FeedBatch,
    FeedInfo,
    FeedRequestError,
    Gap,
    GapReason,
    Outage,
    OutageStarted,
    Quote,
    SystemClock,
)
from scarline.market.feeds.retry import Backoff, OutageMonitor, RetryPolicy, default_rng

NS_PER_SECOND = 10**9


class Collected:
    """What one fetch delivered so far (kept even when a later request of it fails)."""

    def __init__(self) -> None:
        self.candles: list[Candle] = []
        self.gaps: list[Gap] = []
        self.quotes: list[Quote] = []
        self.dropped = 0


class PollingFeed:
    """Base of the REST adapters; subclasses set ``info`` and implement ``_fetch``."""

    def __init__(
        self,
        info: FeedInfo,
        *,
        poll_seconds: float,
        grace_seconds: float,
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
        rng: np.random.Generator | None = None,
        after: Mapping[str, int] | None = None,
        warmup_bars: int = 0,
        gap_reason: GapReason = "venue",
    ) -> None:
        if not poll_seconds > 0:
            raise ValueError(f"poll_seconds must be > 0, got {poll_seconds}")
        self._info = info
        self.clock = clock or SystemClock()
        self.poll_ns = round(poll_seconds * NS_PER_SECOND)
        self.grace = round(grace_seconds * NS_PER_SECOND)
        self.assembler = BarAssembler(
            info.symbols,
            info.step,
            self.grace,
            start=self.clock.now(),
            after=after,
            warmup=warmup_bars,
            gap_reason=gap_reason,
        )
        self.backoff = Backoff(retry or RetryPolicy(), rng if rng is not None else default_rng())
        self.monitor = OutageMonitor(info.step, self.grace)

    @property
    def info(self) -> FeedInfo:
        return self._info

    def seconds_until(self, t: int) -> float:
        """Wall seconds until ``t`` on the feed's clock (the wall clock of a live venue)."""
        return max(0.0, (t - self.clock.now()) / NS_PER_SECOND)

    def poll(self) -> FeedBatch:
        now = self.clock.now()
        if not self.backoff.ready(now):
            assert self.backoff.next_ns is not None
            return FeedBatch(polled_ns=now, next_poll_ns=self.backoff.next_ns, healthy=False)
        got = Collected()
        try:
            self._fetch(now, got)
        except FeedRequestError as err:
            started = self.monitor.failure(now, err)
            return self._batch(
                now, got, next_poll=self.backoff.failure(now, err), healthy=False, started=started
            )
        self.backoff.success()
        ended = self.monitor.success(now)
        return self._batch(now, got, next_poll=self._next_poll(now), ended=ended)

    def offer(self, symbol: str, candles: Iterable[Candle], now: int, got: Collected) -> None:
        """Pass venue candles of ``symbol`` through the assembler into ``got``."""
        kept = self.assembler.offer(symbol, candles, now)
        got.candles += kept.candles
        got.gaps += kept.gaps
        got.dropped += kept.dropped

    def _fetch(self, now: int, got: Collected) -> None:
        raise NotImplementedError

    def _next_poll(self, now: int) -> int:
        step, grace = self._info.step, self.grace
        closes = [self.assembler.next_expected(s) + step + grace for s in self._info.symbols]
        upcoming = [c for c in closes if c > now]
        soonest = min(upcoming) if upcoming else now + self.poll_ns
        return min(now + self.poll_ns, soonest)

    def _batch(
        self,
        now: int,
        got: Collected,
        *,
        next_poll: int,
        healthy: bool = True,
        started: OutageStarted | None = None,
        ended: Outage | None = None,
    ) -> FeedBatch:
        order = {s: i for i, s in enumerate(self._info.symbols)}
        candles = sorted(got.candles, key=lambda c: (c.ts, order.get(c.symbol, 0)))
        return FeedBatch(
            polled_ns=now,
            next_poll_ns=next_poll,
            candles=tuple(candles),
            quotes=tuple(got.quotes),
            gaps=tuple(got.gaps),
            outage_started=started,
            outage_ended=ended,
            healthy=healthy,
            dropped=got.dropped,
        )

"""Build the feed and the live checks a ``[live]`` section describes."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from scarline.market.feeds.bars import LiveChecks
from scarline.market.feeds.config import LiveConfig
from scarline.market.feeds.port import Clock, Feed
from scarline.market.feeds.retry import RetryPolicy, default_rng


def retry_policy(config: LiveConfig) -> RetryPolicy:
    r = config.retry
    return RetryPolicy(
        base_seconds=r.base_seconds,
        factor=r.factor,
        max_seconds=r.max_seconds,
        jitter=r.jitter,
        rate_limit_seconds=r.rate_limit_seconds,
    )


def make_feed(
    config: LiveConfig,
    *,
    clock: Clock | None = None,
    seed: int = 0,
    after: Mapping[str, int] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> Feed:
    """The configured feed. ``after[symbol]`` is the open time of the last bar the session
    already has (resume: polling continues after it, backfilling the downtime); ``seed``
    seeds the backoff jitter; ``clock`` and ``sleep`` are injected by tests."""
    if config.feed == "ccxt":
        from scarline.market.feeds.ccxt_feed import CcxtFeed

        return CcxtFeed(
            config.exchange,
            config.symbols,
            config.step_ns,
            poll_seconds=config.poll,
            grace_seconds=config.grace,
            base_url=config.base_url,
            timeout_seconds=config.timeout_seconds,
            quotes=config.quotes,
            options=config.options,
            clock=clock,
            retry=retry_policy(config),
            rng=default_rng(seed),
            after=after,
            warmup_bars=config.warmup_bars,
            sleep=sleep,
        )
    if config.feed == "coingecko":
        from scarline.market.feeds.coingecko import CoinGeckoFeed

        return CoinGeckoFeed(
            config.symbols,
            config.step_ns,
            ids=config.coingecko_ids,
            poll_seconds=config.poll,
            grace_seconds=config.grace,
            base_url=config.base_url,
            timeout_seconds=config.timeout_seconds,
            tick_sizes=config.tick_sizes,
            lot_sizes=config.lot_sizes,
            clock=clock,
            retry=retry_policy(config),
            rng=default_rng(seed),
            after=after,
        )
    from scarline.market.feeds.replay_feed import ReplayFeed

    assert config.replay_file is not None  # the config validator requires it
    return ReplayFeed(
        config.replay_file,
        speed=None if config.replay_speed == "max" else config.replay_speed,
        grace_seconds=config.grace,
        symbols=config.symbols,
        clock=clock,
        after=after,
    )


def make_checks(config: LiveConfig) -> LiveChecks:
    """The live G0 checks with the configured band and staleness."""
    return LiveChecks(
        jump_band=config.jump_band,
        jump_reset_after=config.jump_reset_after,
        stale=config.stale_ns,
    )

"""Backoff with seeded jitter, Retry-After, outage records and the blocking retry."""

from __future__ import annotations

import pytest

from scarline.market.feeds.port import FeedRequestError, kind_of_status, retry_after_seconds
from scarline.market.feeds.retry import (
    Backoff,
    OutageMonitor,
    RetryPolicy,
    call_with_retry,
    default_rng,
)

S = 10**9


def err(kind: str = "server", retry_after: float | None = None) -> FeedRequestError:
    return FeedRequestError(kind, f"{kind} failure", retry_after=retry_after)  # type: ignore[arg-type]


def test_delays_grow_exponentially_to_the_cap_less_the_jitter() -> None:
    policy = RetryPolicy(base_seconds=1, factor=2, max_seconds=10, jitter=0.5)
    assert [policy.delay(n, 0.0) for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]
    assert [policy.delay(n, 0.999999) for n in (1, 2)] == pytest.approx([0.5, 1.0], rel=1e-5)


def test_a_rate_limit_waits_for_retry_after_and_its_floor() -> None:
    policy = RetryPolicy(base_seconds=1, jitter=0, rate_limit_seconds=5)
    assert policy.delay(1, 0.0, kind="rate_limit") == 5
    assert policy.delay(1, 0.0, kind="rate_limit", retry_after=12) == 12
    assert policy.delay(1, 0.0, kind="server", retry_after=3) == 3


def test_the_jitter_is_the_same_for_the_same_seed() -> None:
    def delays(seed: int) -> list[int]:
        backoff = Backoff(RetryPolicy(), default_rng(seed))
        return [backoff.failure(0, err()) for _ in range(6)]

    assert delays(7) == delays(7) and delays(7) != delays(8)


def test_backoff_is_ready_again_after_its_delay_and_resets_on_success() -> None:
    backoff = Backoff(RetryPolicy(base_seconds=2, jitter=0), default_rng())
    assert backoff.ready(0)
    assert backoff.failure(10 * S, err()) == 12 * S
    assert not backoff.ready(12 * S - 1) and backoff.ready(12 * S)
    assert backoff.failure(12 * S, err()) == 16 * S
    backoff.success()
    assert backoff.ready(0) and backoff.failures == 0


def test_an_outage_is_one_start_and_one_end_with_bars_missed() -> None:
    monitor = OutageMonitor(step=S, grace=S // 2)
    assert monitor.success(5 * S) is None
    started = monitor.failure(10 * S, err("server"))
    assert started is not None and started.start == 10 * S and started.kind == "server"
    assert monitor.failure(12 * S, err("timeout")) is None
    assert monitor.down_since == 10 * S
    outage = monitor.success(25 * S)
    assert outage is not None
    assert (outage.start, outage.end, outage.failures, outage.kinds) == (
        10 * S,
        25 * S,
        2,
        ("server", "timeout"),
    )
    assert outage.bars_missed == 15 and outage.last_error == "timeout failure"
    assert monitor.success(26 * S) is None and monitor.down_since is None


def test_call_with_retry_sleeps_between_attempts_then_gives_up() -> None:
    calls: list[int] = []
    waits: list[float] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise err("timeout")
        return "ok"

    policy = RetryPolicy(jitter=0)
    got = call_with_retry(
        flaky, policy=policy, rng=default_rng(), sleep=waits.append, max_attempts=5
    )
    assert got == "ok" and waits == [1.0, 2.0]
    with pytest.raises(FeedRequestError):
        call_with_retry(
            lambda: (_ for _ in ()).throw(err()),
            policy=policy,
            rng=default_rng(),
            sleep=waits.append,
            max_attempts=2,
        )


def test_http_statuses_map_to_failure_kinds() -> None:
    assert [kind_of_status(s) for s in (429, 418, 500, 503, 504, 408, 404, 200)] == [
        "rate_limit",
        "rate_limit",
        "server",
        "server",
        "timeout",
        "timeout",
        "client",
        "other",
    ]


def test_a_bad_policy_is_refused() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(jitter=2)
    with pytest.raises(ValueError):
        RetryPolicy(base_seconds=0)


def test_retry_after_is_delay_seconds_or_an_http_date() -> None:
    date = "Wed, 21 Oct 2015 07:28:00 GMT"
    assert retry_after_seconds("7") == 7.0 and retry_after_seconds("1.5", date) == 1.5
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:30 GMT", date) == 30.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:27:00 GMT", date) == 0.0  # past: now
    assert retry_after_seconds(None) is None and retry_after_seconds("soon", date) is None

"""Resilience of a feed client: exponential backoff with jitter, and outage records.

A failed request (:class:`~.port.FeedRequestError`: 429, 5xx, time-out, refused
connection …) never crashes a feed. :class:`Backoff` schedules the next attempt
``base * factor**(n-1)`` seconds after the n-th failure in a row, capped at ``max_seconds``,
less a random part of up to ``jitter`` of it (so many clients do not retry in lockstep), and
never sooner than the venue's ``Retry-After``. The jitter comes from a seeded generator, so
the same failures give the same delays in a test or a drill.

:class:`OutageMonitor` turns failures into records: the first failure of a run of them is an
:class:`~.port.OutageStarted`; the first success after them ends the :class:`~.port.Outage`
(start, end, attempts, bars missed: the bar closes that fell inside it).
:func:`call_with_retry` is the blocking form for batch jobs (``scarline data fetch``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from scarline.market.feeds.bars import closes_between
from scarline.market.feeds.port import FailureKind, FeedRequestError, Outage, OutageStarted
from scarline.rng import SeedTree

NS_PER_SECOND = 10**9
T = TypeVar("T")


def default_rng(seed: int = 0) -> np.random.Generator:
    """The feed's jitter stream, from the project's seed tree."""
    return SeedTree(seed).generator("market/feeds/retry")


@dataclass(frozen=True)
class RetryPolicy:
    """Delay after the n-th failure in a row: ``min(max, base * factor**(n-1))`` times
    ``1 - jitter * u`` (u uniform in [0, 1)), at least ``retry_after`` when the venue sent
    one; a rate limit (429) waits at least ``rate_limit_seconds``."""

    base_seconds: float = 1.0
    factor: float = 2.0
    max_seconds: float = 60.0
    jitter: float = 0.5
    rate_limit_seconds: float = 5.0

    def __post_init__(self) -> None:
        if not (self.base_seconds > 0 and self.factor >= 1 and self.max_seconds > 0):
            raise ValueError("retry needs base_seconds > 0, factor >= 1, max_seconds > 0")
        if not 0 <= self.jitter <= 1:
            raise ValueError(f"retry jitter must be in [0, 1], got {self.jitter}")

    def delay(
        self,
        attempt: int,
        u: float,
        *,
        kind: FailureKind = "other",
        retry_after: float | None = None,
    ) -> float:
        """Seconds to wait after failure number ``attempt`` (1-based), ``u`` in [0, 1)."""
        raw = min(self.max_seconds, self.base_seconds * self.factor ** max(0, attempt - 1))
        wait = raw * (1.0 - self.jitter * u)
        if kind == "rate_limit":
            wait = max(wait, self.rate_limit_seconds)
        if retry_after is not None and retry_after > 0:
            wait = max(wait, min(retry_after, 3600.0))
        return wait


class Backoff:
    """When the next attempt may run: after each failure, a delay from the policy; a success
    resets it."""

    def __init__(self, policy: RetryPolicy, rng: np.random.Generator) -> None:
        self.policy, self.rng = policy, rng
        self.failures = 0
        self.next_ns: int | None = None

    def ready(self, now: int) -> bool:
        return self.next_ns is None or now >= self.next_ns

    def failure(self, now: int, err: FeedRequestError) -> int:
        """Record a failure at ``now``; returns when the next attempt may run (ns)."""
        self.failures += 1
        u = float(self.rng.random())
        wait = self.policy.delay(self.failures, u, kind=err.kind, retry_after=err.retry_after)
        self.next_ns = now + round(wait * NS_PER_SECOND)
        return self.next_ns

    def success(self) -> None:
        self.failures = 0
        self.next_ns = None


class OutageMonitor:
    """Failures and successes → outage records (bars missed counted with ``step``/``grace``)."""

    def __init__(self, step: int, grace: int) -> None:
        self.step, self.grace = step, grace
        self._start: int | None = None
        self._failures = 0
        self._kinds: list[FailureKind] = []
        self._last_error = ""

    @property
    def down_since(self) -> int | None:
        return self._start

    def failure(self, now: int, err: FeedRequestError) -> OutageStarted | None:
        """Record a failure; the first of an outage returns its start record."""
        self._failures += 1
        self._last_error = _short(str(err))
        if err.kind not in self._kinds:
            self._kinds.append(err.kind)
        if self._start is not None:
            return None
        self._start = now
        return OutageStarted(start=now, kind=err.kind, error=self._last_error)

    def success(self, now: int) -> Outage | None:
        """Record a success; the first after failures returns the finished outage."""
        if self._start is None:
            return None
        outage = Outage(
            start=self._start,
            end=now,
            failures=self._failures,
            bars_missed=closes_between(self._start, now, self.step, self.grace),
            kinds=tuple(self._kinds),
            last_error=self._last_error,
        )
        self._start, self._failures, self._kinds, self._last_error = None, 0, [], ""
        return outage


def call_with_retry(
    fn: Callable[[], T],
    *,
    policy: RetryPolicy,
    rng: np.random.Generator,
    sleep: Callable[[float], None],
    max_attempts: int,
    on_failure: Callable[[int, FeedRequestError, float], None] | None = None,
) -> T:
    """``fn()``, retried on :class:`FeedRequestError` with the policy's delays (``sleep``
    injected); after ``max_attempts`` failures the last error is raised."""
    attempt = 0
    while True:
        try:
            return fn()
        except FeedRequestError as err:
            attempt += 1
            if attempt >= max_attempts:
                raise
            wait = policy.delay(
                attempt, float(rng.random()), kind=err.kind, retry_after=err.retry_after
            )
            if on_failure is not None:
                on_failure(attempt, err, wait)
            sleep(wait)


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"

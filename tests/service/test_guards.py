"""The per-key token bucket of acting endpoints."""

from __future__ import annotations

from scarline.service.guards import RateLimiter


def test_the_bucket_refills_over_a_minute() -> None:
    now = [0.0]
    limiter = RateLimiter(3, clock=lambda: now[0])
    assert [limiter.acquire("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.acquire("a")
    assert 19.9 < wait <= 20.0  # one request per 20 s
    assert limiter.acquire("b") == 0.0  # per key
    now[0] += 20.0
    assert limiter.acquire("a") == 0.0

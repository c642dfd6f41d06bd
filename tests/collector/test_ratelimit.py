from __future__ import annotations

from collector.ratelimit import RateLimiter


def test_a_bucket_allows_a_burst_then_refills_at_the_rate() -> None:
    limiter = RateLimiter(rate_per_s=2.0)  # burst 10
    assert [limiter.allow("a", now=0.0) for _ in range(11)] == [True] * 10 + [False]
    assert limiter.allow("b", now=0.0)  # buckets are per name
    assert limiter.allow("a", now=0.5)  # one token back after 0.5 s
    assert not limiter.allow("a", now=0.5)


def test_memory_stays_bounded_by_forgetting_the_least_recent() -> None:
    limiter = RateLimiter(rate_per_s=1.0, max_buckets=3)
    for name in "abcd":
        limiter.allow(name, now=0.0)
    assert len(limiter._buckets) == 3
    assert "a" not in limiter._buckets

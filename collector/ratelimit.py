"""Token buckets per client and per site, in this process's memory."""

from __future__ import annotations

import time
from collections import OrderedDict

BURST_FACTOR = 5.0  # a bucket holds this many seconds' worth of tokens
MAX_BUCKETS = 100_000  # least recently used buckets are forgotten past this


class RateLimiter:
    def __init__(self, rate_per_s: float, max_buckets: int = MAX_BUCKETS) -> None:
        self.rate = rate_per_s
        self.capacity = rate_per_s * BURST_FACTOR
        self._max = max_buckets
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def allow(self, name: str, now: float | None = None) -> bool:
        """Take one token from `name`'s bucket if it has one."""
        now = time.monotonic() if now is None else now
        tokens, stamp = self._buckets.pop(name, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - stamp) * self.rate)
        allowed = tokens >= 1.0
        self._buckets[name] = (tokens - 1.0 if allowed else tokens, now)
        if len(self._buckets) > self._max:
            self._buckets.popitem(last=False)
        return allowed

    def exhausted(self, name: str, now: float | None = None) -> bool:
        """Whether `name`'s bucket is empty, without taking a token: cheap for unknown names."""
        bucket = self._buckets.get(name)
        if bucket is None:
            return False
        tokens, stamp = bucket
        now = time.monotonic() if now is None else now
        return tokens + (now - stamp) * self.rate < 1.0

    def retry_after_s(self) -> int:
        return max(1, round(1.0 / self.rate))

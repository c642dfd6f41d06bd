"""Forty seconds at a steady rate through a real collector, worker and Redis: the processes'
memory stays flat and the stream stays bounded across the worker's trims (every 10 s, so the
warm window holds three). bench/soak.py runs the same for minutes at a higher rate and reports
the figures."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import psutil
import pytest
import redis

from clicktrail.demo.background import free_port
from collector import keys
from tests.clicktrail.fleet import (
    Events,
    Processes,
    RedisServer,
    Snippet,
    register_shop,
)
from tests.factories import click, pageview

pytestmark = pytest.mark.slow

SOAK_S = 40.0
SAMPLE_EVERY_S = 2.0
VISITORS = 4
PACE_S = 0.02  # per visitor: up to 50 batches a second each, 10 events a batch
BATCHES_PER_SESSION = 20
SPOTS = [(x, y) for x in range(100, 1200, 100) for y in (200, 600, 1400, 2200)]
TRIM_BOUND_S = 30.0  # the worker trims every 10 s: the stream holds at most this much load
MB = 1 << 20


class SteadyVisitor(Snippet):
    """A snippet that clicks a fixed set of spots (so the heatmap grids stop growing once each
    spot is counted) and starts a new session every BATCHES_PER_SESSION batches."""

    made = 0

    def _next_batch(self) -> Events:
        self.made += 1
        self.sid = f"{self.sid.split('_')[0]}_{self.made // BATCHES_PER_SESSION}"
        x, y = self.rng.choice(SPOTS)
        clicks = [click(p="/cart", x=x, y=y, vw=1280) for _ in range(9)]
        return [pageview(p="/cart"), *clicks]


@dataclass
class Sample:
    at_s: float
    collector_mb: float
    worker_mb: float
    redis_by_kind: Counter[str]  # bytes: seen ids, sessions, stream, aggregates
    stream_batches: int
    batches: int  # acknowledged so far


def redis_by_kind(client: redis.Redis) -> Counter[str]:
    """MEMORY USAGE of every key, summed by what the key holds."""
    found: Counter[str] = Counter()
    for name in client.scan_iter(count=1000):
        text = name.decode()
        kind = next(
            (k for k in (":seen:", ":sess:", ":events") if k in text), "aggregates and the rest"
        )
        found[kind] += int(client.memory_usage(name, samples=0) or 0)
    return found


def sample(
    started: float, client: redis.Redis, pids: tuple[int, int], visitors: list[Snippet]
) -> Sample:
    collector, worker = (psutil.Process(pid).memory_info().rss / MB for pid in pids)
    return Sample(
        time.monotonic() - started,
        collector,
        worker,
        redis_by_kind(client),
        client.xlen(keys.events_stream("shop", 0)),
        sum(len(v.acknowledged) for v in visitors),
    )


def grown(samples: list[Sample], value: Callable[[Sample], float]) -> float:
    """Growth from the end of the first third (warmed up) to the end."""
    return value(samples[-1]) - value(samples[len(samples) // 3])


def test_a_steady_rate_keeps_memory_flat_and_the_stream_bounded(
    redis_server: RedisServer, processes: Processes
) -> None:
    """Four visitors posting steadily for SOAK_S, a worker counting and trimming: sampled every
    2 s, from the end of the first third on."""
    site = register_shop(redis_server)
    port = free_port()
    collector = processes.collector(redis_server.url, port)
    worker = processes.worker(redis_server.url)
    url = f"http://127.0.0.1:{port}"
    visitors: list[Snippet] = [
        SteadyVisitor(url, site.key, f"visitor-{n}", pace_s=PACE_S) for n in range(VISITORS)
    ]
    samples: list[Sample] = []
    try:
        with redis_server.client() as client:
            started = time.monotonic()
            while time.monotonic() - started < SOAK_S:
                samples.append(sample(started, client, (collector.pid, worker.pid), visitors))
                assert worker.poll() is None, processes.log("worker.log")
                time.sleep(SAMPLE_EVERY_S)
            for visitor in visitors:
                visitor.stop()
    finally:
        for visitor in visitors:
            visitor.cancel()

    rate = samples[-1].batches / samples[-1].at_s
    assert rate > 50, f"only {rate:.0f} batches/s: not a load"
    warm = samples[len(samples) // 3 :]
    assert max(s.stream_batches for s in warm) < rate * TRIM_BOUND_S
    for name, mb in (("collector", lambda s: s.collector_mb), ("worker", lambda s: s.worker_mb)):
        assert grown(samples, mb) < max(5.0, 0.1 * mb(samples[-1])), (name, [mb(s) for s in warm])
    # Redis grows only by what it keeps on purpose: event ids for deduplication (until their day
    # is 49 h old) and sessions (until they end); the aggregates stop growing, the stream is
    # trimmed.
    rest = grown(samples, lambda s: s.redis_by_kind["aggregates and the rest"]) / MB
    stream = grown(samples, lambda s: s.redis_by_kind[":events"]) / MB
    assert rest < 1.0 and stream < 5.0, (rest, stream)

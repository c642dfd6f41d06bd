"""Prometheus metrics of one collector process, plus stream gauges read from Redis at scrape."""

from __future__ import annotations

from collections.abc import Iterator

import redis.asyncio as aioredis
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from collector import keys
from collector.failures import failure_counts
from collector.sites import Site

disable_created_metrics()  # type: ignore[no-untyped-call] # the *_created series only double the scrape


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._by_status: dict[int, Counter] = {}  # label children, looked up once
        self.requests = Counter(
            "clicktrail_collect_requests",
            "POST /e requests by status code",
            ["status"],
            registry=self.registry,
        )
        self.accepted = Counter(
            "clicktrail_events_accepted", "Events stored", registry=self.registry
        )
        self.dropped = Counter(
            "clicktrail_events_dropped",
            "Events not stored, by reason",
            ["reason"],
            registry=self.registry,
        )
        self.clamped = Counter(
            "clicktrail_clamped_values",
            "Coordinates, document sizes and scroll depths of stored events clamped to the "
            "documented maxima, by field",
            ["field"],
            registry=self.registry,
        )
        self.stream_length = Gauge(
            "clicktrail_stream_length",
            "Batches held in a stream shard",
            ["site", "shard"],
            registry=self.registry,
        )
        self.pending = Gauge(
            "clicktrail_consumer_pending",
            "Batches delivered to a consumer group's workers, not yet acknowledged",
            ["site", "shard", "group"],
            registry=self.registry,
        )
        self.lag = Gauge(
            "clicktrail_consumer_lag",
            "Batches not yet delivered to a consumer group",
            ["site", "shard", "group"],
            registry=self.registry,
        )
        self.deliveries = Gauge(
            "clicktrail_report_deliveries",
            "Report delivery attempts by the schedulers, by target kind and result",
            ["kind", "result"],
            registry=self.registry,
        )
        self.background_errors = StoredCounter(
            "clicktrail_background_errors",
            "Unexpected errors the worker and the report scheduler caught and went on after, by "
            "part (consumer group, its tick, report), site and where (shard or report)",
            ["part", "site", "where"],
        )
        self.registry.register(self.background_errors)
        self.folded = StoredCounter(
            "clicktrail_cardinality_folded",
            "Events whose path, template, selector, event name or source was beyond the site's "
            "distinct values of the day and counted as '(over limit)', by consumer group",
            ["site", "group", "kind"],
        )
        self.registry.register(self.folded)

    def count_request(self, status: int) -> None:
        counter = self._by_status.get(status)
        if counter is None:
            counter = self._by_status[status] = self.requests.labels(str(status))
        counter.inc()

    def count_clamped(self, clamped: dict[str, int]) -> None:
        for field, count in clamped.items():
            self.clamped.labels(field).inc(count)

    async def refresh_streams(self, client: aioredis.Redis, sites: list[Site]) -> None:
        shards = [(site.name, shard) for site in sites for shard in range(site.shards)]
        pipe = client.pipeline(transaction=False)
        for name, shard in shards:
            stream = keys.events_stream(name, shard)
            pipe.xlen(stream)
            pipe.xinfo_groups(stream)
        for name, shard in shards:
            pipe.hgetall(keys.folded_counts(name, shard))
        pipe.hgetall(keys.BACKGROUND_ERRORS)
        pipe.hgetall(keys.REPORT_DELIVERIES)
        results = await pipe.execute(raise_on_error=False)
        deliveries = results.pop()
        errors = results.pop()
        if isinstance(errors, dict):
            self.background_errors.values = failure_counts(errors)
        self.folded.values = _folded(shards, results[2 * len(shards) :])
        results = results[: 2 * len(shards)]
        for (name, shard), length, groups in zip(shards, results[::2], results[1::2], strict=True):
            length = length if isinstance(length, int) else 0
            self.stream_length.labels(name, str(shard)).set(length)
            for group_name in (keys.WORKER_GROUP, keys.SESSIONS_GROUP):
                labels = (name, str(shard), group_name)
                group = _group(groups, group_name)
                pending = group.get("pending", 0) if group else 0
                pending = pending if isinstance(pending, int) else 0
                self.pending.labels(*labels).set(pending)
                self.lag.labels(*labels).set(_lag(group, length, pending))
        if isinstance(deliveries, dict):
            for field, count in deliveries.items():
                kind, _, result = field.decode().partition("|")
                self.deliveries.labels(kind, result).set(int(count))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class StoredCounter(Collector):
    """A counter kept in Redis by other processes (the workers, the schedulers), shown as it
    was read at the latest scrape."""

    def __init__(self, name: str, documentation: str, labels: list[str]) -> None:
        self.name, self.documentation, self.labels = name, documentation, labels
        self.values: dict[tuple[str, ...], int] = {}

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(self.name, self.documentation, labels=self.labels)
        for labels, value in sorted(self.values.items()):
            family.add_metric(list(labels), value)
        yield family


def _folded(shards: list[tuple[str, int]], replies: list[object]) -> dict[tuple[str, ...], int]:
    """Folded events by (site, group, kind), summed over the shards."""
    out: dict[tuple[str, ...], int] = {}
    for (site, _), reply in zip(shards, replies, strict=True):
        for field, count in reply.items() if isinstance(reply, dict) else ():
            group, _, kind = field.decode().partition("|")
            out[(site, group, kind)] = out.get((site, group, kind), 0) + int(count)
    return out


def _group(groups: object, wanted: str) -> dict[str, object] | None:
    if not isinstance(groups, list):
        return None  # no stream yet
    for group in groups:
        name = group.get("name")
        if name in (wanted, wanted.encode()):
            return dict(group)
    return None


def _lag(group: dict[str, object] | None, length: int, pending: int) -> int:
    if group is None:
        return length
    lag = group.get("lag")
    if isinstance(lag, int):
        return lag  # Redis 7 counts it exactly
    # Redis 6.2 has no lag field; workers trim what they acknowledged, so the rest is close.
    return max(length - pending, 0)

"""What arrived in the last minutes, from the per-minute counters the aggregator keeps: the
dashboard's live view and its installation check."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import redis

from collector.days import MINUTE_MS
from collector.sites import Site
from heatmap import keys


@dataclass(frozen=True)
class Live:
    minutes: int
    per_minute: list[tuple[int, int]]  # (minute start ms, events), oldest first
    by_type: dict[str, int]
    pages: list[tuple[str, int]]  # page template, page views; most viewed first
    batches: int

    @property
    def events(self) -> int:
        return sum(n for _, n in self.per_minute)

    @property
    def last_event_ms(self) -> int | None:
        busy = [start for start, n in self.per_minute if n]
        return busy[-1] if busy else None


def load_live(client: redis.Redis, site: Site, minutes: int, now_ms: int) -> Live:
    """Counts of the `minutes` whole and current minutes up to `now_ms`, over every shard."""
    newest = now_ms // MINUTE_MS
    span = range(newest - minutes + 1, newest + 1)
    pipe = client.pipeline(transaction=False)
    for minute in span:
        for shard in range(site.shards):
            pipe.hgetall(keys.live_counts(site.name, shard, minute))
    replies = pipe.execute()
    per_minute: list[tuple[int, int]] = []
    by_type: Counter[str] = Counter()
    pages: Counter[str] = Counter()
    batches = 0
    for i, minute in enumerate(span):
        events = 0
        for found in replies[i * site.shards : (i + 1) * site.shards]:
            for raw_name, raw_count in found.items():
                name, count = raw_name.decode(), int(raw_count)
                kind, _, value = name.partition("|")
                if kind == "t":
                    by_type[value] += count
                    events += count
                elif kind == "p":
                    pages[value] += count
                elif kind == "s":
                    batches += count
        per_minute.append((minute * MINUTE_MS, events))
    return Live(minutes, per_minute, dict(by_type), pages.most_common(10), batches)

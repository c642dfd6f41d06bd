"""Builders of batches and events as the snippet sends them, and readers of what got stored."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any, cast

import redis
import redis.asyncio as aioredis
import redis.asyncio.cluster as aiocluster

from collector import keys
from collector.connections import cluster_seed
from collector.days import day_names

BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"
ORIGIN = "https://shop.example"


def now_ms() -> int:
    return int(time.time() * 1000)


def days_since(start_ms: int) -> list[str]:
    """The UTC days (YYYYMMDD) from `start_ms` to now: those of every event made in between,
    two when the test ran over midnight (a day taken once, at import, can be a day behind)."""
    first, last = (datetime.fromtimestamp(ms / 1000, UTC).date() for ms in (start_ms, now_ms()))
    return day_names(first, last)


def event(kind: str, **fields: Any) -> dict[str, Any]:
    """An event of any type as the snippet builds it: fresh id, now, on /cart."""
    return {
        "t": kind,
        "id": uuid.uuid4().hex[:16],
        "ts": now_ms(),
        "p": "/cart",
        "pv": "pv1",
        **fields,
    }


def click(**fields: Any) -> dict[str, Any]:
    defaults = {
        "x": 100.5,
        "y": 240,
        "vw": 1280,
        "vh": 800,
        "dh": 3000,
        "sel": "button.buy",
        "tag": "button",
        "ox": 4,
        "oy": 6,
    }
    return event("click", **{**defaults, **fields})


def pageview(**fields: Any) -> dict[str, Any]:
    defaults = {"ref": "/product/1", "vw": 1280, "vh": 800, "sw": 1920, "sh": 1080}
    return event("pageview", **{**defaults, **fields})


def batch(
    site_key: str, events: list[dict[str, Any]] | None = None, **fields: Any
) -> dict[str, Any]:
    body = {
        "site": site_key,
        "sid": "session-1",
        "sent_at": now_ms(),
        "events": events if events is not None else [pageview(), click()],
    }
    body.update(fields)
    return body


StreamEntry = tuple[bytes, dict[bytes, bytes]]


def stream_entries(client: redis.Redis, stream: str) -> list[StreamEntry]:
    """A stream's entries, as a client without decode_responses returns them."""
    return cast(list[StreamEntry], client.xrange(stream))


def all_keys(client: redis.Redis, pattern: str = "*") -> list[bytes]:
    """Every key matching `pattern`, on every node: KEYS on a Redis Cluster asks one node only."""
    return sorted(client.scan_iter(match=pattern, count=1000))


def stored_entries(
    client: redis.Redis, site_name: str = "shop", shard: int = 0
) -> list[StreamEntry]:
    return stream_entries(client, keys.events_stream(site_name, shard))


def total_keys(client: redis.Redis) -> int:
    return int(client.dbsize())


def decode_entry(entry: Any) -> tuple[Any, dict[str, Any]]:
    """(header, {event id: event}) of one stream entry."""
    from collector.schema import decode_stored

    header, events = decode_stored(entry[1])
    return header, {event.id: event for event in events}


def tiny_async_client(url: str, max_connections: int = 2) -> aioredis.Redis:
    """An async client that fails ("Too many connections") rather than waits when more than
    `max_connections` commands run at once: it shows a burst is served by one fetch."""
    seed = cluster_seed(url)
    if seed:
        return aiocluster.RedisCluster.from_url(seed, max_connections=max_connections)  # type: ignore[return-value]
    return aioredis.Redis.from_pool(
        aioredis.ConnectionPool.from_url(url, max_connections=max_connections)
    )

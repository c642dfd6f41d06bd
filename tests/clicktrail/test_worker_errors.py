"""A worker that meets an entry it cannot process dead-letters that entry with the reason, counts
the error for /metrics, and goes on counting the good entries around it and the other sites."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
import redis
from starlette.testclient import TestClient

from clicktrail.worker import Worker
from collector import keys, sites
from collector.consumer import Commit, Entry
from collector.metrics import Metrics
from collector.pages import PageTemplates
from collector.sites import Site
from heatmap.aggregate import Aggregator
from heatmap.totals import load_grid
from reports.sessions.builder import SessionBuilder
from reports.sessions.reader import load_sessions
from tests.factories import (
    ORIGIN,
    batch,
    click,
    days_since,
    now_ms,
    pageview,
    stream_entries,
    tiny_async_client,
)


class Poisoned(Aggregator):
    """The heatmap aggregator, raising on the entries it is told to, as a bug would."""

    def __init__(self, poisoned: set[str] | None = None, site: str | None = None) -> None:
        super().__init__(PageTemplates(), 90)
        self.poisoned, self.site = poisoned or set(), site

    def commit_for(self, site: str, shard: int, entries: list[Entry]) -> Commit:
        if site == self.site or any(entry_id in self.poisoned for entry_id, _ in entries):
            raise RuntimeError("poisoned")
        return super().commit_for(site, shard, entries)


@pytest.fixture
def client(make_client: Callable[..., TestClient], site: Site) -> TestClient:
    return make_client(rate_ip_per_s=1000)


def entry_ids(redis_client: redis.Redis, site: str = "shop") -> list[str]:
    return [e[0].decode() for e in stream_entries(redis_client, keys.events_stream(site, 0))]


def pending(redis_client: redis.Redis, group: str, site: str = "shop") -> int:
    return int(redis_client.xpending(keys.events_stream(site, 0), group)["pending"])


def test_a_poisoned_entry_is_dead_lettered_and_the_good_ones_around_it_are_counted(
    client: TestClient, redis_client: redis.Redis, site: Site
) -> None:
    start = now_ms()
    for i in range(5):
        body = batch(site.key, [pageview(), click(x=10, y=10)], sid=f"tab-{i}")
        assert client.post("/e", json=body).status_code == 202
    ids = entry_ids(redis_client)
    worker = Worker(redis_client, [Poisoned({ids[2]}), SessionBuilder(redis_client)])
    assert worker.run(burst=True) == 10  # five entries, two consumer groups

    [(_, letter)] = stream_entries(redis_client, keys.dead_letters("shop", 0))
    assert letter[b"entry"] == ids[2].encode() and letter[b"group"] == b"aggregators"
    assert letter[b"reason"] == b"aggregators failed: RuntimeError: poisoned"
    grid = load_grid(redis_client, site, "/cart", "desktop", "click", "doc", days_since(start))
    assert grid.sum() == 4
    assert (
        pending(redis_client, keys.WORKER_GROUP) == pending(redis_client, keys.SESSIONS_GROUP) == 0
    )
    assert SessionBuilder(redis_client).tick("shop", 0, now_ms=now_ms() + 3_600_000) == 5
    day_ms = now_ms()
    assert len(load_sessions(redis_client, site, day_ms - 3_600_000, day_ms, 3_600_000)) == 5
    assert redis_client.hgetall(keys.BACKGROUND_ERRORS) == {b"aggregators|shop|0": b"1"}


def test_a_site_whose_entries_all_fail_does_not_stop_the_others(
    make_client: Callable[..., TestClient], redis_client: redis.Redis, site: Site
) -> None:
    broken = sites.add_site(redis_client, sites.new_site("broken", [ORIGIN]))
    client = make_client(rate_ip_per_s=1000)
    start = now_ms()
    for key in (site.key, broken.key):
        for _ in range(3):
            assert client.post("/e", json=batch(key, [click(x=10, y=10)])).status_code == 202
    Worker(redis_client, [Poisoned(site="broken")]).run(burst=True)
    grid = load_grid(redis_client, site, "/cart", "desktop", "click", "doc", days_since(start))
    assert grid.sum() == 3
    assert redis_client.xlen(keys.dead_letters("broken", 0)) == 3
    assert pending(redis_client, keys.WORKER_GROUP, "broken") == 0
    assert redis_client.hgetall(keys.BACKGROUND_ERRORS) == {b"aggregators|broken|0": b"3"}


def test_errors_are_counted_in_metrics_by_part_site_and_where(
    redis_url: str, redis_client: redis.Redis, site: Site
) -> None:
    redis_client.hincrby(keys.BACKGROUND_ERRORS, "aggregators|shop|0", 2)
    redis_client.hincrby(keys.BACKGROUND_ERRORS, "report|shop|cart-daily", 1)
    metrics = Metrics()

    async def scrape() -> str:
        async_client = tiny_async_client(redis_url)
        try:
            await metrics.refresh_streams(async_client, [site])
        finally:
            await async_client.aclose()
        return metrics.render().decode()

    text = asyncio.run(scrape())
    assert (
        'clicktrail_background_errors_total{part="aggregators",site="shop",where="0"} 2.0' in text
    )
    assert (
        'clicktrail_background_errors_total{part="report",site="shop",where="cart-daily"} 1.0'
        in text
    )

"""Distinct paths, templates, selectors, event names and sources are bounded per site and day:
beyond a limit new values fold into '(over limit)', the same way in both consumer groups, and
the same way again when a run is retried."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import cast

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from clicktrail.wiring import limits
from clicktrail.worker import Worker
from collector import keys
from collector.cardinality import OVER_LIMIT, Folder, Limits
from collector.metrics import Metrics
from collector.pages import PageTemplates
from collector.settings import Settings
from collector.sites import Site
from heatmap.aggregate import Aggregator
from heatmap.totals import load_pages
from reports.sessions.builder import SessionBuilder
from reports.sessions.reader import load_sessions
from tests.factories import batch, click, days_since, event, now_ms, pageview, tiny_async_client

HOUR = 3_600_000


def test_the_default_limits_are_the_settings_defaults() -> None:
    assert limits(Settings()) == Limits()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    asks=st.lists(
        st.tuples(
            st.integers(0, 1), st.sampled_from(["paths", "events"]), st.text("abcdef", max_size=2)
        ),
        max_size=60,
    ),
    cuts=st.lists(st.integers(0, 60), max_size=6),
    bound=st.integers(1, 8),
)
def test_both_groups_and_a_retry_fold_every_value_alike(
    redis_client: redis.Redis, asks: list[tuple[int, str, str]], cuts: list[int], bound: int
) -> None:
    redis_client.flushdb()
    day = now_ms() // 86_400_000
    asked = [(day + d, kind, value) for d, kind, value in asks]
    heatmaps, sessions = (Folder(redis_client, Limits(paths=bound, events=bound)) for _ in "ab")
    # The groups read different runs: one all at once, the other cut where hypothesis says.
    first = heatmaps.admitted("shop", asked)
    edges = sorted({0, len(asked), *(c for c in cuts if c <= len(asked))})
    second: set[tuple[int, str, str]] = set()
    for start, end in itertools.pairwise(edges):
        second |= sessions.admitted("shop", asked[start:end])
    assert first == second
    retried = Folder(redis_client, Limits(paths=bound, events=bound)).admitted("shop", asked)
    assert retried == first
    for d in {a[0] for a in asked}:
        for kind in ("paths", "events"):
            admitted = {v for (dd, k, v) in first if (dd, k) == (d, kind)}
            assert len(admitted) <= bound
            # The first values asked are the ones kept.
            values = list(dict.fromkeys(v for dd, k, v in asked if (dd, k) == (d, kind)))
            assert admitted == set(values[:bound])


@pytest.fixture
def client(make_client: Callable[..., TestClient], site: Site) -> TestClient:
    return make_client(rate_ip_per_s=1000)


def drain(redis_client: redis.Redis, folder: Folder) -> SessionBuilder:
    builder = SessionBuilder(redis_client, folder=folder)
    Worker(redis_client, [Aggregator(PageTemplates(), 90, folder), builder]).run(burst=True)
    return builder


def test_paths_selectors_and_event_names_past_the_limit_fold_alike_in_heatmaps_and_sessions(
    client: TestClient, redis_url: str, redis_client: redis.Redis, site: Site
) -> None:
    start = now_ms()
    for i in range(12):  # twelve distinct pages, selectors and event names, one visit each
        events = [
            pageview(p=f"/page-{i}", ref=f"site-{i}.example"),
            click(p=f"/page-{i}", sel=f"#b{i}"),
            event("custom", p=f"/page-{i}", name=f"signup-{i}"),
        ]
        assert client.post("/e", json=batch(site.key, events, sid=f"tab-{i}")).status_code == 202
    folder = Folder(redis_client, Limits(paths=5, templates=4, selectors=3, events=2, sources=6))
    drain(redis_client, folder).tick("shop", 0, now_ms=now_ms() + HOUR)

    pages = {p.template: p.views for p in load_pages(redis_client, site, days_since(start))}
    assert pages == {**{f"/page-{i}": 1 for i in range(4)}, OVER_LIMIT: 8}
    t = now_ms()
    table = load_sessions(redis_client, site, t - HOUR, t + HOUR, HOUR)
    viewed = sorted(table.vocab[i] for i in table.item if table.vocab[i][0] == "p")
    # The fifth path is under the path limit, but its template is not: folded in both groups.
    assert viewed == sorted([*(f"p:/page-{i}" for i in range(4)), *[f"p:{OVER_LIMIT}"] * 8])
    names = sorted(table.vocab[i] for i in table.item if table.vocab[i][0] == "e")
    assert names == sorted(["e:signup-0", "e:signup-1", *[f"e:{OVER_LIMIT}"] * 10])
    assert sorted(table.sources[s] for s in table.source).count(OVER_LIMIT) == 6

    folded = cast(dict[bytes, bytes], redis_client.hgetall(keys.folded_counts("shop", 0)))
    counts = {k.decode(): int(v) for k, v in folded.items()}
    # Each group counts its own: 8 visits of 3 events each on a folded path, 9 selectors, ...
    assert counts == {
        "aggregators|paths": 21, "aggregators|templates": 3, "aggregators|selectors": 9,
        "aggregators|events": 10, "sessions|paths": 21, "sessions|templates": 3,
        "sessions|selectors": 9, "sessions|events": 10, "sessions|sources": 6,
    }  # fmt: skip


def test_folded_events_are_counted_in_metrics(
    redis_url: str, redis_client: redis.Redis, site: Site
) -> None:
    redis_client.hincrby(keys.folded_counts("shop", 0), "aggregators|paths", 7)
    metrics = Metrics()

    async def scrape() -> str:
        async_client = tiny_async_client(redis_url)
        try:
            await metrics.refresh_streams(async_client, [site])
        finally:
            await async_client.aclose()
        return metrics.render().decode()

    text = asyncio.run(scrape())
    line = 'clicktrail_cardinality_folded_total{group="aggregators",kind="paths",site="shop"} 7.0'
    assert line in text

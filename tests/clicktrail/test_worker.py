"""The aggregation worker, as a real process: killed with SIGKILL again and again while it works,
it still counts every accepted click exactly once."""

from __future__ import annotations

import random
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest
import redis
from starlette.testclient import TestClient

from collector import keys
from collector.consumer import MAX_DELIVERIES
from collector.pages import BANDS, PageTemplates, bands_of
from collector.sites import Site
from heatmap.grid import cells_of
from heatmap.totals import load_grid, load_pages
from reports.sessions.reader import load_sessions
from tests.clicktrail.fleet import held_by
from tests.factories import StreamEntry, batch, click, pageview, stream_entries

pytestmark = pytest.mark.slow
PATHS = ["/cart", "/product/17", "/product/99/", "/"]


def worker(redis_url: str, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "clicktrail.cli",
            "worker",
            "--redis-url",
            redis_url,
            "--claim-idle-ms",
            "300",
            *args,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def pending(client: redis.Redis) -> int:
    """Entries read and not yet committed, over both consumer groups."""
    total = 0
    for group in (keys.WORKER_GROUP, keys.SESSIONS_GROUP):
        try:
            total += int(client.xpending(keys.events_stream("shop", 0), group)["pending"])
        except redis.exceptions.ResponseError:
            pass  # no consumer group yet
    return total


@pytest.fixture
def client(make_client: Callable[..., TestClient], site: Site) -> TestClient:
    return make_client(rate_ip_per_s=1e6)  # one test client posts as fast as it can


def days() -> list[str]:
    """Yesterday and today (UTC): a test that posts just before midnight and reads just after
    still finds every event, and each test's site is fresh, so nothing else is summed."""
    now = datetime.now(UTC)
    return [(now - timedelta(days=1)).strftime("%Y%m%d"), now.strftime("%Y%m%d")]


def test_sigkilled_workers_lose_and_double_nothing(
    client: TestClient, redis_url: str, redis_client: redis.Redis, site: Site
) -> None:
    rng = random.Random(7)
    templates = PageTemplates()
    expected: Counter[tuple[str, str, str, int]] = Counter()
    views: Counter[tuple[str, str]] = Counter()
    for _ in range(1000):
        events = [pageview(p="/cart", vw=rng.choice([375, 1280]))]
        for _ in range(19):
            vw = rng.choice([375, 800, 1280])
            event = click(
                x=round(rng.uniform(0, vw), 1),
                y=round(rng.uniform(0, 3000), 1),
                vw=vw,
                dead=rng.random() < 0.1,
                p=rng.choice(PATHS),
            )
            events.append(event)
            band = BANDS[int(bands_of(vw))]
            cell = int(cells_of(event["x"], event["y"], vw))
            page = templates.template(event["p"])
            expected[(page, band, "click", cell)] += 1
            if event["dead"]:
                expected[(page, band, "dead", cell)] += 1
        views[("/cart", BANDS[int(bands_of(events[0]["vw"]))])] += 1
        assert client.post("/e", json=batch(site.key, events)).status_code == 202

    # Kill fresh workers until five kills have landed between a read and its commit (the
    # pending entries then belong to the killed process), or 40 attempts.
    interrupted = 0
    for _ in range(40):
        process = worker(redis_url, "--batch", "4")
        deadline = time.monotonic() + 15
        while held_by(redis_client, process.pid) == 0 and time.monotonic() < deadline:
            pass  # until it holds entries it has read and not yet committed
        time.sleep(rng.uniform(0, 0.005))
        process.kill()  # SIGKILL: no cleanup, wherever it is
        process.wait()
        interrupted += held_by(redis_client, process.pid) > 0
        if interrupted == 5:
            break
    time.sleep(0.4)  # past claim-idle: the dead workers' entries may be taken over
    assert worker(redis_url, "--burst").wait(timeout=120) == 0

    assert interrupted == 5, "kills did not land between a read and its commit"
    assert pending(redis_client) == 0
    found: Counter[tuple[str, str, str, int]] = Counter()
    for page in {"/cart", "/product/:id", "/"}:
        for band in BANDS:
            for kind in ("click", "dead"):
                grid = load_grid(redis_client, site, page, band, kind, "doc", days())
                for index in grid.ravel().nonzero()[0]:
                    found[(page, band, kind, int(index))] = int(grid.ravel()[index])
    assert found == expected
    counted = {
        (p.template, p.band): p.views for p in load_pages(redis_client, site, days()) if p.views
    }
    assert counted == dict(views)
    # The sessions group, killed alongside, holds every page view and click once too.
    now = int(time.time() * 1000)
    sessions = load_sessions(redis_client, site, now - 3_600_000, now, 3_600_000)
    assert (sessions.rows, len(sessions.clicks)) == (1000, 19000)


def test_an_entry_that_cannot_be_decoded_is_dead_lettered_with_its_reason(
    client: TestClient, redis_url: str, redis_client: redis.Redis, site: Site
) -> None:
    assert client.post("/e", json=batch(site.key, [click(x=10, y=10)])).status_code == 202
    bad = redis_client.xadd(keys.events_stream("shop", 0), {"h": b"\x93garbage", "e": b"\xc1"})
    assert worker(redis_url, "--burst").wait(timeout=60) == 0
    letters = [letter for _, letter in stream_entries(redis_client, keys.dead_letters("shop", 0))]
    # Each consumer group (heatmap aggregates, sessions) files its own letter.
    assert sorted(letter[b"group"] for letter in letters) == [b"aggregators", b"sessions"]
    assert all(letter[b"entry"] == bad for letter in letters)
    assert all(letter[b"reason"].startswith(b"cannot decode") for letter in letters)
    assert pending(redis_client) == 0
    grid = load_grid(redis_client, site, "/cart", "desktop", "click", "doc", days())
    assert grid.sum() == 1


def test_an_entry_delivered_too_often_is_dead_lettered_as_poison(
    client: TestClient, redis_url: str, redis_client: redis.Redis, site: Site
) -> None:
    assert client.post("/e", json=batch(site.key, [click(x=10, y=10)])).status_code == 202
    stream = keys.events_stream("shop", 0)
    redis_client.xgroup_create(stream, keys.WORKER_GROUP, id="0")
    read = redis_client.xreadgroup(keys.WORKER_GROUP, "crashed", {stream: ">"})
    [[_, [(entry, _)]]] = cast(list[tuple[bytes, list[StreamEntry]]], read)
    # As if MAX_DELIVERIES workers had taken it and died each time.
    redis_client.xclaim(stream, keys.WORKER_GROUP, "crashed", 0, [entry], retrycount=MAX_DELIVERIES)
    time.sleep(0.4)  # past claim-idle
    assert worker(redis_url, "--burst").wait(timeout=60) == 0
    [(_, letter)] = stream_entries(redis_client, keys.dead_letters("shop", 0))
    assert letter[b"entry"] == entry and letter[b"group"] == b"aggregators"
    assert letter[b"reason"] == f"delivered {MAX_DELIVERIES} times, never committed".encode()
    grid = load_grid(redis_client, site, "/cart", "desktop", "click", "doc", days())
    assert grid.sum() == 0  # the heatmap never counted it; the sessions group did, once
    assert pending(redis_client) == 0


def test_processed_entries_are_trimmed(
    client: TestClient, redis_url: str, redis_client: redis.Redis, site: Site
) -> None:
    for _ in range(30):
        client.post("/e", json=batch(site.key, [click()]))
    assert worker(redis_url, "--burst").wait(timeout=60) == 0
    from collector.consumer import StreamReader

    StreamReader(redis_client, keys.WORKER_GROUP).trim(keys.events_stream("shop", 0))
    assert redis_client.xlen(keys.events_stream("shop", 0)) <= 1

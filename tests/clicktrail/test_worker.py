"""The aggregation worker, as a real process: killed with SIGKILL again and again while it works,
it still counts every accepted click exactly once."""

from __future__ import annotations

import random
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import redis
from starlette.testclient import TestClient

from collector import keys
from collector.pages import BANDS, PageTemplates, bands_of
from collector.sites import Site
from heatmap.grid import cells_of
from heatmap.store import load_grid, load_pages
from tests.factories import batch, click, pageview

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
    try:
        return int(client.xpending(keys.events_stream("shop", 0), keys.WORKER_GROUP)["pending"])
    except redis.exceptions.ResponseError:
        return 0  # no consumer group yet


@pytest.fixture
def client(make_client: Callable[..., TestClient], site: Site) -> TestClient:
    return make_client(rate_ip_per_s=1e6)  # one test client posts as fast as it can


def today() -> str:
    return datetime.now(UTC).strftime("%Y%m%d")


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

    interrupted = 0
    for _ in range(5):
        process = worker(redis_url, "--batch", "4")
        deadline = time.monotonic() + 15
        while pending(redis_client) == 0 and time.monotonic() < deadline:
            pass  # until it holds entries it has read and not yet committed
        time.sleep(rng.uniform(0, 0.05))
        process.kill()  # SIGKILL: no cleanup, wherever it is
        process.wait()
        interrupted += pending(redis_client) > 0
    time.sleep(0.4)  # past claim-idle: the dead workers' entries may be taken over
    assert worker(redis_url, "--burst").wait(timeout=120) == 0

    assert interrupted > 0, "no kill landed between a read and its commit"
    assert pending(redis_client) == 0
    found: Counter[tuple[str, str, str, int]] = Counter()
    for page in {"/cart", "/product/:id", "/"}:
        for band in BANDS:
            for kind in ("click", "dead"):
                grid = load_grid(redis_client, site, page, band, kind, "doc", [today()])
                for cell in grid.ravel().nonzero()[0]:
                    found[(page, band, kind, int(cell))] = int(grid.ravel()[cell])
    assert found == expected
    counted = {
        (p.template, p.band): p.views for p in load_pages(redis_client, site, [today()]) if p.views
    }
    assert counted == dict(views)


def test_an_entry_that_cannot_be_decoded_is_dead_lettered_with_its_reason(
    client: TestClient, redis_url: str, redis_client: redis.Redis, site: Site
) -> None:
    assert client.post("/e", json=batch(site.key, [click(x=10, y=10)])).status_code == 202
    bad = redis_client.xadd(keys.events_stream("shop", 0), {"h": b"\x93garbage", "e": b"\xc1"})
    assert worker(redis_url, "--burst").wait(timeout=60) == 0
    [(_, letter)] = redis_client.xrange(keys.dead_letters("shop", 0))
    assert letter[b"entry"] == bad
    assert letter[b"reason"].startswith(b"cannot decode")
    assert pending(redis_client) == 0
    grid = load_grid(redis_client, site, "/cart", "desktop", "click", "doc", [today()])
    assert grid.sum() == 1


def test_processed_entries_are_trimmed(
    client: TestClient, redis_url: str, redis_client: redis.Redis, site: Site
) -> None:
    for _ in range(30):
        client.post("/e", json=batch(site.key, [click()]))
    assert worker(redis_url, "--burst").wait(timeout=60) == 0
    from collector.consumer import StreamReader

    StreamReader(redis_client, keys.WORKER_GROUP).trim(keys.events_stream("shop", 0))
    assert redis_client.xlen(keys.events_stream("shop", 0)) <= 1

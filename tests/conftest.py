"""Fixtures: a real Redis (embedded, or REDIS_URL when set), flushed per test, and factories."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from playwright.sync_api import Browser, sync_playwright
from starlette.testclient import TestClient

from collector import sites
from collector.app import create_app
from collector.connections import close_client, sync_client
from collector.embedded import EmbeddedRedis
from collector.settings import Settings
from heatmap.capture import CHROMIUM, CHROMIUM_ARGS
from tests.factories import BROWSER_UA, ORIGIN
from tests.support.local_cluster import LocalCluster


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # CI runs the tests that touch Redis a second time against a system Redis (-m redis).
    for item in items:
        if "redis_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.redis)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """REDIS_URL when set; REDIS_URL=local-cluster starts a 3-master Redis Cluster for the run
    and points REDIS_URL at it, for the commands the tests run (.ci/run does all three);
    otherwise the embedded Redis."""
    url = os.environ.get("REDIS_URL")
    if url == "local-cluster":
        with LocalCluster(tmp_path_factory.mktemp("cluster")) as cluster:
            os.environ["REDIS_URL"] = cluster.url
            yield cluster.url
        return
    if url:
        yield url
        return
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis")).ensure()
    yield server.url
    server.stop()


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = sync_client(redis_url)
    client.flushdb()
    yield client
    close_client(client)


@pytest.fixture
def site(redis_client: redis.Redis) -> sites.Site:
    return sites.add_site(redis_client, sites.new_site("shop", [ORIGIN]))


@pytest.fixture
def make_client(redis_url: str, redis_client: redis.Redis) -> Iterator[Callable[..., TestClient]]:
    """TestClient factory over the real app; settings overrides as keyword arguments."""
    opened: list[TestClient] = []

    def make(**overrides: Any) -> TestClient:
        settings = Settings(data_dir=Path("unused"), **overrides)
        client = TestClient(create_app(settings, redis_url), client=("203.0.113.7", 50000))
        client.headers.update({"user-agent": BROWSER_UA, "content-type": "text/plain"})
        client.__enter__()  # runs the lifespan: writer task, site directory
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient], site: sites.Site) -> TestClient:
    return make_client()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, launched the way clicktrail itself launches it. Per module:
    Playwright's sync API keeps an event loop running on this thread while it is open, and
    later tests that call asyncio.run() must not find it there."""
    with sync_playwright() as playwright:
        # A real desktop browser's user agent in every context, as the demo's visitors send:
        # headless Chromium's own says "HeadlessChrome", which a bot detector rightly drops.
        args = [*CHROMIUM_ARGS, f"--user-agent={BROWSER_UA}"]
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        yield browser
        browser.close()

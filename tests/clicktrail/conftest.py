"""Shop traffic for the commands, the API and the dashboard: posted through POST /e, then
drained by a burst worker into heatmap aggregates and sessions. And, for the fault and soak
tests, a Redis each test owns and the clicktrail processes it starts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from starlette.testclient import TestClient

from clicktrail.worker import Processor, Worker
from collector.pages import PageTemplates
from collector.sites import Site
from heatmap.aggregate import Aggregator
from reports.sessions.builder import SessionBuilder
from tests.clicktrail.fleet import Processes, RedisServer
from tests.factories import batch, click, now_ms, pageview

MIN = 60_000
# (sessions, pages visited): 10 buy, 8 stop at checkout, 7 leave the cart for /shipping, 5 browse.
JOURNEYS = [
    (10, ["/", "/product/1", "/cart", "/checkout", "/thanks"]),
    (8, ["/product/2", "/cart", "/checkout"]),
    (7, ["/product/3", "/cart", "/shipping"]),
    (5, ["/product/4", "/about"]),
]
CART_BUTTON = (1100.0, 640.0)  # where every session on /cart clicks, desktop and mobile alike


def post_journeys(client: TestClient, site: Site, copies: int = 1) -> None:
    """JOURNEYS `copies` times over, three hours ago, every third session on a phone (375 px),
    the rest desktop; each session with its own id (so its own stream shard)."""
    t0 = now_ms() - 3 * 3_600_000
    n = 0
    for count, paths in JOURNEYS * copies:
        for _ in range(count):
            n += 1
            vw = 375 if n % 3 == 0 else 1280
            events = [pageview(p=p, ts=t0 + n * 1000 + i * MIN, vw=vw) for i, p in enumerate(paths)]
            at = paths.index("/cart") if "/cart" in paths else None
            if at is not None:
                x, y = CART_BUTTON
                ts = t0 + n * 1000 + at * MIN + 5000
                events.append(click(p="/cart", ts=ts, x=x * vw / 1280, y=y, vw=vw, sel="#checkout"))
            body = batch(site.key, events, sid=f"tab-{n}")
            assert client.post("/e", json=body).status_code == 202


@pytest.fixture
def shop(make_client: Callable[..., TestClient], redis_client: redis.Redis, site: Site) -> Site:
    """JOURNEYS once: 30 sessions, aggregated by a burst worker."""
    post_journeys(make_client(rate_ip_per_s=1e6), site)
    processors: list[Processor] = [Aggregator(PageTemplates(), 90), SessionBuilder(redis_client)]
    Worker(redis_client, processors).run(burst=True)
    return site


JUST_NOW = ["/", "/about"]  # one visit of these pages, clicking on /about, as the test starts


@pytest.fixture
def shop_live(
    shop: Site, make_client: Callable[..., TestClient], redis_client: redis.Redis
) -> Site:
    """The shop's history (three hours old: not live) and one visit of JUST_NOW just now."""
    t0 = now_ms() - 10_000
    events = [pageview(p=p, ts=t0 + i * 1000) for i, p in enumerate(JUST_NOW)]
    events.append(click(p="/about", ts=t0 + 5000, sel="#newsletter"))
    body = batch(shop.key, events, sid="tab-now")
    assert make_client(rate_ip_per_s=1e6).post("/e", json=body).status_code == 202
    processors: list[Processor] = [Aggregator(PageTemplates(), 90), SessionBuilder(redis_client)]
    Worker(redis_client, processors).run(burst=True)
    return shop


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    data = tmp_path / "redis"
    data.mkdir()
    server = RedisServer(data).start()
    yield server
    assert server.process is not None
    if server.process.poll() is None:
        server.kill()


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    started = Processes(tmp_path)
    yield started
    started.close()

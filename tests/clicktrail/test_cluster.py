"""The whole path on a 3-master Redis Cluster started from a redis-server binary: batches posted
through POST /e to a site whose six stream shards sit on every node, two workers sharing the
consumer groups, then pages, elements, the heatmap and the funnel read back with exact counts."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import redis
from PIL import Image
from starlette.testclient import TestClient

from clicktrail.web.app import create_web_app
from clicktrail.web.tokens import create_token
from clicktrail.wiring import make_worker
from collector import keys
from collector.app import create_app
from collector.connections import sync_client
from collector.settings import Settings
from collector.sites import Site, add_site, new_site
from heatmap.render import LEGEND_PX
from tests.clicktrail.conftest import CART_BUTTON, post_journeys
from tests.factories import BROWSER_UA, ORIGIN, batch, click
from tests.support.local_cluster import LocalCluster

SHARDS = 6
FUNNEL = "step=/product/*&step=/cart&step=/checkout&step=/thanks"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    with LocalCluster(tmp_path_factory.mktemp("cluster"), masters=3) as started:
        yield started


@pytest.fixture(scope="module")
def client(cluster: LocalCluster) -> Iterator[redis.Redis]:
    connection = sync_client(cluster.url)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("data"), rate_ip_per_s=1e6)


@pytest.fixture(scope="module")
def shop(cluster: LocalCluster, client: redis.Redis, settings: Settings) -> Site:
    """JOURNEYS twice over (60 sessions) posted to the cluster, then two workers at once."""
    client.flushdb()
    site = add_site(client, new_site("shop", [ORIGIN], shards=SHARDS))
    with TestClient(create_app(settings, cluster.url)) as collector:
        collector.headers.update({"user-agent": BROWSER_UA, "content-type": "text/plain"})
        post_journeys(collector, site, copies=2)
        again = batch(site.key, [click(id="repeated-click-1")], sid="tab-1")
        first, retried = collector.post("/e", json=again), collector.post("/e", json=again)
        assert (first.json()["accepted"], retried.json()["accepted"]) == (1, 0)
    workers = [make_worker(settings, cluster.url) for _ in range(2)]
    threads = [threading.Thread(target=w.run, kwargs={"burst": True}) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert sum(w.processed for w in workers) == 2 * 61  # each batch once in each group
    return site


@pytest.fixture(scope="module")
def api(
    cluster: LocalCluster, client: redis.Redis, settings: Settings, shop: Site
) -> Iterator[TestClient]:
    app = create_web_app(settings, cluster.url, Path("none.toml"), lambda name: [])
    secret, _ = create_token(client, "tests")
    with TestClient(app, headers={"Authorization": f"Bearer {secret}"}) as web:
        yield web


def test_the_site_s_shards_live_on_every_node(client: redis.Redis, shop: Site) -> None:
    cluster_client = client  # a RedisCluster: it knows which node serves a key
    nodes = {
        cluster_client.get_node_from_key(keys.events_stream("shop", shard)).name  # type: ignore[attr-defined]
        for shard in range(SHARDS)
    }
    assert len(nodes) == 3
    batches = [client.xlen(keys.events_stream("shop", shard)) for shard in range(SHARDS)]
    assert all(batches) and sum(batches) == 61  # sessions spread over every shard


def test_both_consumer_groups_committed_every_batch(client: redis.Redis, shop: Site) -> None:
    for shard in range(SHARDS):
        for group in client.xinfo_groups(keys.events_stream("shop", shard)):
            assert group["pending"] == 0, (shard, group["name"])


def test_pages_and_elements_count_each_event_once(api: TestClient) -> None:
    pages = {(p["template"], p["band"]): p for p in api.get("/api/sites/shop/pages").json()}
    assert (pages[("/cart", "desktop")]["views"], pages[("/cart", "mobile")]["views"]) == (34, 16)
    assert pages[("/cart", "desktop")]["clicks"] == 34 + 1  # the click posted twice counts once
    elements = api.get("/api/sites/shop/elements?page=/cart&band=mobile").json()
    assert elements == [
        {"selector": "#checkout", "clicks": 16, "rage": 0, "dead": 0, "label": "",
         "box": {"x0": 85, "y0": 40, "x1": 85, "y1": 40}},  # every click on one spot: one cell
    ]  # fmt: skip


def test_the_heatmap_is_hottest_where_the_clicks_were(api: TestClient) -> None:
    response = api.get("/api/sites/shop/heatmap.png?page=/cart&band=desktop")
    assert response.headers["x-clicktrail-events"] == "35"
    page = np.asarray(Image.open(io.BytesIO(response.content)).convert("RGB"))[LEGEND_PX:]
    redness = page[..., 0].astype(int) - page[..., 1]
    ys, xs = np.nonzero(redness == redness.max())
    assert abs(xs.mean() - CART_BUTTON[0]) <= 20 and abs(ys.mean() - CART_BUTTON[1]) <= 20


def test_the_funnel_counts_every_session_exactly(api: TestClient) -> None:
    result = api.get(f"/api/sites/shop/funnel?{FUNNEL}&window=1h").json()
    assert [s["entered"] for s in result["steps"]] == [60, 50, 36, 20]
    assert result["overall"]["abandoned"] == 40
    assert result["steps"][1]["next_pages"] == [{"page": "/shipping", "count": 14}]

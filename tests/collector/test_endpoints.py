"""The collector's other routes: the snippet, health, readiness and metrics."""

from __future__ import annotations

import gzip
from collections.abc import Callable

import redis
from starlette.testclient import TestClient

from collector.sites import Site
from tests.factories import batch
from tracker_js import SNIPPET_PATH


def test_the_snippet_is_served_with_an_etag_and_cache_headers(client: TestClient) -> None:
    response = client.get("/t.js", headers={"accept-encoding": "identity"})
    assert response.status_code == 200
    assert response.content == SNIPPET_PATH.read_bytes()
    assert response.headers["content-type"].startswith("application/javascript")
    assert "max-age=" in response.headers["cache-control"]
    etag = response.headers["etag"]
    assert client.get("/t.js", headers={"if-none-match": etag}).status_code == 304


def test_the_snippet_is_sent_gzipped_to_browsers_that_accept_it(client: TestClient) -> None:
    response = client.get("/t.js", headers={"accept-encoding": "gzip, br"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.content == SNIPPET_PATH.read_bytes()  # httpx inflates it
    assert len(gzip.compress(SNIPPET_PATH.read_bytes())) < len(SNIPPET_PATH.read_bytes())


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}


METRICS_TOKEN = "metrics-token-0123456789"


def test_metrics_are_not_public_by_default(client: TestClient) -> None:
    assert client.get("/metrics").status_code == 404


def test_metrics_need_the_bearer_token(make_client: Callable[..., TestClient], site: Site) -> None:
    client = make_client(metrics_token=METRICS_TOKEN)
    for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": METRICS_TOKEN}):
        response = client.get("/metrics", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"] == "Bearer"
        assert "shop" not in response.text
    ok = client.get("/metrics", headers={"authorization": f"Bearer {METRICS_TOKEN}"})
    assert ok.status_code == 200


def test_metrics_count_requests_events_and_stream_backlog(
    make_client: Callable[..., TestClient], redis_client: redis.Redis, site: Site
) -> None:
    client = make_client(metrics_token=METRICS_TOKEN)
    client.post("/e", json=batch(site.key))
    client.post("/e", content=b"{")
    client.post("/e", json=batch(site.key), headers={"sec-gpc": "1"})
    redis_client.xgroup_create("ct:{shop:0}:events", "aggregators", id="0")
    text = client.get("/metrics", headers={"authorization": f"Bearer {METRICS_TOKEN}"}).text
    assert 'clicktrail_collect_requests_total{status="202"} 2.0' in text
    assert 'clicktrail_collect_requests_total{status="400"} 1.0' in text
    assert "clicktrail_events_accepted_total 2.0" in text
    assert 'clicktrail_events_dropped_total{reason="opt_out"} 2.0' in text
    assert 'clicktrail_stream_length{shard="0",site="shop"} 1.0' in text
    for group in ("aggregators", "sessions"):
        assert f'clicktrail_consumer_lag{{group="{group}",shard="0",site="shop"}} 1.0' in text
        assert f'clicktrail_consumer_pending{{group="{group}",shard="0",site="shop"}} 0.0' in text

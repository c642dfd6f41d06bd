"""Request heads are bounded: the whole head on every route, and each header `POST /e` reads."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import redis
from starlette.testclient import TestClient

from collector.sites import Site
from tests.factories import BROWSER_UA, ORIGIN, batch, decode_entry, stored_entries


@pytest.mark.parametrize("route", ["/healthz", "/t.js", "/metrics", "/e"])
def test_a_head_over_32_kb_gets_431_on_every_route(client: TestClient, route: str) -> None:
    response = client.get(route, headers={"cookie": "c=" + "x" * 33_000})
    assert response.status_code == 431
    assert response.json() == {"error": "request headers too large", "field": "headers"}


def test_a_long_url_counts_toward_the_head(client: TestClient) -> None:
    assert client.get("/healthz?" + "q" * 33_000).status_code == 431


def test_site_cookies_under_the_limit_ride_along(client: TestClient, site: Site) -> None:
    cookies = {"cookie": "session=" + "x" * 20_000}
    assert client.get("/healthz", headers=cookies).status_code == 200
    assert client.post("/e", json=batch(site.key), headers=cookies).status_code == 202


def test_the_limit_is_a_setting(make_client: Callable[..., TestClient], site: Site) -> None:
    client = make_client(max_header_bytes=64 * 1024)
    assert client.get("/healthz", headers={"cookie": "x" * 40_000}).status_code == 200


def test_user_agents_are_read_up_to_1_kb(
    make_client: Callable[..., TestClient], redis_client: redis.Redis, site: Site
) -> None:
    client = make_client(rate_ip_per_s=1000)
    for tail in ("a", "b"):
        agent = BROWSER_UA + " " * (1024 - len(BROWSER_UA)) + tail * 2000
        assert client.post("/e", json=batch(site.key), headers={"user-agent": agent}).json()[
            "accepted"
        ]
    first, second = (decode_entry(e)[0] for e in stored_entries(redis_client))
    assert first.vid == second.vid  # what lies past 1 KB is never read


def test_an_origin_over_1_kb_is_not_allowed(client: TestClient, site: Site) -> None:
    origin = ORIGIN + "/" + "a" * 1100  # its first 1 KB would be an allowed origin's prefix
    response = client.post("/e", json=batch(site.key), headers={"origin": origin})
    assert response.status_code == 403
    assert response.json()["field"] == "origin"
    assert "aaaa" not in response.text
    assert "access-control-allow-origin" not in response.headers

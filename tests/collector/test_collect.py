"""POST /e: accepted batches are stored intact, once; the privacy rules hold; Redis trouble
is a 503 the snippet can retry."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import redis
from starlette.applications import Starlette
from starlette.testclient import TestClient

from collector import keys
from collector.schema import Click, PageView
from collector.setting_values import parse_networks
from collector.sites import Site, add_site, new_site
from tests.factories import ORIGIN, all_keys, batch, click, decode_entry, pageview, stored_entries


def test_an_accepted_batch_is_in_redis_when_the_202_arrives(
    client: TestClient, redis_client: redis.Redis, site: Site
) -> None:
    sent = batch(site.key, [pageview(id="pv-event-1"), click(id="click-event-1", x=12.5)])
    response = client.post("/e", json=sent, headers={"origin": ORIGIN})
    assert response.status_code == 202
    assert response.json() == {"accepted": 2, "dropped": 0, "duplicates": 0}
    [entry] = stored_entries(redis_client)
    header, events = decode_entry(entry)
    assert (header.site, header.sid, header.v) == ("shop", "session-1", 1)
    assert isinstance(events["pv-event-1"], PageView)
    stored_click = events["click-event-1"]
    assert isinstance(stored_click, Click)
    assert (stored_click.x, stored_click.sel, stored_click.p) == (12.5, "button.buy", "/cart")


def test_the_same_events_sent_again_are_stored_once(
    client: TestClient, redis_client: redis.Redis, site: Site
) -> None:
    sent = batch(site.key)
    assert client.post("/e", json=sent).json()["accepted"] == 2
    again = client.post("/e", json={**sent, "sent_at": sent["sent_at"] + 5000})
    assert again.status_code == 202
    assert again.json() == {"accepted": 0, "dropped": 0, "duplicates": 2}
    mixed = client.post("/e", json=batch(site.key, [sent["events"][0], click()]))
    assert mixed.json() == {"accepted": 1, "dropped": 0, "duplicates": 1}
    stored = [decode_entry(e)[1] for e in stored_entries(redis_client)]
    assert sum(len(events) for events in stored) == 3


def test_clock_skew_is_recorded_for_correction(
    client: TestClient, redis_client: redis.Redis, site: Site
) -> None:
    sent = batch(site.key)
    skewed = {
        **sent,
        "sent_at": sent["sent_at"] - 3_600_000,
        "events": [{**e, "ts": e["ts"] - 3_600_000} for e in sent["events"]],
    }
    assert client.post("/e", json=skewed).status_code == 202
    header, _ = decode_entry(stored_entries(redis_client)[0])
    assert 3_590_000 < header.skew < 3_700_000  # the client runs an hour behind


def test_no_raw_ip_is_stored_and_the_visitor_id_is_a_keyed_hash(
    client: TestClient, redis_client: redis.Redis, site: Site
) -> None:
    client.post("/e", json=batch(site.key))
    header, _ = decode_entry(stored_entries(redis_client)[0])
    assert len(header.vid) == 16
    dump = b"".join(redis_client.dump(k) or b"" for k in all_keys(redis_client))
    assert b"203.0.113.7" not in dump
    [salt_key] = all_keys(redis_client, keys.visitor_salt("*"))
    assert 0 < redis_client.ttl(salt_key) <= keys.SALT_TTL_S


def test_browser_system_and_country_are_kept_as_families_and_a_code(
    make_client: Callable[..., TestClient], redis_client: redis.Redis, site: Site
) -> None:
    proxied = make_client(trusted_proxies=parse_networks("203.0.113.0/24"))
    safari = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
        "like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
    )
    headers = {"user-agent": safari, "x-forwarded-for": "81.2.69.142"}  # a British address
    assert proxied.post("/e", json=batch(site.key), headers=headers).status_code == 202
    header, _ = decode_entry(stored_entries(redis_client)[0])
    assert (header.browser, header.os, header.country) == ("Mobile Safari", "iOS", "GB")
    dump = b"".join(redis_client.dump(k) or b"" for k in all_keys(redis_client))
    assert b"81.2.69.142" not in dump and b"AppleWebKit" not in dump


def test_bots_and_opted_out_visitors_get_202_and_nothing_is_stored(
    make_client: Callable[..., TestClient], redis_client: redis.Redis, site: Site
) -> None:
    client = make_client()
    for headers in (
        {"user-agent": "Googlebot/2.1 (+http://www.google.com/bot.html)"},
        {"user-agent": ""},
        {"user-agent": "Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/131.0.0.0 Safari/537.36"},
        {"sec-gpc": "1"},
        {"dnt": "1"},
    ):
        response = client.post("/e", json=batch(site.key), headers=headers)
        assert response.status_code == 202, headers
        assert response.json() == {"accepted": 0, "dropped": 2, "duplicates": 0}
    assert stored_entries(redis_client) == []
    relaxed = make_client(honor_dnt=False)
    assert relaxed.post("/e", json=batch(site.key), headers={"dnt": "1"}).json()["accepted"] == 2


def test_cors_is_echoed_only_for_registered_origins(client: TestClient, site: Site) -> None:
    ok = client.post("/e", json=batch(site.key), headers={"origin": "https://SHOP.example:443"})
    assert ok.headers["access-control-allow-origin"] == "https://SHOP.example:443"
    preflight = client.options(
        "/e", headers={"origin": ORIGIN, "access-control-request-method": "POST"}
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == ORIGIN
    stranger = client.options("/e", headers={"origin": "https://evil.example"})
    assert "access-control-allow-origin" not in stranger.headers


def test_an_origin_of_another_site_is_refused(
    client: TestClient, redis_client: redis.Redis, site: Site
) -> None:
    add_site(redis_client, new_site("blog", ["https://blog.example"]))
    response = client.post("/e", json=batch(site.key), headers={"origin": "https://blog.example"})
    assert response.status_code == 403


def test_a_removed_site_key_stops_working(
    make_client: Callable[..., TestClient], redis_client: redis.Redis, site: Site
) -> None:
    from collector.sites import remove_site

    client = make_client()
    assert client.post("/e", json=batch(site.key)).status_code == 202
    remove_site(redis_client, "shop")
    app = cast(Starlette, client.app)
    app.state.collector.sites._loaded_at = float("-inf")  # skip the 5 s cache
    assert client.post("/e", json=batch(site.key)).status_code == 403


def test_one_client_over_its_rate_gets_429_with_retry_after(
    make_client: Callable[..., TestClient], site: Site
) -> None:
    client = make_client(rate_ip_per_s=1.0)  # burst of 5
    statuses = [client.post("/e", json=batch(site.key)).status_code for _ in range(8)]
    assert statuses[:5] == [202] * 5
    assert statuses[-1] == 429
    limited = client.post("/e", json=batch(site.key))
    assert limited.headers["retry-after"] == "1"


def test_a_full_buffer_answers_503_and_stores_nothing(
    make_client: Callable[..., TestClient], redis_client: redis.Redis, site: Site
) -> None:
    client = make_client(buffer_max_events=1000)
    stream = keys.events_stream("shop", 0)
    for i in range(1000):
        redis_client.xadd(stream, {"filler": i})
    response = client.post("/e", json=batch(site.key))
    assert response.status_code == 503
    assert response.headers["retry-after"] == "10"
    assert redis_client.xlen(stream) == 1000
    assert all_keys(redis_client, "ct:{shop:0}:seen:*") == []


def test_unreachable_redis_answers_503_with_retry_after(site: Site) -> None:
    from pathlib import Path

    from collector.app import create_app
    from collector.settings import Settings

    app = create_app(Settings(data_dir=Path("unused")), "redis://127.0.0.1:1/0")
    with TestClient(app) as client:
        response = client.post("/e", json=batch(site.key), headers={"user-agent": "Mozilla/5.0"})
        assert response.status_code == 503
        assert response.headers["retry-after"] == "2"
        assert client.get("/readyz").status_code == 503
        assert client.get("/healthz").status_code == 200


def test_sessions_are_spread_over_a_site_s_shards(
    make_client: Callable[..., TestClient], redis_client: redis.Redis
) -> None:
    sharded = add_site(redis_client, new_site("big", [ORIGIN], shards=4))
    client = make_client()
    for i in range(40):
        assert client.post("/e", json=batch(sharded.key, sid=f"session-{i}")).status_code == 202
    lengths = [redis_client.xlen(keys.events_stream("big", s)) for s in range(4)]
    assert sum(lengths) == 40
    assert all(n > 0 for n in lengths)

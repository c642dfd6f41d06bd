"""The site registry: names, keys and the origins allowed to send."""

from __future__ import annotations

import json

import pytest
import redis

from collector import keys
from collector.sites import (
    Site,
    SiteError,
    add_site,
    get_site,
    list_sites,
    new_site,
    normalize_origin,
    remove_site,
    set_time_zone,
)
from tests.factories import tiny_async_client


@pytest.mark.parametrize(
    ("raw", "origin"),
    [
        ("https://Shop.Example", "https://shop.example"),
        ("https://shop.example:443/", "https://shop.example"),
        ("http://localhost:3000", "http://localhost:3000"),
        ("http://127.0.0.1:80", "http://127.0.0.1"),
        ("https://[::1]:8443", "https://[::1]:8443"),
    ],
)
def test_origins_are_normalised(raw: str, origin: str) -> None:
    assert normalize_origin(raw) == origin


@pytest.mark.parametrize(
    "raw",
    [
        "shop.example",
        "ftp://shop.example",
        "https://shop.example/path",
        "https://shop.example?q=1",
        "https://user@shop.example",
        "https://shop.example:99999",
        "null",
        "",
    ],
)
def test_what_is_not_an_origin_is_refused(raw: str) -> None:
    with pytest.raises(SiteError):
        normalize_origin(raw)


@pytest.mark.parametrize("name", ["Shop", "-shop", "shop_1", "a" * 64, "", "shop site"])
def test_site_names_are_short_lowercase_slugs(name: str) -> None:
    with pytest.raises(SiteError, match="site name"):
        new_site(name, ["https://shop.example"])


def test_a_site_needs_an_origin() -> None:
    with pytest.raises(SiteError, match="origin"):
        new_site("shop", [])


def test_sites_are_added_listed_and_removed(redis_client: redis.Redis) -> None:
    shop = add_site(
        redis_client, new_site("shop", ["https://shop.example", "https://SHOP.example"])
    )
    add_site(redis_client, new_site("blog", ["https://blog.example"], shards=4))
    assert shop.origins == ("https://shop.example",)
    assert shop.key.startswith("ct_") and len(shop.key) > 20
    assert [s.name for s in list_sites(redis_client)] == ["blog", "shop"]
    assert get_site(redis_client, "blog").shards == 4
    with pytest.raises(SiteError, match="exists already"):
        add_site(redis_client, new_site("shop", ["https://other.example"]))
    assert get_site(redis_client, "shop") == shop
    remove_site(redis_client, "shop")
    assert [s.name for s in list_sites(redis_client)] == ["blog"]
    with pytest.raises(SiteError, match="no site named"):
        remove_site(redis_client, "shop")


def test_concurrent_lookups_of_unknown_keys_share_one_reload(
    redis_url: str, redis_client: redis.Redis
) -> None:
    import asyncio

    from collector.sites import SiteDirectory

    shop = add_site(redis_client, new_site("shop", ["https://shop.example"]))

    async def burst() -> list[Site | None]:
        client = tiny_async_client(redis_url, max_connections=2)
        directory = SiteDirectory(client)
        found = await asyncio.gather(*(directory.lookup(k) for k in [shop.key, "ct_nope"] * 100))
        await client.aclose()
        return found

    found = asyncio.run(burst())
    assert found[0::2] == [shop] * 100
    assert found[1::2] == [None] * 100


def test_a_sites_time_zone_is_stored_changed_and_utc_for_old_records(
    redis_client: redis.Redis,
) -> None:
    add_site(redis_client, new_site("blog", ["https://blog.example"], time_zone="Europe/Paris"))
    assert get_site(redis_client, "blog").time_zone == "Europe/Paris"
    assert set_time_zone(redis_client, "blog", "America/New_York").time_zone == "America/New_York"
    assert get_site(redis_client, "blog").time_zone == "America/New_York"
    with pytest.raises(SiteError, match="unknown time zone 'Mars/Olympus'"):
        set_time_zone(redis_client, "blog", "Mars/Olympus")
    with pytest.raises(SiteError, match="no site named 'nope'"):
        set_time_zone(redis_client, "nope", "UTC")
    # A record written before sites had a time zone.
    old = {"name": "old", "key": "ct_old", "origins": ["https://old.example"], "shards": 1}
    redis_client.hset(keys.SITES_BY_NAME, "old", "ct_old")
    redis_client.hset(keys.SITES_BY_KEY, "ct_old", json.dumps(old))
    assert get_site(redis_client, "old").time_zone == "UTC"

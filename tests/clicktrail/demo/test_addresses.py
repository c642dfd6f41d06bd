"""The demo's synthetic visitors come from several countries: each address is where the
collector's lookup places it, and the demo's collector (and only it) believes the header."""

from __future__ import annotations

from collections import Counter
from ipaddress import ip_network
from pathlib import Path

import pytest
import redis

from clicktrail.demo.addresses import VISITOR_ADDRESSES, VisitorAddress, pick_addresses
from clicktrail.demo.background import BackgroundServer, free_port
from clicktrail.demo.run import DEMO_PROXY, demo_settings
from clicktrail.demo.synthetic import post_visits
from clicktrail.demo.visitors import plan_visits
from collector import sites
from collector.app import create_app
from collector.geo import Countries
from collector.settings import Settings
from tests.factories import decode_entry, stored_entries

SHOP = "http://127.0.0.1:9"  # the Origin the batches carry; the shop itself is not needed


@pytest.mark.parametrize("known", VISITOR_ADDRESSES, ids=lambda a: a.address)
def test_each_address_is_in_its_country(known: VisitorAddress) -> None:
    assert Countries()(known.address) == known.country


def test_the_draw_is_the_same_for_a_seed_and_covers_every_country() -> None:
    drawn = pick_addresses(500, seed=7)
    assert drawn == pick_addresses(500, seed=7)
    countries = {a.country for a in VISITOR_ADDRESSES if a.address in drawn}
    assert countries == {a.country for a in VISITOR_ADDRESSES}


def stored_countries(redis_url: str, client: redis.Redis, settings: Settings) -> Counter[str]:
    """Countries of the batches of 30 demo visits posted to a collector with `settings`."""
    site = sites.add_site(client, sites.new_site("shop", [SHOP]))
    with BackgroundServer(create_app(settings, redis_url), free_port()) as collector:
        assert post_visits(collector.url, site.key, SHOP, plan_visits(30, seed=5), seed=5) > 0
    return Counter(decode_entry(entry)[0].country for entry in stored_entries(client))


def test_the_demos_collector_stores_the_visitors_countries(
    redis_url: str, redis_client: redis.Redis
) -> None:
    settings = demo_settings(Settings(data_dir=Path("unused")))
    countries = stored_countries(redis_url, redis_client, settings)
    assert "" not in countries
    assert len(countries) >= 5 and set(countries) <= {a.country for a in VISITOR_ADDRESSES}


def test_the_demo_adds_its_proxy_to_the_owners_and_a_collector_without_it_ignores_the_header(
    redis_url: str, redis_client: redis.Redis
) -> None:
    owners_proxy = ip_network("10.0.0.0/8")
    owners = Settings(data_dir=Path("unused"), trusted_proxies=(owners_proxy,))
    assert demo_settings(owners).trusted_proxies == (owners_proxy, DEMO_PROXY)
    assert demo_settings(demo_settings(owners)).trusted_proxies == (owners_proxy, DEMO_PROXY)
    plain = Settings(data_dir=Path("unused"), rate_ip_per_s=1e6)
    assert plain.trusted_proxies == ()  # no global default changed
    assert set(stored_countries(redis_url, redis_client, plain)) == {""}

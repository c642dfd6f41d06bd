"""A visit's touch: the raw inputs its channel is classified from, kept per page view as a
vocabulary entry of version 2 beside version 1's bare source, read back for either."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import redis
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from clicktrail.worker import Worker
from collector.cardinality import OVER_LIMIT
from collector.pages import PageTemplates
from collector.schema import PageView, StoredHeader
from collector.sites import Site
from heatmap.aggregate import Aggregator
from reports.sessions.builder import SessionBuilder
from reports.sessions.reader import load_sessions, session_touches
from reports.sessions.touches import Touch, over_limit, parse_entry, touch_entry
from tests.factories import batch, now_ms, pageview

HEADER = StoredHeader(1, "shop", "tab", "", 0, 0, "Chrome", "Windows", "FR")


def view(**fields: Any) -> PageView:
    return PageView(id="e" * 16, ts=now_ms(), p="/", pv="pv1", **fields)


def test_a_touch_keeps_every_input_and_reads_back_the_same() -> None:
    landing = view(
        ref="WWW.Google.com",
        utm={"source": "Google", "medium": "cpc", "campaign": "Winter Sale", "x": "not kept"},
        ck=["fbclid", "gclid"],
        host="Shop.Example",
    )
    touch = parse_entry(touch_entry(landing, HEADER))
    assert touch == Touch(
        referrer="www.google.com", source="Google", medium="cpc", campaign="Winter Sale",
        click_ids=("gclid", "fbclid"), browser="Chrome", os="Windows", country="FR",
        host="shop.example",
    )  # fmt: skip
    assert touch.source_name == "google"  # as funnels named sources before


@pytest.mark.parametrize(
    ("entry", "source"),
    [
        ("s:newsletter", "newsletter"),  # version 1: the source alone
        ("s:(direct)", "(direct)"),
        ('t:["www.bing.com","","","","","",[],"","","",""]', "bing.com"),
        ('t:["android-app://com.google.android.gm","","","","","",[],"","","",""]',
         "android-app://com.google.android.gm"),
        ('t:["","","","","","",[],"","","",""]', "(direct)"),
        ("t:not json", "(direct)"),
        ('t:["too","short"]', "(direct)"),
        ("p:/cart", "(direct)"),
    ],
)  # fmt: skip
def test_either_version_and_anything_unreadable_give_a_source(entry: str, source: str) -> None:
    assert parse_entry(entry).source_name == source


def test_an_in_site_referrer_or_a_forged_host_is_no_touch() -> None:
    internal = parse_entry(touch_entry(view(ref="/previous/page", host="shop.example"), HEADER))
    assert internal.referrer == ""
    forged = parse_entry(touch_entry(view(ref="evil.example/<script>", host="a b"), HEADER))
    assert (forged.referrer, forged.host) == ("", "")


def test_over_the_bound_a_touch_keeps_only_device_and_country() -> None:
    landing = view(ref="spam.example", utm={"campaign": "x" * 256}, ck=["gclid"])
    over_limit(landing)
    touch = parse_entry(touch_entry(landing, HEADER))
    assert touch == Touch(referrer=OVER_LIMIT, browser="Chrome", os="Windows", country="FR")


@settings(max_examples=200, deadline=None)
@given(
    ref=st.text(max_size=256),
    utm=st.dictionaries(st.sampled_from(["source", "medium", "campaign", "term", "content"]),
                        st.text(max_size=256)),
    host=st.text(max_size=253),
)  # fmt: skip
def test_no_stranger_s_value_can_forge_another_field(
    ref: str, utm: dict[str, str], host: str
) -> None:
    touch = parse_entry(touch_entry(view(ref=ref, utm=utm, host=host), HEADER))
    assert (touch.browser, touch.os, touch.country) == ("Chrome", "Windows", "FR")
    assert touch.source == utm.get("source", "").strip()
    assert touch.campaign == utm.get("campaign", "").strip()


@pytest.fixture
def client(make_client: Callable[..., TestClient], site: Site) -> TestClient:
    return make_client(rate_ip_per_s=1e6)


def test_sessions_carry_their_first_page_views_touch(
    client: TestClient, redis_client: redis.Redis, site: Site
) -> None:
    t0 = now_ms() - 60_000
    landing = pageview(p="/", ts=t0, ref="news.ycombinator.com", utm={"source": "hn"}, ck=["gclid"])
    events = [landing, pageview(p="/cart", ts=t0 + 1000, ref="/")]
    assert client.post("/e", json=batch(site.key, events, sid="tab")).status_code == 202
    Worker(redis_client, [Aggregator(PageTemplates(), 90), SessionBuilder(redis_client)]).run(
        burst=True
    )
    table = load_sessions(redis_client, site, t0 - 60_000, t0 + 60_000, 0)
    [touch] = session_touches(table)
    assert (touch.referrer, touch.source, touch.click_ids) == (
        "news.ycombinator.com",
        "hn",
        ("gclid",),
    )
    assert table.sources[table.source[0]] == "hn"

"""Visits by channel over sessions posted through POST /e and filed by the worker: one channel
per visit from its first page view, bounces and conversions counted against a plain count, the
user's rules first, spam apart; the funnel's breakdown and the journeys' filter by channel."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
from starlette.testclient import TestClient

from clicktrail.worker import Worker
from collector.pages import PageTemplates
from collector.sites import Site
from heatmap.aggregate import Aggregator
from reports.analyses.channel_report import ChannelsRequest, run_channels
from reports.analyses.channel_rules import parse_rules
from reports.analyses.funnel_request import FunnelRequest, run_funnel
from reports.analyses.journey_request import JourneyRequest, VisitFilter, run_journeys
from reports.sessions.builder import SessionBuilder
from tests.factories import batch, now_ms, pageview

# (referrer, utm, click ids, pages): each a visit
VISITS: list[tuple[str, dict[str, str], list[str], list[str]]] = [
    ("www.google.com", {}, [], ["/", "/thanks"]),
    ("www.google.de", {}, [], ["/"]),
    ("", {"source": "google", "medium": "cpc"}, ["gclid"], ["/product/1", "/cart", "/thanks"]),
    ("m.facebook.com", {}, ["fbclid"], ["/"]),  # organic: fbclid is never paid by itself
    ("", {"source": "newsletter", "medium": "email"}, [], ["/", "/cart"]),
    ("chatgpt.com", {}, [], ["/product/2", "/thanks"]),
    ("", {}, [], ["/"]),
    ("", {}, [], ["/", "/about"]),
    ("android-app://com.google.android.gm", {}, [], ["/"]),
    ("semalt.com", {}, [], ["/"]),  # referrer spam
    ("", {"source": "partner-x", "medium": "influencer"}, [], ["/", "/thanks"]),
]


@pytest.fixture
def filed(make_client: Callable[..., TestClient], redis_client: redis.Redis, site: Site) -> None:
    client = make_client(rate_ip_per_s=1e6)
    t0 = now_ms() - 3 * 3_600_000
    for n, (ref, utm, ck, pages) in enumerate(VISITS):
        events = [
            pageview(p=p, ts=t0 + n * 1000 + i * 60_000, ref=ref if not i else pages[i - 1],
                     utm=utm if not i else {}, ck=ck if not i else [])
            for i, p in enumerate(pages)
        ]  # fmt: skip
        assert client.post("/e", json=batch(site.key, events, sid=f"v{n}")).status_code == 202
    processors: list[Any] = [Aggregator(PageTemplates(), 90), SessionBuilder(redis_client)]
    Worker(redis_client, processors).run(burst=True)


def days(**fields: Any) -> VisitFilter:
    today = datetime.now(UTC).date()
    return VisitFilter(first=today - timedelta(days=1), last=today, **fields)


def test_every_visit_lands_in_one_channel_with_exact_rates(
    redis_client: redis.Redis, site: Site, filed: None
) -> None:
    result = run_channels(redis_client, site, ChannelsRequest(days(), goal="/thanks"))
    rows = {
        r["channel"]: (r["visits"], r["bounce_rate"], r["conversions"]) for r in result["channels"]
    }
    assert rows == {
        "organic_search": (2, 0.5, 1),
        "paid_search": (1, 0.0, 1),
        "organic_social": (1, 1.0, 0),
        "email": (2, 0.5, 0),  # the newsletter and the Gmail app
        "ai_assistants": (1, 0.0, 1),
        "direct": (2, 0.5, 0),
        "unassigned": (1, 0.0, 1),  # a UTM source no rule knows
    }
    assert (result["visits"], result["spam_visits"]) == (10, 1)
    assert sum(r["visits"] for r in result["channels"]) == result["visits"]  # conserving
    first = result["channels"][0]
    assert first["channel"] in ("organic_search", "email", "direct")  # most visits first
    search = next(r for r in result["channels"] if r["channel"] == "organic_search")
    assert search["sources"] == [
        {"source": "google.com", "visits": 1},
        {"source": "google.de", "visits": 1},
    ]
    assert search["conversion_rate"] == 0.5 and search["name"] == "Organic Search"


def test_the_owners_rules_come_first(redis_client: redis.Redis, site: Site, filed: None) -> None:
    rules = tuple(
        parse_rules({"rules": [{"channel": "affiliates", "medium": {"equals": "influencer"}}]})
    )
    result = run_channels(redis_client, site, ChannelsRequest(days(channel_rules=rules)))
    rows = {r["channel"]: r["visits"] for r in result["channels"]}
    assert rows["affiliates"] == 1 and "unassigned" not in rows
    assert all(r["conversions"] is None for r in result["channels"])  # no goal, no conversions


def test_the_funnel_breaks_down_and_journeys_filter_by_channel(
    redis_client: redis.Redis, site: Site, filed: None
) -> None:
    today = datetime.now(UTC).date()
    request = FunnelRequest(
        steps=["/", "/thanks"], first=today - timedelta(days=1), last=today, breakdown="channel"
    )
    groups = run_funnel(redis_client, site, request).result["breakdown"]["groups"]
    by = {g["group"]: (g["entered"], g["converted"]) for g in groups}
    assert by["organic_search"] == (2, 1) and by["direct"] == (2, 0)
    paid = run_journeys(redis_client, site, JourneyRequest(days(channel="paid_search")))
    assert paid["visits"] == 1
    assert [n["id"] for n in paid["columns"][0]["nodes"]] == ["1:/product/:id"]

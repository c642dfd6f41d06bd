"""Channels over visits made in Debian's Chromium with the real snippet (issue 19): visitors
landing from a search engine, an ad, Facebook, a newsletter, ChatGPT, TikTok, the Gmail app,
the site's blog, a spam referrer and nowhere, sent to the real collector and filed by the
worker, each in the channel the classifier's rules give, with the visits that reached /thanks
as conversions. The harness and its clocks: browser_visits.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from playwright.sync_api import Browser

from reports.analyses.channel_report import ChannelsRequest, run_channels
from reports.analyses.journey_request import JourneyRequest, run_journeys
from reports.analyses.overview_request import OverviewRequest, run_overview
from tests.reports.analyses.browser_visits import Browsed, S, Shop, Visitor, browse_and_file

pytestmark = pytest.mark.slow

BLOG = "https://blog.shop.example"  # the site's other origin
# (landing page and query, referrer, later pages): one visitor each, a minute apart
ARRIVALS = [
    ("/", "https://www.google.com/", ["/product/1"]),
    ("/product/1?utm_source=google&utm_medium=cpc&gclid=x", "", ["/thanks"]),
    ("/?fbclid=x", "https://www.facebook.com/", ["/thanks"]),  # organic: fbclid is never paid
    ("/?utm_source=newsletter&utm_medium=email", "", ["/cart", "/thanks"]),
    ("/", "https://chatgpt.com/", []),
    ("/product/2?ttclid=x", "", []),
    ("/", "", ["/cart"]),
    ("/", "android-app://com.google.android.gm", []),
    ("/", BLOG + "/posts/spring", ["/thanks"]),
    ("/", "https://semalt.com/", []),
]


def browse(shop: Shop, t0: int) -> None:
    """Each arrival's visitor, one after the other, ten seconds on each page."""
    for n, (landing, referrer, pages) in enumerate(ARRIVALS):
        start = t0 + n * 60 * S
        visitor = Visitor(shop, start)
        visitor.at(start).go(landing, referrer)
        for k, path in enumerate(pages, start=1):
            visitor.at(start + k * 10 * S).go(path)
        visitor.at(start + (len(pages) + 1) * 10 * S).leave()


@pytest.fixture(scope="module")
def browsed(browser: Browser, redis_url: str) -> Iterator[Browsed]:
    """The visits, browsed once for the module's tests and filed: all have ended by the query."""
    browsed = browse_and_file(browser, redis_url, browse, len(ARRIVALS), other_origins=[BLOG])
    yield browsed
    browsed.client.close()


def test_each_visit_lands_in_its_channel_with_its_conversions(browsed: Browsed) -> None:
    request = ChannelsRequest(browsed.visits, goal="/thanks")
    result = run_channels(browsed.client, browsed.site, request, now_ms=browsed.now_ms)
    assert dict(result) == {
        **browsed.head,
        "goal": "/thanks",
        "visits": 9,
        "spam_visits": 1,  # semalt.com
        "warnings": [],
        "channels": [
            # the newsletter (converted) and the Gmail app (bounced)
            {"channel": "email", "name": "Email", "visits": 2, "bounce_rate": 0.5,
             "conversions": 1, "conversion_rate": 0.5, "sources": [
                 {"source": "android-app://com.google.android.gm", "visits": 1},
                 {"source": "newsletter", "visits": 1},
             ]},
            {"channel": "ai_assistants", "name": "AI Assistants", "visits": 1, "bounce_rate": 1.0,
             "conversions": 0, "conversion_rate": 0.0, "sources": [
                 {"source": "chatgpt.com", "visits": 1},
             ]},
            {"channel": "direct", "name": "Direct", "visits": 1, "bounce_rate": 0.0,
             "conversions": 0, "conversion_rate": 0.0, "sources": [
                 {"source": "(direct)", "visits": 1},
             ]},
            {"channel": "internal", "name": "Internal", "visits": 1, "bounce_rate": 0.0,
             "conversions": 1, "conversion_rate": 1.0, "sources": [
                 {"source": "blog.shop.example", "visits": 1},
             ]},
            {"channel": "organic_search", "name": "Organic Search", "visits": 1,
             "bounce_rate": 0.0, "conversions": 0, "conversion_rate": 0.0, "sources": [
                 {"source": "google.com", "visits": 1},
             ]},
            {"channel": "organic_social", "name": "Organic Social", "visits": 1,
             "bounce_rate": 0.0, "conversions": 1, "conversion_rate": 1.0, "sources": [
                 {"source": "facebook.com", "visits": 1},
             ]},
            {"channel": "paid_search", "name": "Paid Search", "visits": 1, "bounce_rate": 0.0,
             "conversions": 1, "conversion_rate": 1.0, "sources": [
                 {"source": "google", "visits": 1},
             ]},
            # a TikTok ad's click id with neither referrer nor UTM tags: its source is "(direct)"
            {"channel": "paid_social", "name": "Paid Social", "visits": 1, "bounce_rate": 1.0,
             "conversions": 0, "conversion_rate": 0.0, "sources": [
                 {"source": "(direct)", "visits": 1},
             ]},
        ],
    }  # fmt: skip


def test_journeys_of_one_channel_count_only_its_visits(browsed: Browsed) -> None:
    request = JourneyRequest(replace(browsed.visits, channel="paid_search"), goal="/thanks")
    result = run_journeys(browsed.client, browsed.site, request, now_ms=browsed.now_ms)
    assert (result["visits"], result["edges"]) == (
        1,
        [{"from": "1:/product/:id", "to": "2:/thanks", "visits": 1, "goal": 1}],
    )


def test_the_overview_counts_the_same_visits_and_conversions(browsed: Browsed) -> None:
    request = OverviewRequest(browsed.visits, goal="/thanks", limit=0)
    got = run_overview(browsed.client, browsed.site, request, now_ms=browsed.now_ms)
    kept = [a for a in ARRIVALS if "semalt" not in a[1]]
    channels = run_channels(
        browsed.client, browsed.site, ChannelsRequest(browsed.visits, goal="/thanks"),
        now_ms=browsed.now_ms,
    )  # fmt: skip
    assert (got["visits"], got["spam_visits"]) == (len(kept), 1)
    assert got["pageviews"] == sum(1 + len(pages) for _, _, pages in kept)
    assert got["bounce_rate"] == sum(not pages for _, _, pages in kept) / len(kept)
    assert got["conversions"] == sum("/thanks" in pages for _, _, pages in kept) == 4
    assert {(c["channel"], c["visits"], c["conversions"]) for c in got["channels"]} == {
        (c["channel"], c["visits"], c["conversions"]) for c in channels["channels"]
    }
    # each visitor a minute apart, ten seconds per page: the duration is 10 s per page after
    # the first, the median over the visits' 0, 10 and 20 s
    durations = sorted(10 * len(pages) for _, _, pages in kept)
    assert got["median_duration_s"] == float(durations[len(durations) // 2])
    assert got["browsers"] == [{"browser": "Chrome", "visits": len(kept)}]
    assert got["devices"] == [{"band": "desktop", "visits": len(kept)}]
    assert {e["page"] for e in got["entry_pages"]} == {"/", "/product/1", "/product/2"}

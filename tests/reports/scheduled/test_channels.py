"""The report's conversion by entry channel over visits posted through POST /e: its numbers are
`run_channels`' for the report's days and the funnel's last step, its conversions add up to the
visits that reached that step, and it reaches report.json, the page and the e-mail."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import redis
from playwright.sync_api import Browser
from starlette.testclient import TestClient

from clicktrail.worker import Worker
from collector.sites import Site
from reports.analyses.channel_report import ChannelsRequest, run_channels
from reports.analyses.channel_rules import parse_rules
from reports.analyses.journey_request import VisitFilter
from reports.delivery.email import build_message
from reports.delivery.targets import EmailTarget
from reports.scheduled.build import ReportData, build_report
from reports.scheduled.config import FunnelDefinition
from reports.scheduled.files import write_report
from reports.scheduled.periods import report_period
from reports.sessions.builder import SessionBuilder
from tests.factories import batch, pageview
from tests.reports.scheduled.test_build import LAYOUT, SHOTS

CART = FunnelDefinition("cart", ("/product/*", "/cart", "/checkout", "/thanks"))
TODAY = datetime.now(UTC).date()
FIRST, LAST = report_period("yesterday", TODAY)
BEFORE = LAST - timedelta(days=1)
RULES = tuple(
    parse_rules({"rules": [{"channel": "affiliates", "medium": {"equals": "influencer"}}]})
)
BUY = ["/product/1", "/cart", "/checkout", "/thanks"]

# (referrer, utm, click ids, pages): each a visit
Visit = tuple[str, dict[str, str], list[str], list[str]]
NOW: list[Visit] = [
    ("www.google.com", {}, [], BUY),
    ("www.google.com", {}, [], ["/", "/thanks"]),  # reached the goal out of the funnel's order
    ("www.bing.com", {}, [], ["/product/2", "/cart"]),
    ("", {"source": "google", "medium": "cpc"}, ["gclid"], BUY),
    ("", {"source": "newsletter", "medium": "email"}, [], ["/product/3"]),
    ("chatgpt.com", {}, [], ["/thanks"]),
    ("", {}, [], ["/"]),
    ("", {}, [], BUY),
    ("", {"source": "partner-x", "medium": "influencer"}, [], BUY),  # the owner's rule
    ("semalt.com", {}, [], BUY),  # referrer spam: reached the goal, counted nowhere
]
PREVIOUS: list[Visit] = [
    ("www.google.com", {}, [], ["/"]),
    ("www.google.com", {}, [], ["/"]),
    ("", {}, [], BUY),
    ("", {"source": "tiktok", "medium": "paid_social"}, ["ttclid"], BUY),  # gone since
]


def post_visits(client: TestClient, site: Site, day: date, visits: list[Visit]) -> None:
    noon = int(datetime(day.year, day.month, day.day, 12, tzinfo=UTC).timestamp() * 1000)
    for n, (ref, utm, ck, pages) in enumerate(visits):
        events = [
            pageview(p=p, ts=noon + n * 1000 + i * 60_000, ref=ref if not i else pages[i - 1],
                     utm=utm if not i else {}, ck=ck if not i else [])
            for i, p in enumerate(pages)
        ]  # fmt: skip
        body = batch(site.key, events, sid=f"{day:%Y%m%d}-{n}")
        assert client.post("/e", json=body).status_code == 202


@pytest.fixture
def report(
    make_client: Callable[..., TestClient], redis_client: redis.Redis, site: Site
) -> ReportData:
    client = make_client(rate_ip_per_s=1e6, max_event_age_s=8 * 86_400)
    post_visits(client, site, LAST, NOW)
    post_visits(client, site, BEFORE, PREVIOUS)
    Worker(redis_client, [SessionBuilder(redis_client)]).run(burst=True)
    return build_report(redis_client, site, CART, FIRST, LAST, channel_rules=RULES)


def test_the_numbers_are_run_channels_for_the_same_days_and_goal(
    report: ReportData, redis_client: redis.Redis, site: Site
) -> None:
    now_ms = int(datetime.fromisoformat(report.data["current"]["as_of"]).timestamp() * 1000)
    rows = report.data["channels"]
    for (first, last), figures in (
        ((FIRST, LAST), {r["channel"]: r for r in rows}),
        ((BEFORE, BEFORE), {r["channel"]: r["previous"] for r in rows}),
    ):
        visits = VisitFilter(first, last, channel_rules=RULES)
        expected = run_channels(redis_client, site, ChannelsRequest(visits, "/thanks"), now_ms)
        for row in expected["channels"]:
            mine = figures.pop(row["channel"])
            assert (mine["visits"], mine["conversions"], mine["conversion_rate"]) == (
                row["visits"],
                row["conversions"],
                row["conversion_rate"],
            )
        assert all(f["visits"] == 0 for f in figures.values())  # the other period's channels


def test_conversions_add_up_to_the_visits_that_reached_the_last_step(report: ReportData) -> None:
    rows = report.data["channels"]
    reached = sum("/thanks" in pages for ref, _, _, pages in NOW if ref != "semalt.com")
    assert sum(r["conversions"] for r in rows) == reached == 6
    assert sum(r["visits"] for r in rows) == len(NOW) - 1
    by = {r["channel"]: (r["visits"], r["conversions"]) for r in rows}
    assert by == {
        "organic_search": (3, 2),
        "direct": (2, 1),
        "paid_search": (1, 1),
        "email": (1, 0),
        "ai_assistants": (1, 1),
        "affiliates": (1, 1),  # the owner's rule came first: not Unassigned
        "paid_social": (0, 0),  # only before
    }
    assert [r["channel"] for r in rows[:2]] == ["organic_search", "direct"]  # most visits first
    search = rows[0]
    assert search["previous"] == {"visits": 2, "conversions": 0, "conversion_rate": 0.0}
    assert search["difference"] == pytest.approx(2 / 3)
    gone = rows[-1]
    assert (gone["conversion_rate"], gone["difference"], gone["significant"]) == (None, None, False)


def test_the_section_is_in_the_json_the_page_and_both_parts_of_the_email(
    report: ReportData, tmp_path: Path
) -> None:
    files = write_report(report, tmp_path)
    assert '"channels": [' in files.json.read_text()
    html = files.html.read_text()
    assert "<h2>Conversion by entry channel</h2>" in html
    assert "<td>Organic Search</td>" in html and "<td>Paid Social</td>" in html
    assert '<td class="change flat">+66.7 pts</td>' in html  # 3 visits: not a real change
    assert "<td>0 · —</td>" in html  # no affiliates visits before: no rate
    target = EmailTarget(to=("owner@shop.example",), sender="clicktrail@shop.example")
    message = build_message(target, files)
    text = message.get_body(("plain",))
    body = message.get_body(("html",))
    assert text is not None and body is not None
    lines = text.get_content().splitlines()
    assert lines[2] == "Conversion by entry channel (visits that reached /thanks)"
    assert lines[3].split() == ["Channel", "Visits", "Conversions", "Rate", "Before", "Change"]
    assert lines[4].split() == ["Organic", "Search", "3", "2", "66.7%", "0.0%", "+66.7", "pts"]
    assert lines[-1].split() == ["Paid", "Social", "0", "0", "—", "100.0%", "—"]
    assert "<td>Organic Search</td>" in body.get_content()


@pytest.mark.slow
@pytest.mark.parametrize("width", [1280, 390])
def test_the_channel_table_fits_like_the_others(
    report: ReportData, browser: Browser, tmp_path: Path, width: int
) -> None:
    files = write_report(report, tmp_path)
    context = browser.new_context(viewport={"width": width, "height": 900})
    try:
        page = context.new_page()
        page.goto(files.html.as_uri())
        section = page.locator("h2", has_text="Conversion by entry channel")
        section.scroll_into_view_if_needed()
        shot = tmp_path / f"report-channels-{width}.png"
        page.screenshot(path=shot, full_page=True)
        if SHOTS:
            shutil.copy(shot, Path(SHOTS) / shot.name)
        assert page.evaluate(LAYOUT) == {"page": 0, "table": width < 500, "wrapped": []}
    finally:
        context.close()

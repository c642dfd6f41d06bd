"""The report's journeys over shop traffic posted through POST /e: the map into step 1 and, per
step, the map of those who dropped there, whose first column is the funnel's dropped, anchored on
the funnel's own events; as PNGs in the folder and the page, and as JSON in report.json."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
from PIL import Image
from starlette.testclient import TestClient

from clicktrail.worker import Worker
from collector.sites import Site
from reports.analyses.journey_result import JourneyResult
from reports.scheduled.build import ReportData, build_report
from reports.scheduled.config import FunnelDefinition
from reports.scheduled.files import write_report
from reports.scheduled.periods import report_period
from reports.sessions.builder import SessionBuilder
from tests.factories import batch, pageview
from tests.reports.shop import MIN, Traffic, post_traffic

CART = FunnelDefinition("cart", ("/product/*", "/cart", "/checkout", "/thanks"))
FIRST, LAST = report_period("yesterday", datetime.now(UTC).date())


def nodes(result: JourneyResult) -> list[dict[str, int]]:
    """Per column: page -> visits."""
    return [{str(n["page"]): n["visits"] for n in c["nodes"]} for c in result["columns"]]


def edges(result: JourneyResult) -> dict[tuple[str, str], int]:
    return {(e["from"], e["to"]): e["visits"] for e in result["edges"]}


@pytest.fixture
def report(
    make_client: Callable[..., TestClient], redis_client: redis.Redis, site: Site
) -> ReportData:
    client = make_client(rate_ip_per_s=1e6, max_event_age_s=8 * 86_400)
    post_traffic(client, site, Traffic(LAST, buy=30, checkout=10, cart=40, browse=20))
    Worker(redis_client, [SessionBuilder(redis_client)]).run(burst=True)
    return build_report(redis_client, site, CART, FIRST, LAST)


def test_the_maps_count_the_funnels_units_into_step_1_and_out_where_they_dropped(
    report: ReportData,
) -> None:
    journeys, steps = report.data["journeys"], report.data["current"]["steps"]
    into = journeys["into_first_step"]
    assert (into["mode"], into["end"], into["visits"]) == ("end", "/product/*", 100)
    assert nodes(into) == [{"/product/:id": 100}, {"/": 30}, {}, {}]  # 70 landed on a product
    assert into["columns"][0]["ends"] == 70 and edges(into) == {("1:/product/:id", "2:/"): 30}
    assert [(d["step"], d["pattern"], d["dropped"]) for d in journeys["after_drop"]] == [
        (1, "/product/*", 20),
        (2, "/cart", 40),
        (3, "/checkout", 10),
    ]
    for drop, step in zip(journeys["after_drop"], steps[:-1], strict=True):
        assert drop["dropped"] == step["dropped"] == drop["map"]["columns"][0]["visits"]
        assert drop["map"]["visits"] == drop["dropped"]
    product, cart, checkout = (d["map"] for d in journeys["after_drop"])
    assert nodes(product)[:2] == [{"/product/:id": 20}, {"/about": 20}]
    assert nodes(cart)[:3] == [{"/cart": 40}, {"/shipping": 40}, {}]
    assert nodes(checkout) == [{"/checkout": 10}, {}, {}, {}]
    # An edge is a funnel number: those who left the cart, then where the funnel says they went.
    next_pages = {p["page"]: p["count"] for p in steps[1]["next_pages"]}
    assert (
        edges(cart)
        == {("1:/cart", "2:/shipping"): next_pages["/shipping"]}
        == {("1:/cart", "2:/shipping"): 40}
    )
    assert (cart["mode"], cart["start"], cart["from"], cart["to"]) == (
        "start",
        "/cart",
        FIRST.isoformat(),
        LAST.isoformat(),
    )


def test_the_pngs_are_in_the_folder_the_page_and_the_json(
    report: ReportData, tmp_path: Path
) -> None:
    files = write_report(report, tmp_path)
    maps = {"journeys-into-step-1", *(f"journeys-after-step-{k}" for k in (1, 2, 3))}
    assert maps <= set(files.images)
    for name in maps:
        assert files.images[name] == tmp_path / f"{name}.png"
        with Image.open(files.images[name]) as image:
            assert image.width == 800
    html = files.html.read_text()
    assert html.count("data:image/png;base64,") == len(files.images) == 7
    assert "How they came to /product/*" in html and 'alt="Journey map of the 40 who' in html
    sent = json.loads(files.json.read_text())["journeys"]
    assert sent == report.data["journeys"] and sent["after_drop"][1]["dropped"] == 40


def post_visit(
    client: TestClient, site: Site, sid: str, start_ms: int, pages: list[str], agent: str
) -> None:
    events = [pageview(p=p, ts=start_ms + i * MIN, vw=1280) for i, p in enumerate(pages)]
    headers = {"user-agent": f"Mozilla/5.0 (X11; Linux x86_64) Firefox/{agent}"}
    response = client.post("/e", json=batch(site.key, events, sid=sid), headers=headers)
    assert response.status_code == 202, response.text


def test_a_map_starts_at_the_funnels_own_event_not_the_first_like_it(
    make_client: Callable[..., TestClient], redis_client: redis.Redis, site: Site
) -> None:
    client = make_client(rate_ip_per_s=1e6, max_event_age_s=8 * 86_400)
    noon = int(datetime(*LAST.timetuple()[:3], 12, tzinfo=UTC).timestamp() * 1000)
    pages = ["/cart", "/about", "/product/1", "/cart", "/shipping"]
    post_visit(client, site, "early-cart", noon, pages, "1")
    Worker(redis_client, [SessionBuilder(redis_client)]).run(burst=True)

    cart = build_report(redis_client, site, CART, FIRST, LAST).data["journeys"]["after_drop"][1]

    # From the /cart after the product, not the first /cart (then /about, /product/:id...).
    assert nodes(cart["map"])[:3] == [{"/cart": 1}, {"/shipping": 1}, {}]


def test_by_visitor_each_dropped_visitor_is_one_visit_from_its_steps_event(
    make_client: Callable[..., TestClient], redis_client: redis.Redis, site: Site
) -> None:
    client = make_client(rate_ip_per_s=1e6, max_event_age_s=8 * 86_400)
    noon = int(datetime(*LAST.timetuple()[:3], 12, tzinfo=UTC).timestamp() * 1000)
    # Visitor 1 comes back 40 minutes later (a new session) to the cart, and leaves again.
    post_visit(client, site, "v1-a", noon, ["/product/1", "/cart"], "1")
    post_visit(client, site, "v1-b", noon + 40 * MIN, ["/cart", "/shipping"], "1")
    post_visit(client, site, "v2", noon + 1000, ["/product/2", "/cart", "/about"], "2")
    post_visit(client, site, "v3", noon + 2000, ["/product/3", "/cart", "/checkout"], "3")
    Worker(redis_client, [SessionBuilder(redis_client)]).run(burst=True)
    by_visitor = FunnelDefinition(CART.name, CART.steps, window_ms=2 * 3_600_000, unit="visitor")

    data = build_report(redis_client, site, by_visitor, FIRST, LAST).data

    assert [s["entered"] for s in data["current"]["steps"]] == [3, 3, 1, 0]
    cart = data["journeys"]["after_drop"][1]
    assert cart["dropped"] == 2 == cart["map"]["columns"][0]["visits"]
    # Visitor 1's map is the session of its step-2 event (the first /cart): it ended there.
    assert nodes(cart["map"])[:2] == [{"/cart": 2}, {"/about": 1}]
    assert data["journeys"]["into_first_step"]["visits"] == 3

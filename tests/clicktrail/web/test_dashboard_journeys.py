"""The journeys page: the map drawn in Chromium from the API's JSON over the shop's journeys
(hover, the panel of a clicked page, its actions, the CSV, a phone's width), and the A-to-B tab
and the form in process."""

from __future__ import annotations

import csv
import html
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from playwright.sync_api import Browser, Page, expect
from starlette.testclient import TestClient

from clicktrail.demo.background import BackgroundServer, free_port
from clicktrail.web.app import create_web_app, web_app
from clicktrail.web.tokens import create_token
from collector.settings import Settings
from collector.sites import Site

SHOTS = os.environ.get("CLICKTRAIL_SHOTS")  # a folder to keep the screenshots in, to look at
# Set before any page script: what the policy blocked.
WATCH = """window.__violations = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__violations.push(e.violatedDirective + " " + e.blockedURI));"""
# The shop's 30 visits (tests/clicktrail/conftest.py), step by step, pages by visits.
COLUMNS = [
    ["1:/product/:id", "1:/"],
    ["2:/cart", "2:/product/:id", "2:/about"],
    ["3:/cart", "3:/checkout", "3:/shipping"],
    ["4:/checkout"],
    ["5:/thanks"],
]


@dataclass(frozen=True)
class Served:
    url: str
    token: str


@pytest.fixture
def served(
    shop: Site, redis_url: str, redis_client: redis.Redis, tmp_path: Path
) -> Iterator[Served]:
    port = free_port()
    settings = Settings(data_dir=tmp_path, port=port)
    server = BackgroundServer(web_app(settings, redis_url, None, dashboard=True), port).start()
    secret, _ = create_token(redis_client, "journeys test")
    yield Served(server.url, secret)
    server.stop()


def open_page(browser: Browser, served: Served, width: int, errors: list[str]) -> Page:
    context = browser.new_context(
        viewport={"width": width, "height": 900}, is_mobile=width < 500, accept_downloads=True
    )
    context.add_init_script(WATCH)
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{served.url}/login#token={served.token}")
    page.wait_for_url(f"{served.url}/")
    return page


def keep(page: Page, tmp_path: Path, name: str) -> None:
    page.screenshot(path=tmp_path / name, full_page=True)
    if SHOTS:
        shutil.copy(tmp_path / name, Path(SHOTS) / f"dashboard-{name}")


def link_opacity(page: Page, selector: str) -> float:
    return float(page.eval_on_selector(selector, "e => getComputedStyle(e).fillOpacity"))


@pytest.mark.slow
def test_the_map_hovers_opens_a_page_downloads_and_starts_there(
    served: Served, browser: Browser, tmp_path: Path
) -> None:
    errors: list[str] = []
    page = open_page(browser, served, 1280, errors)
    page.get_by_role("link", name="shop", exact=True).click()
    page.get_by_role("link", name="Journeys").click()
    page.get_by_label("Goal").fill("/thanks")
    page.get_by_role("button", name="Show").click()
    expect(
        page.get_by_role("heading", name="30 visits, from each visit's first page")
    ).to_be_visible()

    nodes = page.locator("g.node.step")
    expect(nodes).to_have_count(sum(len(c) for c in COLUMNS))
    ids = nodes.evaluate_all("gs => gs.map((g) => g.dataset.id)")
    assert ids == [node for column in COLUMNS for node in column]
    labels = page.locator("text.label:not(.detail)").all_text_contents()
    assert labels[:2] == ["/product/:id", "/"] and "/thanks" in labels[-2:]
    expect(page.locator("g.node.exit")).to_have_count(2)  # after steps 2 and 3

    # Hovering "/" of step 1: its one link and its share of no exit stand out.
    page.locator('g.node[data-id="1:/"] rect').hover()
    hot = page.locator(".link.hot")
    expect(hot).to_have_count(1)
    assert hot.evaluate("l => [l.dataset.from, l.dataset.to]") == ["1:/", "2:/product/:id"]
    assert link_opacity(page, "path.link.hot") > 3 * link_opacity(page, "path.link:not(.hot)")
    expect(page.get_by_role("tooltip")).to_contain_text("10 reached /thanks (100%)")
    page.mouse.move(5, 5)
    expect(page.locator(".link.hot")).to_have_count(0)

    page.locator('g.node[data-id="2:/cart"]').click()
    panel = page.locator("[data-journey-panel]")
    expect(panel.locator('[data-field="label"]')).to_have_text("/cart")
    numbers = {f: panel.locator(f'[data-field="{f}"]') for f in ("visits", "ends", "goal")}
    expect(numbers["visits"]).to_have_text("15")
    expect(numbers["ends"]).to_have_text("0")
    expect(numbers["goal"]).to_have_text("0 (0.0%)")  # those who bought came by /product/1
    funnel = panel.get_by_role("link", name="As a funnel")
    expect(funnel).to_have_attribute(
        "href",
        re.compile(r"/sites/shop/funnel\?step=%2Fproduct%2F%3Aid&step=%2Fcart&step=%2Fthanks&"),
    )
    expect(panel.get_by_role("link", name="Open its heatmap")).to_have_attribute(
        "href", re.compile(r"^/sites/shop/heatmap\?page=%2Fcart&from=")
    )
    keep(page, tmp_path, "journeys.png")

    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    with download.value.path().open(newline="") as saved:
        rows = list(csv.DictReader(saved))
    assert download.value.suggested_filename.startswith("journeys-shop-")
    assert [r["id"] for r in rows if r["kind"] == "node"] == ids
    cart = next(r for r in rows if r["id"] == "2:/cart")
    assert (cart["visits"], cart["goal"], cart["step"]) == ("15", "0", "2")
    edges = [r for r in rows if r["kind"] == "edge"]
    api = page.evaluate("async () => (await fetch('/api/sites/shop/journeys?goal=/thanks')).json()")
    assert [(e["from"], e["to"], int(e["visits"])) for e in edges] == [
        (e["from"], e["to"], e["visits"]) for e in api["edges"]
    ]

    with page.expect_request(re.compile(r"/api/sites/shop/journeys\?.*start=%2Fcart")):
        panel.get_by_role("link", name="Start here").click()
    expect(page).to_have_url(re.compile(r"start=%2Fcart"))
    expect(page.get_by_role("heading", name="25 visits, from /cart")).to_be_visible()
    expect(page.get_by_label("Start at (A)")).to_have_value("/cart")
    assert errors == [], "console errors"
    assert page.evaluate("window.__violations") == []
    page.context.close()


@pytest.mark.slow
def test_on_a_phone_the_map_scrolls_sideways_and_nothing_overlaps(
    served: Served, browser: Browser, tmp_path: Path
) -> None:
    errors: list[str] = []
    page = open_page(browser, served, 390, errors)
    page.goto(f"{served.url}/sites/shop/journeys?goal=/thanks&steps=6")
    expect(page.locator("g.node.step")).to_have_count(10)
    page.locator('g.node[data-id="1:/"]').dispatch_event("click")
    expect(page.locator('[data-field="label"]')).to_have_text("/")
    scroll = page.eval_on_selector(
        "[data-journey-map]",
        "m => [m.scrollWidth, m.clientWidth, document.documentElement.scrollWidth, innerWidth]",
    )
    assert scroll[0] > scroll[1], "the map scrolls sideways"
    assert scroll[2] <= scroll[3], "the page does not"

    def box(selector: str) -> dict[str, float]:
        found = page.locator(selector).bounding_box()
        assert found is not None, selector
        return {key: found[key] for key in ("x", "y", "width", "height")}

    parts = (
        "form.journey-form",
        "[data-journey-summary]",
        "[data-journey-map]",
        "[data-journey-panel]",
    )
    form, header, chart, panel = (box(selector) for selector in parts)
    assert form["y"] + form["height"] <= header["y"] <= chart["y"]
    assert chart["y"] + chart["height"] <= panel["y"]
    assert all(b["x"] >= 0 and b["x"] + b["width"] <= 390 for b in (form, chart, panel))
    keep(page, tmp_path, "journeys-phone.png")
    assert errors == [] and page.evaluate("window.__violations") == []
    page.context.close()


def web(redis_url: str, tmp_path: Path) -> TestClient:
    return TestClient(create_web_app(Settings(data_dir=tmp_path), redis_url, None, lambda n: []))


def test_the_a_to_b_tab_shows_the_pages_between_the_detours_and_the_paths(
    shop: Site, redis_url: str, redis_client: redis.Redis, tmp_path: Path
) -> None:
    secret, _ = create_token(redis_client, "tests")
    auth = {"Authorization": f"Bearer {secret}"}
    with web(redis_url, tmp_path) as client:
        asked = client.get("/sites/shop/journeys/a-to-b", headers=auth)
        query = {"start": "/product/*", "end": "/thanks", "goal": "/thanks", "steps": "4"}
        page = client.get("/sites/shop/journeys/a-to-b", params=query, headers=auth)
    assert asked.status_code == 200 and "Pick A and B above" in asked.text
    assert page.status_code == 200  # the map's fields (goal, steps) are not A to B's mistakes
    text = html.unescape(" ".join(re.sub(r"<[^>]+>", " ", page.text).split()))
    assert "30 visits reached A; 10 went on to B (33.3%), 20 never did" in text
    assert "/product/:id > /cart > /checkout > /thanks 10" in text
    # The tabs keep the query.
    assert (
        'href="/sites/shop/journeys?start=%2Fproduct%2F%2A&amp;end=%2Fthanks&amp;goal=' in page.text
    )


@pytest.mark.parametrize(
    ("query", "status", "api"),
    [
        ({}, 200, "/api/sites/shop/journeys"),
        (
            {"goal": "/thanks ", "events": "on", "exclude": ["/about", ""], "band": ""},
            200,
            "/api/sites/shop/journeys?goal=%2Fthanks&amp;events=true&amp;exclude=%2Fabout",
        ),
        ({"steps": "99"}, 400, None),
        ({"start": "re:("}, 400, None),
    ],
)
def test_the_map_tab_asks_the_api_what_the_form_says(
    shop: Site,
    redis_url: str,
    redis_client: redis.Redis,
    tmp_path: Path,
    query: dict[str, Any],
    status: int,
    api: str | None,
) -> None:
    secret, _ = create_token(redis_client, "tests")
    with web(redis_url, tmp_path) as client:
        page = client.get(
            "/sites/shop/journeys", params=query, headers={"Authorization": f"Bearer {secret}"}
        )
    assert page.status_code == status
    found = re.search(r'data-journeys="([^"]*)"', page.text)
    assert (found[1] if found else None) == api
    assert ('role="alert"' in page.text) == (api is None)

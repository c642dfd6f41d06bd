"""The site page's overview in Chromium over visits posted through POST /e: the cards show the
API's figures and their change against the previous period, the chart one point per day, the
lists grow with "Show all" and download as CSV, strangers' strings stay text, the channel filter
changes the figures and carries to journeys; nothing overflows at a desktop's or a phone's
width."""

from __future__ import annotations

import csv
import os
import random
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from playwright.sync_api import Browser, Dialog, Page, expect
from starlette.testclient import TestClient

from clicktrail.demo.background import BackgroundServer, free_port
from clicktrail.web.app import web_app
from clicktrail.web.tokens import create_token
from clicktrail.worker import Processor, Worker
from collector.pages import PageTemplates
from collector.settings import Settings
from collector.sites import Site
from heatmap.aggregate import Aggregator
from reports.sessions.builder import SessionBuilder
from tests.clicktrail.hostile import PAYLOADS
from tests.factories import batch, event, now_ms, pageview

pytestmark = pytest.mark.slow

SHOTS = os.environ.get("CLICKTRAIL_SHOTS")  # a folder to keep the screenshots in, to look at
DAY_MS = 86_400_000
PAGES = ["/", *(f"/product/{n}" for n in range(1, 11)), "/cart", "/checkout", "/thanks"]
HOSTILE_SOURCE = PAYLOADS[0]  # <img src=x onerror="window.__xss=1">
HOSTILE_PAGE = "/" + PAYLOADS[0]
FORMULA_SOURCE = '=HYPERLINK("http://evil.example","x")'
# (referrer, utm, click ids), from Direct to Unassigned: a source nobody classifies.
TOUCHES: list[tuple[str, dict[str, str], list[str]]] = [
    ("", {}, []),
    ("www.google.com", {}, []),
    ("www.google.com", {}, []),
    ("", {"source": "google", "medium": "cpc", "campaign": "spring"}, ["gclid"]),
    ("m.facebook.com", {}, []),
    ("", {"source": "newsletter", "medium": "email", "campaign": "may"}, []),
    ("", {"source": HOSTILE_SOURCE, "campaign": HOSTILE_SOURCE}, []),
    ("", {"source": FORMULA_SOURCE}, []),
]
MINUS = "\u2212"  # as the cards print a fall
CONFIG = '[goals]\npurchase = "/thanks"\n'


@dataclass(frozen=True)
class Served:
    url: str
    token: str


def post_traffic(client: TestClient, site: Site, seed: int = 19) -> None:
    """Two weeks of visits, more in the last one: pages, channels, a custom event, a purchase
    now and then, one hostile page and two hostile sources."""
    rng = random.Random(seed)
    now = now_ms()
    for n in range(160):
        recent = rng.random() < 0.62  # about 100 visits this week, 60 the week before
        start = now - rng.randint(3_600_000, 7 * DAY_MS - 3_600_000) - (0 if recent else 7 * DAY_MS)
        ref, utm, ck = TOUCHES[n % len(TOUCHES)]
        pages = [rng.choice(PAGES[:11]) for _ in range(rng.randint(1, 4))]
        if n % 5 == 0:
            pages += ["/cart", "/checkout", "/thanks"]
        if n % 23 == 0:
            pages.append(HOSTILE_PAGE)
        vw = (390, 800, 1280)[n % 3]
        events = [
            pageview(p=page, ts=start + i * 40_000, vw=vw, pv=f"pv{n}-{i}",
                     **({"ref": ref, "utm": utm, "ck": ck} if i == 0 else {"ref": "/"}))
            for i, page in enumerate(pages)
        ]  # fmt: skip
        if n % 4 == 0:
            events.append(event("custom", p=pages[0], ts=start + 5000, name="signup"))
        response = client.post("/e", json=batch(site.key, events, sid=f"v{n}"))
        assert response.status_code == 202, response.text


@pytest.fixture
def served(
    site: Site, make_client: Any, redis_url: str, redis_client: redis.Redis, tmp_path: Path
) -> Iterator[Served]:
    post_traffic(make_client(rate_ip_per_s=1e6, max_event_age_s=30 * 86_400), site)
    processors: list[Processor] = [Aggregator(PageTemplates(), 90), SessionBuilder(redis_client)]
    Worker(redis_client, processors).run(burst=True)
    config = tmp_path / "clicktrail.toml"
    config.write_text(CONFIG)
    port = free_port()
    app = web_app(Settings(data_dir=tmp_path, port=port), redis_url, config, dashboard=True)
    server = BackgroundServer(app, port).start()
    secret, _ = create_token(redis_client, "overview test")
    yield Served(server.url, secret)
    server.stop()


def open_page(browser: Browser, served: Served, width: int, errors: list[str]) -> Page:
    context = browser.new_context(
        viewport={"width": width, "height": 900}, is_mobile=width < 500, accept_downloads=True
    )
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    def dismiss(dialog: Dialog) -> None:
        errors.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.goto(f"{served.url}/login#token={served.token}")
    page.wait_for_url(f"{served.url}/")
    return page


def overview(page: Page, query: str) -> Any:
    return page.evaluate(
        "async (q) => (await fetch('/api/sites/shop/overview?' + q)).json()", query
    )


def shown(page: Page, query: str) -> Any:
    """Opens the overview for `query`; the API's answer for the same query."""
    page.goto(f"{page.url.split('/sites')[0].rstrip('/')}/sites/shop?{query}")
    page.wait_for_selector("[data-overview][data-loaded]")
    first = page.input_value("#from")
    last = page.input_value("#to")
    rest = re.sub(r"period=[^&]*&?", "", query)
    return overview(page, f"from={first}&to={last}&{rest}")


def card(page: Page, key: str) -> tuple[str, str]:
    box = page.locator(f'[data-card="{key}"]')
    return box.locator(".stat-value").inner_text(), box.locator(".change").inner_text()


def expected_change(now: float | None, was: float | None) -> str:
    if now is None or not was:
        return "—"
    ratio = (now - was) / was
    digits = 1 if abs(ratio) < 0.1 and ratio else 0
    text = f"{abs(100 * ratio):.{digits}f}"
    if float(text) == 0:
        return "±0 %"
    return f"{'+' if ratio > 0 else MINUS}{text} %"


def list_rows(page: Page, key: str) -> list[list[str]]:
    return page.locator(f'[data-list="{key}"] tbody tr').evaluate_all(
        "trs => trs.map((tr) => [...tr.cells].map((td) => td.textContent))"
    )


def no_overflow(page: Page) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"the page is {widths[0]} px wide in a {widths[1]} px window"


def keep(page: Page, tmp_path: Path, name: str) -> None:
    page.screenshot(path=tmp_path / name, full_page=True)
    if SHOTS:
        shutil.copy(tmp_path / name, Path(SHOTS) / f"dashboard-{name}")


def test_the_overview_shows_the_apis_figures_grows_lists_downloads_and_filters_by_channel(
    served: Served, browser: Browser, tmp_path: Path
) -> None:
    errors: list[str] = []
    page = open_page(browser, served, 1280, errors)
    page.get_by_role("link", name="shop", exact=True).click()
    expect(page.get_by_role("link", name="Overview")).to_have_attribute("aria-current", "page")
    # The preset applies at once once the script has wired the form: changed before that (a
    # slow module load on a busy machine), it stays a plain select that waits for "Show".
    page.wait_for_selector("[data-overview][data-loaded]")
    page.select_option("#period", "7d")
    page.wait_for_url(re.compile(r"period=7d"))
    page.wait_for_selector("[data-overview][data-loaded]")
    page.fill("#goal", "purchase")
    page.get_by_role("button", name="Show", exact=True).click()
    page.wait_for_selector("[data-overview][data-loaded]")
    api = overview(page, f"from={page.input_value('#from')}&to={page.input_value('#to')}"
                   "&goal=purchase")  # fmt: skip
    assert api["visits"] > api["previous"]["visits"] > 0

    label = page.locator('[data-card="visitors"] .stat-label')
    expect(label).to_have_text("Unique visitors per day (summed)")
    visits = (f"{api['visits']:,}", expected_change(api["visits"], api["previous"]["visits"]))
    assert card(page, "visits") == visits
    assert card(page, "pageviews")[0] == f"{api['pageviews']:,}"
    assert card(page, "conversions") == (
        f"{api['conversions']:,}",
        expected_change(api["conversions"], api["previous"]["conversions"]),
    )
    bounce = page.locator('[data-card="bounce_rate"] .change')
    better = api["bounce_rate"] < api["previous"]["bounce_rate"]
    expect(bounce).to_have_class(re.compile("good" if better else "bad"))
    expect(page.locator('[data-card="visits"] .change')).to_have_class(re.compile("good"))

    points = page.locator("[data-chart] circle.point")
    expect(points).to_have_count(7)
    assert len(api["series"]) == 7
    assert points.evaluate_all("cs => cs.map((c) => c.dataset.t)") == [
        p["t"] for p in api["series"]
    ]
    expect(page.locator("[data-chart] path.line.prev")).to_have_count(2)
    box = page.locator("[data-chart] rect.overlay").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2)
    last = api["series"][-1]
    tip = page.get_by_role("tooltip")
    expect(tip).to_contain_text(last["t"])
    expect(tip).to_contain_text(f"{last['visits']:,} visits · {last['pageviews']:,} page views")
    expect(tip).to_contain_text(api["previous"]["series"][-1]["t"])
    keep(page, tmp_path, "overview-hover.png")

    # The keyboard reads the chart too: focus shows the latest point, the arrows and Home move.
    page.mouse.move(0, 0)
    expect(tip).to_be_hidden()
    chart = page.get_by_role("img", name=re.compile("^Visits and page views per day"))
    chart.focus()
    expect(tip).to_contain_text(f"{last['visits']:,} visits")
    page.keyboard.press("ArrowLeft")
    expect(tip).to_contain_text(api["series"][-2]["t"])
    page.keyboard.press("Home")
    first = api["series"][0]
    expect(tip).to_contain_text(f"{first['visits']:,} visits · {first['pageviews']:,} page views")
    keep(page, tmp_path, "overview-keyboard.png")
    page.keyboard.press("ArrowLeft")  # stays on the first
    expect(tip).to_contain_text(first["t"])
    page.keyboard.press("Escape")
    expect(tip).to_be_hidden()

    # Show all: the pages list grows to every page the API has.
    everything = overview(page, f"from={api['from']}&to={api['to']}&goal=purchase&limit=0")
    assert len(everything["pages"]) > 10
    assert len(list_rows(page, "pages")) == 10
    page.locator('[data-list="pages"]').get_by_role("button", name="Show all").click()
    expect(page.locator('[data-list="pages"] tbody tr')).to_have_count(len(everything["pages"]))
    pages = page.locator('[data-list="pages"]')
    expect(pages.get_by_role("button", name="Show all")).to_be_hidden()
    rows = list_rows(page, "pages")
    assert [r[0] for r in rows] == [p["page"] for p in everything["pages"]]
    assert HOSTILE_PAGE in [r[0] for r in rows]

    # The CSV: every source, a formula kept as text.
    sources = page.locator('[data-list="sources"]')
    with page.expect_download() as download:
        sources.get_by_role("button", name="Download Sources as CSV").click()
    assert re.fullmatch(r"overview-shop-sources-[\d-]+\.csv", download.value.suggested_filename)
    with download.value.path().open(newline="") as saved:
        saved_rows = list(csv.DictReader(saved))
    assert [(r["source"], int(r["visits"])) for r in saved_rows] == [
        ("'" + s["source"] if s["source"].startswith("=") else s["source"], s["visits"])
        for s in everything["sources"]
    ]
    # Sources arrive lowercased; the formula is kept as text.
    assert "'" + FORMULA_SOURCE.lower() in [r["source"] for r in saved_rows]

    # Strangers' strings: text, never markup.
    expect(sources.get_by_role("cell", name=HOSTILE_SOURCE, exact=True)).to_be_visible()
    assert page.evaluate("window.__xss") is None
    assert page.locator("[data-overview] img").count() == 0
    no_overflow(page)

    # A channel row filters the overview by that channel, and the filter carries on.
    channels = page.locator('[data-list="channels"]')
    channels.get_by_role("link", name="Organic Search").click()
    page.wait_for_url(re.compile(r"channel=organic_search"))
    page.wait_for_selector("[data-overview][data-loaded]")
    organic = overview(page, f"from={api['from']}&to={api['to']}&goal=purchase"
                       "&channel=organic_search")  # fmt: skip
    assert 0 < organic["visits"] < api["visits"]
    assert card(page, "visits")[0] == f"{organic['visits']:,}"
    expect(page.locator("#channel")).to_have_value("organic_search")
    journeys = page.get_by_role("link", name="Journeys")
    expect(journeys).to_have_attribute("href", re.compile(r"channel=organic_search"))
    expect(journeys).to_have_attribute("href", re.compile(rf"from={api['from']}"))
    with page.expect_request(re.compile(r"/api/sites/shop/journeys\?.*channel=organic_search")):
        journeys.click()
    expect(page.locator("#channel")).to_have_value("organic_search")
    funnel = page.get_by_role("link", name="Funnels")
    expect(funnel).to_have_attribute("href", re.compile(r"channel=organic_search"))
    assert errors == []


@pytest.mark.parametrize("width", [1280, 390])
def test_the_overview_fits_the_width(
    served: Served, browser: Browser, tmp_path: Path, width: int
) -> None:
    errors: list[str] = []
    page = open_page(browser, served, width, errors)
    api = shown(page, "period=7d&goal=purchase")
    expect(page.locator("[data-chart] circle.point")).to_have_count(len(api["series"]))
    page.locator('[data-list="pages"]').get_by_role("button", name="Show all").click()
    every = overview(page, f"from={api['from']}&to={api['to']}&limit=0")["pages"]
    expect(page.locator('[data-list="pages"] tbody tr')).to_have_count(len(every))
    no_overflow(page)
    for selector in ("[data-chart] svg", "[data-list] table", ".stats"):
        too_wide = page.locator(selector).evaluate_all(
            "es => es.filter((e) => e.getBoundingClientRect().right > innerWidth + 0.5).length"
        )
        assert too_wide == 0, f"{selector} overflows at {width} px"
    keep(page, tmp_path, "overview.png" if width > 500 else "overview-phone.png")
    # The chart's tooltip, focused by keyboard at the first point, stays within the window.
    page.get_by_role("img", name=re.compile("^Visits and page views")).focus()
    page.keyboard.press("Home")
    tip = page.get_by_role("tooltip")
    expect(tip).to_contain_text(api["series"][0]["t"])
    box = tip.bounding_box()
    assert box is not None and 0 <= box["x"] and box["x"] + box["width"] <= width
    page.locator("[data-chart]").screenshot(path=tmp_path / "chart-keyboard.png")
    if SHOTS:
        shutil.copy(tmp_path / "chart-keyboard.png", Path(SHOTS) / f"chart-keyboard-{width}.png")
    assert errors == []

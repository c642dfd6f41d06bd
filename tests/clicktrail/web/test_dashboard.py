"""The dashboard in headless Chromium against a real server: log in with a token, open a page's
heatmap, change the band, build the cart funnel, send a report; no console errors, and every
view fits a phone's width."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from playwright.sync_api import Browser, Page, expect
from starlette.testclient import TestClient

from clicktrail.demo.background import BackgroundServer, free_port
from clicktrail.web.app import web_app
from clicktrail.web.tokens import create_token
from clicktrail.worker import Worker
from collector.pages import PageTemplates
from collector.settings import Settings
from collector.sites import Site
from heatmap.aggregate import Aggregator
from tests.factories import ORIGIN, batch, now_ms, pageview

pytestmark = pytest.mark.slow

REPORTS = """
[funnels.cart]
steps = ["/product/*", "/cart", "/checkout", "/thanks"]

[reports.daily-cart]
site = "shop"
funnel = "cart"
period = "yesterday"
schedule = "0 7 * * *"
deliver = [{{type = "dir", path = "{out}"}}]
"""


@dataclass(frozen=True)
class Dashboard:
    url: str
    token: str
    reports_dir: Path


@pytest.fixture
def dashboard(
    shop_live: Site, redis_url: str, redis_client: redis.Redis, tmp_path: Path
) -> Iterator[Dashboard]:
    config = tmp_path / "clicktrail.toml"
    config.write_text(REPORTS.format(out=tmp_path / "sent"))
    port = free_port()
    settings = Settings(data_dir=tmp_path, port=port)
    server = BackgroundServer(web_app(settings, redis_url, config, dashboard=True), port).start()
    secret, _ = create_token(redis_client, "browser test")
    yield Dashboard(server.url, secret, tmp_path / "sent")
    server.stop()


@pytest.fixture
def console_errors() -> list[str]:
    return []


@pytest.fixture
def page(browser: Browser, console_errors: list[str]) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: console_errors.append(str(e)))
    yield page
    context.close()
    assert console_errors == [], "console errors"


# The page, and every table inside its own scrolling box (which would hide its overflow from the
# page's width).
FITS_THE_WIDTH = """() => document.documentElement.scrollWidth <= innerWidth &&
    [...document.querySelectorAll("table")].every(
        (table) => table.parentElement.scrollWidth <= table.parentElement.clientWidth)"""


def fits_the_width(page: Page) -> bool:
    """Nothing scrolls sideways."""
    return bool(page.evaluate(FITS_THE_WIDTH))


LONG_PATHS = (
    "/collections/summer-2026/linen-shirts-and-trousers-for-the-hot-days-of-july-and-august",
    "/" + "x" * 150,  # one word, nowhere to break
)


@pytest.fixture
def long_paths(
    shop: Site, make_client: Callable[..., TestClient], redis_client: redis.Redis
) -> tuple[str, ...]:
    """Page views of pages with long paths, next to the shop's."""
    views = [pageview(p=path, ts=now_ms() - 60_000) for path in LONG_PATHS]
    assert make_client().post("/e", json=batch(shop.key, views)).status_code == 202
    Worker(redis_client, [Aggregator(PageTemplates(), 90)]).run(burst=True)
    return LONG_PATHS


SHOTS = os.environ.get("CLICKTRAIL_SHOTS")  # a folder to keep the screenshots in, to look at


def test_log_in_see_heatmaps_change_band_and_follow_the_funnel(
    dashboard: Dashboard, page: Page, console_errors: list[str], tmp_path: Path
) -> None:
    page.goto(f"{dashboard.url}/sites/shop")
    expect(page).to_have_url(f"{dashboard.url}/login?next=/sites/shop")
    page.get_by_label("Token").fill("ctt_wrong")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("not valid")
    assert console_errors == [
        "Failed to load resource: the server responded with a status of 401 (Unauthorized)"
    ]
    console_errors.clear()  # that 401 was the point

    # A login link carries the token in its #fragment; the page logs in with it.
    page.goto("about:blank")
    page.goto(f"{dashboard.url}/login#token={dashboard.token}")
    expect(page.get_by_role("heading", name="Sites")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Receiving events")
    page.screenshot(path=tmp_path / "sites.png", full_page=True)

    page.get_by_role("link", name="shop", exact=True).click()
    # The site opens on its overview; the live panel and the snippet are below it.
    page.wait_for_selector("[data-overview][data-loaded]")
    expect(page.locator('[data-card="visits"] .stat-value')).to_have_text("31")
    # The shop's history arrived just now but happened three hours ago: one visit is live.
    expect(page.locator("[data-live-events]")).to_have_text("3")
    expect(page.locator("[data-live-types]")).to_have_text("2 page views · 1 click")
    exclude = page.get_by_role("link", name=f"Exclude this browser on {ORIGIN}")
    expect(exclude).to_have_attribute("href", f"{ORIGIN}/#clicktrail-ignore")

    page.get_by_role("link", name="Pages", exact=True).click()
    expect(page.get_by_role("cell", name="/cart", exact=True)).to_have_count(1)  # all bands
    cart = page.get_by_role("row").filter(has=page.get_by_role("cell", name="/cart", exact=True))
    expect(cart.locator("[data-label='Page views']")).to_have_text("25")  # of both bands
    expect(cart.get_by_role("link")).to_have_text(["mobile", "desktop"])
    page.screenshot(path=tmp_path / "pages.png", full_page=True)

    cart.get_by_role("link", name="desktop").click()
    image = page.locator("#heatmap-img")
    expect(image).to_be_visible()
    # Drawn at the width it is shown at (narrower than the desktop band beside the element
    # list), so that its legend keeps its size; the link opens it at full size.
    page.wait_for_function(
        "() => { const i = document.querySelector('#heatmap-img');"
        " return i.naturalWidth > 0 && i.naturalWidth < 1280"
        " && i.naturalWidth <= i.clientWidth + 1; }"
    )
    expect(page.get_by_role("cell", name="#checkout")).to_be_visible()
    expect(page.get_by_role("link", name="Download PNG")).to_have_attribute(
        "download", "heatmap-shop-desktop-click.png"
    )
    page.screenshot(path=tmp_path / "heatmap-desktop.png", full_page=True)

    page.get_by_label("Device").select_option("mobile")  # applies at once
    expect(page).to_have_url(re.compile(r"band=mobile"))
    expect(page.get_by_role("row", name="#checkout")).to_contain_text("8")
    page.wait_for_function(
        "() => { const i = document.querySelector('#heatmap-img');"
        " return i.naturalWidth > 0 && i.naturalWidth <= 390 && new URL(i.src).searchParams"
        ".get('band') === 'mobile'; }"
    )
    page.screenshot(path=tmp_path / "heatmap-mobile.png", full_page=True)

    page.get_by_role("link", name="Funnels").click()
    expect(page.get_by_label("Step 1")).to_have_value("/product/*")  # the cart funnel
    page.get_by_role("button", name="Show funnel").click()
    expect(page.get_by_role("heading", name="30 sessions entered")).to_contain_text("33.3%")
    page.get_by_text("Where the 7 who dropped after").click()
    expect(page.locator("details[open]")).to_contain_text("/shipping")
    page.screenshot(path=tmp_path / "funnel.png", full_page=True)

    page.get_by_role("button", name="Send now").click()
    expect(page.get_by_role("status")).to_contain_text("daily-cart: sent to")
    assert list(dashboard.reports_dir.rglob("report.html")), "the report was written to its folder"
    shots = sorted(tmp_path.glob("*.png"))
    assert [s.name for s in shots] == [
        "funnel.png", "heatmap-desktop.png", "heatmap-mobile.png", "pages.png", "sites.png"
    ]  # fmt: skip
    assert all(shot.stat().st_size > 10_000 for shot in shots)
    if SHOTS:
        for shot in shots:
            shutil.copy(shot, Path(SHOTS) / f"dashboard-{shot.name}")


@pytest.mark.parametrize("width", [1280, 390])
def test_the_funnel_form_keeps_what_was_typed_marks_the_faulty_step_and_removes_steps(
    dashboard: Dashboard, page: Page, console_errors: list[str], tmp_path: Path, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{dashboard.url}/login#token={dashboard.token}")
    page.wait_for_url(f"{dashboard.url}/")
    page.goto(f"{dashboard.url}/sites/shop/funnel")
    typed = ["/product/:id", "/cart", "re:(", "/thanks"]
    for n, value in enumerate(typed, 1):
        page.get_by_label(f"Step {n}", exact=True).fill(value)
    page.get_by_label("Window").select_option("1m")
    page.get_by_role("button", name="Show funnel").click()

    expect(page.get_by_role("alert")).to_contain_text("Step 3: ")
    assert console_errors == [
        "Failed to load resource: the server responded with a status of 400 (Bad Request)"
    ]
    console_errors.clear()  # the page's own status: the form was wrong
    for n, value in enumerate(typed, 1):
        expect(page.get_by_label(f"Step {n}", exact=True)).to_have_value(value)
    faulty = page.get_by_label("Step 3", exact=True)
    expect(faulty).to_have_attribute("aria-invalid", "true")
    expect(faulty).to_have_accessible_description(re.compile(r"\S"))  # the message next to it
    expect(page.locator("[aria-invalid]")).to_have_count(1)
    expect(page.get_by_label("Window")).to_have_value("1m")
    assert fits_the_width(page)
    page.screenshot(path=tmp_path / f"funnel-error-{width}.png", full_page=True)

    # The error page came by a click ("Show funnel"), which waits only for it to start loading:
    # its step buttons do something once dashboard.js (deferred: run before DOMContentLoaded)
    # has wired them; clicked before that, "Remove step 3" does nothing.
    page.wait_for_load_state("domcontentloaded")
    page.get_by_role("button", name="Remove step 3").click()
    expect(page.get_by_label("Step 3", exact=True)).to_have_value("/thanks")
    expect(page.locator("[aria-invalid]")).to_have_count(0)
    page.get_by_role("button", name="+ Add a step").click()
    expect(page.get_by_label("Step 4", exact=True)).to_be_focused()
    page.get_by_role("button", name="Remove step 4").click()
    page.get_by_role("button", name="Remove step 1").click()
    expect(page.get_by_label("Step 1", exact=True)).to_have_value("/cart")
    expect(page.get_by_role("button", name="Remove step 1")).to_be_disabled()  # 2 steps stay
    page.get_by_role("button", name="Show funnel").click()

    expect(page).to_have_url(re.compile(r"window=1m"))
    # Every /cart visitor reached /thanks two minutes later: none within a minute.
    expect(page.get_by_role("heading", name="25 sessions entered · 0.0% converted")).to_be_visible()
    expect(page.get_by_role("cell", name="2. /thanks")).to_be_visible()
    assert fits_the_width(page)
    page.screenshot(path=tmp_path / f"funnel-fixed-{width}.png", full_page=True)
    if SHOTS:
        for shot in tmp_path.glob("funnel-*.png"):
            shutil.copy(shot, Path(SHOTS) / f"dashboard-{shot.name}")


@pytest.mark.parametrize("width", [375, 390])
@pytest.mark.parametrize(
    "path", ["/", "/sites/shop", "/sites/shop/pages", "/sites/shop/heatmap", "/sites/shop/funnel"]
)
def test_every_view_fits_a_phone(
    dashboard: Dashboard, long_paths: tuple[str, ...], browser: Browser, path: str, width: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": 740}, is_mobile=True)
    try:
        page = context.new_page()
        page.goto(f"{dashboard.url}/login#token={dashboard.token}")
        page.wait_for_url(f"{dashboard.url}/")
        page.goto(
            f"{dashboard.url}{path}?step=/product/*&step=/cart"
            if "funnel" in path
            else dashboard.url + path
        )
        if path == "/sites/shop/pages":
            expect(page.get_by_role("cell", name=long_paths[1])).to_be_visible()
        if path == "/sites/shop":  # the overview's lists (test_dashboard_overview: long ones)
            page.wait_for_selector("[data-overview][data-loaded]")
        assert fits_the_width(page), f"{path} scrolls sideways on a phone"
    finally:
        context.close()


def test_a_cross_site_form_cannot_send_a_report(dashboard: Dashboard, browser: Browser) -> None:
    context = browser.new_context()
    try:
        context.add_cookies([{"name": "clicktrail_token", "value": dashboard.token,
                              "url": dashboard.url}])  # fmt: skip
        response = context.request.post(
            f"{dashboard.url}/sites/shop/reports/daily-cart/send",
            headers={"Origin": "https://evil.example"},
        )
        assert response.status == 404
        assert not dashboard.reports_dir.exists()
    finally:
        context.close()

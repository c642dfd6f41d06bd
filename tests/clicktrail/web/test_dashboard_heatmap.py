"""The dashboard's heatmap page in Chromium (issue 20): the map is drawn at the width it is shown
at, so its legend's text keeps its size, and opens at full size; a glob shows the sum of its
templates; a scroll map's caption speaks of scroll; nothing overflows on a phone."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import redis
from playwright.sync_api import Browser

from clicktrail.demo.background import BackgroundServer, free_port
from clicktrail.web.app import web_app
from clicktrail.web.tokens import create_token
from clicktrail.worker import Worker
from collector.pages import PageTemplates
from collector.settings import Settings
from collector.sites import Site
from heatmap.aggregate import Aggregator
from tests.clicktrail.web.test_dashboard_overview import Served, no_overflow, open_page
from tests.factories import batch, click, event, pageview

pytestmark = pytest.mark.slow

SHOTS = os.environ.get("CLICKTRAIL_SHOTS")


@pytest.fixture
def served(
    site: Site, make_client: Any, redis_url: str, redis_client: redis.Redis, tmp_path: Path
) -> Iterator[Served]:
    client = make_client(rate_ip_per_s=1e6)
    for n, path in enumerate(["/product/1", "/product/2", "/product/1/reviews"] * 4):
        for vw in (1280, 390):
            pv = f"pv{n}x{vw}"
            events = [pageview(p=path, vw=vw, pv=pv)]
            events += [click(p=path, vw=vw, pv=pv, x=vw * 0.6, y=300 + 20 * k) for k in range(5)]
            events.append(event("scroll", p=path, pv=pv, depth=900 + 150 * n, dh=3000, vh=800,
                                vw=vw))  # fmt: skip
            assert client.post("/e", json=batch(site.key, events, sid=f"s{n}")).status_code == 202
    Worker(redis_client, [Aggregator(PageTemplates(), 90)]).run(burst=True)
    port = free_port()
    app = web_app(Settings(data_dir=tmp_path, port=port), redis_url, None, dashboard=True)
    server = BackgroundServer(app, port).start()
    secret, _ = create_token(redis_client, "heatmap test")
    yield Served(server.url, secret)
    server.stop()


@pytest.mark.parametrize("width", [1280, 390])
def test_the_map_is_drawn_at_the_width_shown_and_opens_at_full_size(
    browser: Browser, served: Served, width: int, tmp_path: Path
) -> None:
    errors: list[str] = []
    page = open_page(browser, served, width, errors)
    band = "desktop" if width > 500 else "mobile"
    page.goto(f"{served.url}/sites/shop/heatmap?page=/product/*&band={band}")
    image = page.locator("#heatmap-img")
    page.wait_for_function(
        "() => { const i = document.getElementById('heatmap-img'); return i.complete && i.naturalWidth > 0; }"  # noqa: E501
    )
    shown = image.evaluate("i => [i.clientWidth, i.naturalWidth, i.getAttribute('src')]")
    assert shown[1] <= shown[0] + 1, f"a {shown[1]} px map shown {shown[0]} px wide: text shrinks"
    if width > 500:  # the desktop map does not fit beside the element list: drawn narrower
        assert int(parse_qs(urlsplit(shown[2]).query)["width"][0]) == shown[1] < 1280
    full = page.locator("figure.heat > a").get_attribute("href") or ""
    assert "width" not in parse_qs(urlsplit(full).query)
    heading = page.locator("h1").inner_text()
    assert heading == "Heatmap /product/* (/product/:id, /product/:id/reviews)"
    no_overflow(page)
    if SHOTS:
        page.screenshot(path=Path(SHOTS) / f"dashboard-heatmap-{width}.png", full_page=True)
    page.goto(f"{served.url}/sites/shop/heatmap?page=/product/*&band={band}&kind=scroll")
    caption = page.locator("figure.heat figcaption").inner_text()
    assert "scrolled at least this far" in caption and "click" not in caption.lower()
    no_overflow(page)
    if SHOTS:
        page.screenshot(path=Path(SHOTS) / f"dashboard-scroll-{width}.png", full_page=True)
    assert errors == []

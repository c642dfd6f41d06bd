"""The abandonment report over shop traffic posted through POST /e: numbers equal the funnel's,
the change is judged against the previous period, the abandonment heatmap shows the abandoning
sessions' clicks only, and the files are complete."""

from __future__ import annotations

import csv
import json
import os
import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import numpy as np
import pytest
import redis
from PIL import Image
from playwright.sync_api import Browser
from starlette.testclient import TestClient

from clicktrail.worker import Worker
from collector.sites import Site
from heatmap.grid import MAX_ROWS, ROW_PX
from heatmap.render import LEGEND_PX, MAX_DRAWN_HEIGHT_PX
from reports.analyses.funnel_request import FunnelRequest, run_funnel
from reports.scheduled.build import ReportData, build_report
from reports.scheduled.config import FunnelDefinition
from reports.scheduled.files import report_images, write_report
from reports.scheduled.periods import report_period
from reports.sessions.builder import SessionBuilder
from reports.sessions.layout import KIND_CLICK, OPEN_ROW
from tests.reports.shop import Traffic, post_traffic

SHOTS = os.environ.get("CLICKTRAIL_SHOTS")  # a folder to keep the screenshots in, to look at
CART = FunnelDefinition("cart", ("/product/*", "/cart", "/checkout", "/thanks"))
TODAY = datetime.now(UTC).date()
FIRST, LAST = report_period("yesterday", TODAY)


@pytest.fixture
def report(
    make_client: Callable[..., TestClient], redis_client: redis.Redis, site: Site
) -> ReportData:
    client = make_client(rate_ip_per_s=1e6, max_event_age_s=8 * 86_400)
    post_traffic(client, site, Traffic(LAST, buy=30, checkout=10, cart=40, browse=20))
    post_traffic(
        client, site, Traffic(LAST - timedelta(days=1), buy=10, checkout=10, cart=60, browse=20)
    )
    Worker(redis_client, [SessionBuilder(redis_client)]).run(burst=True)
    return build_report(redis_client, site, CART, FIRST, LAST)


def test_the_numbers_are_the_funnels_and_the_change_is_real(
    report: ReportData, redis_client: redis.Redis, site: Site
) -> None:
    request = FunnelRequest(list(CART.steps), FIRST, LAST, breakdown="band")
    funnel = run_funnel(redis_client, site, request, now_ms=_as_of(report)).result
    assert report.data["current"] == funnel
    assert [s["entered"] for s in report.data["current"]["steps"]] == [100, 80, 40, 30]
    assert [s["entered"] for s in report.data["previous"]["steps"]] == [100, 80, 20, 10]
    change = report.data["change"]
    assert (change["current"], change["previous"]) == (0.3, 0.1)
    assert change["significant"] and change["ci95_low"] is not None and change["ci95_low"] > 0
    assert report.data["headline"].startswith("30.0% of 100 sessions that reached /product/*")
    assert "up 20.0 points on the previous period" in report.data["headline"]
    assert report.daily == [(LAST, 100, 30)]


def test_the_abandonment_heatmap_holds_only_the_clicks_of_those_who_left(
    report: ReportData,
) -> None:
    cart = report.heat[1]
    assert (cart.pattern, cart.sessions, cart.clicks, cart.band) == ("/cart", 40, 40, "desktop")
    assert np.argwhere(cart.grid).tolist() == [[25, 80]]  # the shipping link; not the buyers' click
    assert report.heat[0].clicks == 0  # product-page leavers did not click
    assert (cart.page, report.heat[0].page) == ("/cart", "")  # whose picture goes under it


def test_the_files_are_complete(report: ReportData, tmp_path: Path) -> None:
    files = write_report(report, tmp_path, "https://stats.shop.example")
    assert json.loads(files.json.read_text()) == report.data
    rows = list(csv.DictReader(files.csv.read_text().splitlines()))
    assert [(r["pattern"], r["entered"], r["previous_entered"]) for r in rows] == [
        ("/product/*", "100", "100"),
        ("/cart", "80", "80"),
        ("/checkout", "40", "20"),
        ("/thanks", "30", "10"),
    ]
    journeys = {"journeys-into-step-1", *(f"journeys-after-step-{k}" for k in (1, 2, 3))}
    assert set(files.images) == {"funnel", "daily", "abandonment-step-2", *journeys}
    for path in files.images.values():
        with Image.open(path) as image:
            assert image.width >= 600
    html = files.html.read_text()
    assert html.count("data:image/png;base64,") == 7 and "<script" not in html
    assert "https://stats.shop.example/sites/shop/heatmap?page=%2Fcart" in html
    assert report.data["headline"] in html


def _as_of(report: ReportData) -> int:
    return int(datetime.fromisoformat(report.data["current"]["as_of"]).timestamp() * 1000)


def test_an_abandonment_heatmap_over_clicks_stored_a_million_px_down_stays_bounded(
    make_client: Callable[..., TestClient], redis_client: redis.Redis, site: Site
) -> None:
    client = make_client(rate_ip_per_s=1e6, max_event_age_s=8 * 86_400)
    post_traffic(client, site, Traffic(LAST, buy=1, checkout=0, cart=3, browse=0))
    Worker(redis_client, [SessionBuilder(redis_client)]).run(burst=True)
    for key in redis_client.scan_iter("ct:*:sess:open:*"):  # old data: before the clamp
        rows = np.frombuffer(cast(bytes, redis_client.get(key)), OPEN_ROW).copy()
        rows["row"][rows["kind"] == KIND_CLICK] = 1_000_000 // ROW_PX
        redis_client.set(key, rows.tobytes())
    started = time.perf_counter()

    report = build_report(redis_client, site, CART, FIRST, LAST)
    image = report_images(report)["abandonment-step-2"]

    assert time.perf_counter() - started < 10  # was a page 1,000,000 px tall
    assert report.heat[1].clicks == 3 and report.heat[1].grid.shape[0] <= MAX_ROWS
    assert image.height <= LEGEND_PX + MAX_DRAWN_HEIGHT_PX * image.width // 1280


# Every header and number cell on one line, and the page no wider than the window: the table
# scrolls inside its own box instead, on a phone only.
LAYOUT = """() => ({
    page: document.documentElement.scrollWidth - innerWidth,
    table: [...document.querySelectorAll(".scroll")].some(
        (box) => box.scrollWidth > box.clientWidth),
    wrapped: [...document.querySelectorAll("th, td:not(:first-child)")].filter((cell) => {
        const range = document.createRange();
        range.selectNodeContents(cell);
        return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size > 1;
    }).map((cell) => cell.textContent),
})"""


@pytest.mark.slow
@pytest.mark.parametrize("width", [1280, 390])
def test_the_report_tables_keep_headers_and_numbers_on_one_line(
    report: ReportData, browser: Browser, tmp_path: Path, width: int
) -> None:
    files = write_report(report, tmp_path, "https://stats.shop.example")
    context = browser.new_context(viewport={"width": width, "height": 900})
    try:
        page = context.new_page()
        page.goto(files.html.as_uri())
        page.screenshot(path=tmp_path / f"report-{width}.png", full_page=True)
        if SHOTS:
            shutil.copy(tmp_path / f"report-{width}.png", Path(SHOTS) / f"report-{width}.png")
        layout = page.evaluate(LAYOUT)
        assert layout == {"page": 0, "table": width < 500, "wrapped": []}
    finally:
        context.close()

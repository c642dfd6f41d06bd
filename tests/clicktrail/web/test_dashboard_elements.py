"""A designer reads "Most clicked": the real snippet on a product grid, `clicktrail serve`
(collector, worker and dashboard) and Chromium. The clicked card is named by its text, its
selector shortened at its parts, and pointing at its row outlines its clicks on the map."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.clicktrail.server import ServeProcess
from tests.factories import BROWSER_UA
from tests.tracker_js.pages import serve_pages, snippet_tag

pytestmark = pytest.mark.slow

GRID = """<!doctype html>
<html><head><meta charset="utf-8"><title>shop</title>
<style>
  body {{ margin: 0; height: 1500px; font: 16px sans-serif; }}
  main {{ position: absolute; left: 40px; top: 200px; display: grid;
         grid-template-columns: repeat(3, 300px); gap: 20px; }}
  a.product {{ display: block; height: 200px; padding: 0 16px; box-sizing: border-box; }}
  h3, p {{ margin: 8px 0; }}
</style>
{snippet}
</head><body>
<main class="grid">
  <a class="product" href="#p1"><h3>Grey wool scarf</h3><p>24.00 €</p></a>
  <a class="product" href="#p2"><h3>Blue linen shirt</h3><p>19.99 €</p></a>
  <a class="product" href="#p3"><h3>Red cotton socks</h3><p>6.50 €</p></a>
</main>
</body></html>"""
CARD = "html>body>main.grid>a.product:nth-of-type(2)"  # the second card: x 360-660, y 200-400
CLICKS = ((380, 380), (640, 390), (500, 385))  # in its padding, below its text
SHOTS = os.environ.get("CLICKTRAIL_SHOTS")  # a folder to keep the screenshots in, to look at


class Served:
    def __init__(self, collector: ServeProcess, origin: str, token: str) -> None:
        self.collector, self.origin, self.token = collector, origin, token

    def elements(self) -> list[dict[str, Any]]:
        reply = httpx.get(
            f"{self.collector.url}/api/sites/shop/elements?page=/shop",
            headers={"Authorization": f"Bearer {self.token}"},
        )
        assert reply.status_code == 200, reply.text
        rows: list[dict[str, Any]] = reply.json()
        return rows


@pytest.fixture
def served(tmp_path: Path, browser: Browser) -> Iterator[Served]:
    """A visitor clicked the second card three times: the worker has counted it."""
    collector = ServeProcess(tmp_path / "data")
    collector.data_dir.mkdir()
    with serve_pages() as (origin, pages):
        added = collector.cli("site", "add", "shop", "--origin", origin)
        assert added.returncode == 0, added.stderr
        key = next(ln.split(": ")[1] for ln in added.stdout.splitlines() if "Public key" in ln)
        made = collector.cli("token", "create")
        assert made.returncode == 0, made.stderr
        collector.start()
        try:
            served = Served(collector, origin, made.stdout.splitlines()[1])
            pages["/shop"] = GRID.format(snippet=snippet_tag(collector.url, key))
            visit(browser, origin)
            deadline = time.monotonic() + 15
            while not any(e["clicks"] == len(CLICKS) for e in served.elements()):
                assert time.monotonic() < deadline, "the worker did not count the clicks"
                time.sleep(0.2)
            yield served
        finally:
            collector.stop()


def visit(browser: Browser, origin: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, user_agent=BROWSER_UA)
    try:
        page = context.new_page()
        page.goto(f"{origin}/shop")
        page.wait_for_function("() => typeof window.clicktrail === 'function'")
        for x, y in CLICKS:
            page.mouse.click(x, y)
        page.goto("about:blank")  # pagehide: the batch goes out
    finally:
        context.close()


def open_heatmap(browser: Browser, served: Served, width: int) -> Page:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    url = served.collector.url
    page.goto(f"{url}/login#token={served.token}")
    page.wait_for_url(f"{url}/")
    page.goto(f"{url}/sites/shop/heatmap?page=/shop")
    page.wait_for_function("() => document.querySelector('#heatmap-img').naturalWidth > 0")
    return page


def test_most_clicked_names_the_card_and_pointing_at_it_outlines_its_clicks(
    served: Served, browser: Browser, tmp_path: Path
) -> None:
    [card] = served.elements()
    assert (card["selector"], card["label"]) == (CARD, "Blue linen shirt 19.99 €")
    # 380/1280 -> column 29, 640/1280 -> 50; 380/16 -> row 23, 390/16 -> 24
    assert card["box"] == {"x0": 29, "y0": 23, "x1": 50, "y1": 24}

    page = open_heatmap(browser, served, 1280)
    row = page.locator("aside tbody tr").first
    expect(row.locator(".element-label")).to_have_text("Blue linen shirt 19.99 €")
    expect(row.locator(".selector")).to_have_text("…>a.product:nth-of-type(2)")
    expect(row.locator("td.element")).to_have_attribute("title", CARD)  # whole on hover
    outline = page.locator("[data-outline]")
    expect(outline).to_be_hidden()
    row.hover()
    expect(outline).to_be_visible()
    image = page.locator("#heatmap-img")
    drawn = image.evaluate(
        """(img) => {
        const r = img.getBoundingClientRect();
        return {left: r.left + img.clientLeft, top: r.top + img.clientTop,
                scale: img.clientWidth / img.naturalWidth, width: img.clientWidth,
                natural: img.naturalWidth};
    }"""
    )
    box = outline.bounding_box()
    assert box is not None
    # The legend strip keeps its 64 px; the page below it is drawn at the image's width.
    scale, legend, row_px = drawn["scale"], 64, 16 * drawn["natural"] / 1280
    expected = {
        "x": drawn["left"] + 0.29 * drawn["width"],
        "y": drawn["top"] + (legend + 23 * row_px) * scale,
        "width": 0.22 * drawn["width"],  # columns 29 to 50
        "height": 2 * row_px * scale,  # rows 23 and 24
    }
    assert box == pytest.approx(expected, abs=1.5)
    page.screenshot(path=tmp_path / "heatmap-elements-1280.png", full_page=True)
    page.mouse.move(5, 5)
    expect(outline).to_be_hidden()
    page.keyboard.press("Tab")
    row.focus()  # the keyboard reaches it too
    expect(outline).to_be_visible()
    page.context.close()

    phone = open_heatmap(browser, served, 390)
    expect(phone.locator(".element-label")).to_have_text("Blue linen shirt 19.99 €")
    fits = "() => document.documentElement.scrollWidth <= innerWidth"
    assert phone.evaluate(fits), "the heatmap page scrolls sideways on a phone"
    phone.screenshot(path=tmp_path / "heatmap-elements-390.png", full_page=True)
    phone.context.close()
    if SHOTS:
        for shot in tmp_path.glob("heatmap-elements-*.png"):
            shutil.copy(shot, Path(SHOTS) / f"dashboard-{shot.name}")

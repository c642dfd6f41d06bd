"""Automatic page pictures, end to end: real pages on 127.0.0.1 visited in Debian's Chromium with
the real snippet, the real collector and worker, and the picture taker's own Chromium. No command
is run: once the pages pass the thresholds, their pictures are there and the heatmaps are drawn
over them; a page that leaves the site's origins, or one denied, keeps the ruler and says why."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import redis
from PIL import Image
from playwright.sync_api import Browser
from starlette.testclient import TestClient

from clicktrail.demo.background import BackgroundServer, free_port
from clicktrail.web.app import create_web_app
from clicktrail.web.tokens import create_token
from clicktrail.wiring import picture_rules
from clicktrail.worker import Worker
from collector import sites
from collector.app import create_app
from collector.days import day_names
from collector.pages import BANDS, PageTemplates
from collector.settings import Settings
from heatmap.aggregate import Aggregator
from heatmap.examples import SiteHosts
from heatmap.picture_taker import PictureTaker
from heatmap.pictures import has_picture, load_states
from heatmap.render import LEGEND_PX
from heatmap.screenshots import load_screenshot
from heatmap.totals import load_pages
from tests.factories import BROWSER_UA
from tests.tracker_js.pages import snippet_tag

pytestmark = pytest.mark.slow

BLUE = (30, 90, 200)  # the block at left 40, top 100, 500 x 250 of every page
PAGE = """<!doctype html><html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width">
<style>
  body {{ margin: 0; height: 1400px; background: #fff; }}
  #block {{ position: absolute; left: 40px; top: 100px; width: 500px; height: 250px;
           background: rgb(30, 90, 200); }}
  #buy {{ position: absolute; left: 40px; top: 500px; width: 160px; height: 50px; }}
</style>{snippet}</head>
<body><div id="block"></div><button id="buy">Buy</button></body></html>"""
SSO = "http://localhost:1/sso"  # where /members sends anyone without a session: off the origins
VISITORS = ("Chrome/126.0", "Chrome/125.0")  # two user agents: two visitor ids
VISITS = ("/members", "/members", "/members", "/product/1", "/product/2", "/settings")
SETTINGS = {
    "picture_min_views": 4,  # /members 6, /product/:id 4, /settings 2 a visitor
    "picture_min_visitors": 2,
    "picture_deny": ("/settings",),
}


@dataclass
class Site:
    """Pages with the snippet; /members answers 302 to SSO without the visitors' cookie."""

    html: str = ""
    seen: list[str] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    site: Site

    def do_GET(self) -> None:
        self.site.seen.append(self.path)
        if self.path == "/members" and "session=" not in (self.headers["Cookie"] or ""):
            self.send_response(302)
            self.send_header("Location", SSO)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = self.site.html.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def served() -> Iterator[tuple[str, Site]]:
    site = Site()
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("H", (_Handler,), {"site": site}))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", site
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, rate_ip_per_s=1e6, **SETTINGS)  # type: ignore[arg-type]


@pytest.fixture
def visited(
    browser: Browser,
    served: tuple[str, Site],
    redis_url: str,
    redis_client: redis.Redis,
    settings: Settings,
) -> sites.Site:
    """Two visitors, each on VISITS, counted by the worker: past the thresholds."""
    origin, pages = served
    port = free_port()
    site = sites.add_site(redis_client, sites.new_site("shop", [origin]))
    pages.html = PAGE.format(snippet=snippet_tag(f"http://127.0.0.1:{port}", site.key))
    with BackgroundServer(create_app(settings, redis_url), port):
        for version in VISITORS:
            context = browser.new_context(user_agent=BROWSER_UA.replace("Chrome/126.0", version))
            context.add_cookies([{"name": "session", "value": "signed-in", "url": origin}])
            for path in VISITS:
                page = context.new_page()
                page.goto(origin + path)
                page.click("#buy")
                page.close()  # pagehide: the snippet beacons what is left
            context.close()
        aggregator = Aggregator(PageTemplates(), 90, hosts=SiteHosts(redis_client))
        deadline = time.monotonic() + 15
        while _views(redis_client, site) < len(VISITORS) * len(VISITS):
            assert time.monotonic() < deadline, "the visits never arrived"
            Worker(redis_client, [aggregator]).run(burst=True)
            time.sleep(0.1)
    return site


def test_pictures_are_taken_by_themselves_and_the_maps_drawn_over_them(
    visited: sites.Site,
    served: tuple[str, Site],
    redis_url: str,
    redis_client: redis.Redis,
    settings: Settings,
) -> None:
    served[1].seen.clear()  # what the visitors asked for: from here on, the taker's requests
    taker = PictureTaker(redis_client, picture_rules(settings), scan_every_s=0.2)
    thread = threading.Thread(target=taker.run)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while not has_picture(redis_client, "shop", "/product/:id"):
            assert time.monotonic() < deadline, "no picture was taken"
            assert thread.is_alive()
            time.sleep(0.2)
        assert thread.is_alive()  # /members failed first (most viewed), and it went on
    finally:
        taker.stopping.set()
        thread.join(timeout=30)
    assert not thread.is_alive()

    for band, width in zip(BANDS, (390, 820, 1280), strict=True):
        picture = load_screenshot(redis_client, "shop", band, "/product/:id")
        assert picture is not None and picture.width == width
        assert picture.getpixel((100, 150)) == BLUE
    states = load_states(redis_client, "shop")
    origin = served[0]
    assert states["/product/:id"].url == origin + "/product/1"  # the most viewed, then first
    assert states["/members"].failures == 1 and "leads off the site's origins" in (
        states["/members"].reason
    )
    assert "/product/1" in served[1].seen and "/settings" not in served[1].seen
    assert not has_picture(redis_client, "shop", "/members")
    assert not has_picture(redis_client, "shop", "/settings")

    app = create_web_app(settings, redis_url, None, lambda name: [])
    secret, _ = create_token(redis_client, "tests")
    auth = {"Authorization": f"Bearer {secret}"}
    with TestClient(app) as web:
        shown = web.get("/api/sites/shop/heatmap.png?page=/product/:id&band=desktop", headers=auth)
        members = web.get("/api/sites/shop/heatmap.png?page=/members&band=desktop", headers=auth)
        denied = web.get("/api/sites/shop/heatmap.png?page=/settings&band=desktop", headers=auth)
    assert shown.status_code == members.status_code == denied.status_code == 200
    png = Image.open(io.BytesIO(shown.content)).convert("RGB")
    assert png.getpixel((100, LEGEND_PX + 150)) == BLUE  # the picture, not the ruler's grey
    assert json.loads(shown.headers["x-clicktrail-warnings"]) == []
    assert int(shown.headers["x-clicktrail-events"]) == 4  # the visitors' clicks on #buy
    (note,) = json.loads(members.headers["x-clicktrail-warnings"])
    assert note.startswith("picture failed: could not capture") and "retried at" in note
    assert "leads off the site's origins, to http://localhost:1/sso" in note
    (note,) = json.loads(denied.headers["x-clicktrail-warnings"])
    assert note == "no picture: the path is denied by picture_deny"
    ruler = Image.open(io.BytesIO(members.content)).convert("RGB")
    assert ruler.getpixel((100, LEGEND_PX + 150)) != BLUE


def _views(client: redis.Redis, site: sites.Site) -> int:
    today = datetime.now(UTC).date()
    return sum(p.views for p in load_pages(client, site, day_names(today, today)))

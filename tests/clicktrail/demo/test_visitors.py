"""The demo's visitors: the planner's funnel, and both ways to play a visit against the real
collector: in Debian's Chromium with the real snippet, and as the snippet's batches posted."""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import msgspec
import pytest
import redis
from playwright.sync_api import sync_playwright
from starlette.testclient import TestClient

from clicktrail.demo.background import BackgroundServer, free_port
from clicktrail.demo.chromium_visits import chromium_available, drive_chromium
from clicktrail.demo.shop import shop_app
from clicktrail.demo.synthetic import (
    BOXES,
    GRIDS,
    document_height,
    locate,
    page_events,
    post_visits,
)
from clicktrail.demo.visitors import (
    FAKE_ENTRIES,
    VIEWPORTS,
    Action,
    Step,
    Visit,
    card,
    plan_visits,
)
from clicktrail.wiring import make_worker
from collector import sites
from collector.app import create_app
from collector.days import day_names
from collector.schema import Batch, Click, Event, PageView, RageClick, Scroll, decode_batch
from collector.settings import Settings
from heatmap.capture import CHROMIUM, CHROMIUM_ARGS
from heatmap.totals import load_pages
from reports.sessions.reader import load_sessions
from tests.factories import decode_entry, now_ms, stored_entries
from tests.tracker_js.pages import snippet_tag

SEED = 3759  # its first six visits: three devices, a purchase, rage, "back", a newsletter link
HOUR_MS = 3_600_000


def shares(visits: list[Visit], of: list[Visit]) -> float:
    return len(visits) / len(of)


def test_a_seed_always_plans_the_same_visits() -> None:
    assert plan_visits(300, 5) == plan_visits(300, 5)
    assert plan_visits(300, 5) != plan_visits(300, 6)


def test_the_funnel_narrows_as_a_shops_does() -> None:
    visits = plan_visits(2000, 11)
    product = [v for v in visits if v.reached("/product/")]
    cart = [v for v in product if v.reached("/cart")]
    checkout = [v for v in cart if v.reached("/checkout")]
    thanks = [v for v in checkout if v.reached("/thanks")]
    assert 0.65 <= shares(product, visits) <= 0.75
    assert 0.39 <= shares(cart, product) <= 0.51
    assert 0.47 <= shares(checkout, cart) <= 0.63
    assert 0.50 <= shares(thanks, checkout) <= 0.70
    assert {v.steps[0].path.split("?")[0].split("/")[1] for v in visits} == {
        "",
        "category",
        "product",
    }
    left_cart = [v for v in cart if not v.reached("/checkout")]
    went_on = [v for v in left_cart if not v.steps[-1].path.startswith("/cart")]
    assert 0.5 <= shares(went_on, left_cart) <= 0.8, "most go back to browsing, or just leave"


def test_devices_sources_and_rage_are_mixed_as_in_real_traffic() -> None:
    visits = plan_visits(2000, 11)
    devices = Counter(v.viewport.device for v in visits)
    assert 1000 <= devices["desktop"] <= 1200 and 620 <= devices["mobile"] <= 780
    assert 140 <= devices["tablet"] <= 260
    assert {v.viewport for v in visits} == {viewport for viewport, _ in VIEWPORTS}
    sources = Counter((v.referrer, v.steps[0].path.partition("?")[2].split("&")[0]) for v in visits)
    google = "https://www.google.com/"
    assert 480 <= sources[google, ""] <= 640 and 110 <= sources[google, "utm_source=google"] <= 210
    assert 45 <= sources["https://www.bing.com/", ""] <= 115
    assert 80 <= sources["https://m.facebook.com/", "fbclid=demo"] <= 160
    assert 45 <= sources["https://chatgpt.com/", "utm_source=chatgpt.com"] <= 115
    assert 110 <= sources["https://news.example/", ""] <= 210
    assert 180 <= sources["", "utm_source=newsletter"] <= 300 and 520 <= sources["", ""] <= 680
    raging = [v for v in visits if any(a.kind == "rage" for s in v.steps for a in s.actions)]
    assert 0.04 <= shares(raging, visits) <= 0.2
    assert len({v.user_agent for v in visits}) > 1000, "visitor ids hash the user agent"


class _Elements(HTMLParser):
    """The attributes of each element of a page."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.found: list[dict[str, str]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append({"tag": tag, **{k: v or "" for k, v in attrs}})

    def matching(self, target: str) -> list[dict[str, str]]:
        if target.startswith("#nav "):
            return [e for e in self.found if e.get("href") == target.split('"')[1]][:1]
        if target.startswith("a.product-card"):
            href = target.split('"')[1]
            return [e for e in self.found if e.get("href") == href and "product-card" in e["class"]]
        return [e for e in self.found if e.get("id") == target[1:]]


def test_every_step_is_a_page_of_the_shop_reached_from_an_element_of_the_last() -> None:
    shop = TestClient(shop_app(""))
    pages: dict[str, _Elements] = {}
    for visit in plan_visits(400, 3):
        for i, step in enumerate(visit.steps):
            if step.path not in pages:
                response = shop.get(step.path)
                assert response.status_code == 200, step.path
                pages[step.path] = _Elements(response.text)
            for action in step.actions:
                if action.target:
                    assert len(pages[step.path].matching(action.target)) == 1, action.target
            last = step.actions[-1] if step.actions else None
            if i == len(visit.steps) - 1:
                assert last is None or last.kind not in ("go", "back")
                continue
            assert last is not None and last.kind in ("go", "back")
            [element] = pages[step.path].matching(last.target) if last.kind == "go" else [{}]
            if element.get("tag") == "a":
                assert element["href"] == visit.steps[i + 1].path


def test_posted_batches_are_what_the_collector_takes_and_look_like_the_shop() -> None:
    for visit in plan_visits(300, 9):
        pages = page_events(visit, random.Random(1))
        assert len(pages) == len(visit.steps)
        shift = now_ms() - pages[-1][-1].ts
        for step, events in zip(visit.steps, pages, strict=True):
            for event in events:
                event.ts += shift
            body = msgspec.json.encode(Batch("ct_key", now_ms(), "sid", events))
            decode_batch(body, max_events=200, max_age_ms=48 * HOUR_MS)
            view, *rest, scroll = events
            assert isinstance(view, PageView) and view.p == step.path.split("?")[0]
            assert isinstance(scroll, Scroll) and view.vh <= scroll.depth <= scroll.dh
            for click in rest:
                assert isinstance(click, Click | RageClick)
                assert 0 <= click.x <= view.vw and 0 <= click.y <= scroll.dh
                assert click.y < 110 if click.fixed else True
        times = [event.ts for events in pages for event in events]
        assert times[0] == min(times) and times[-1] == max(times)


# The document's height, and the box of each element (CSS px, in the document) or null.
MEASURE = """(selectors) => [document.documentElement.scrollHeight, selectors.map((s) => {
    const el = document.querySelector(s);
    const r = el && el.getBoundingClientRect();
    return el && [r.left + scrollX, r.top + scrollY, r.width, r.height];
})]"""
LAID_OUT = ["/", "/category/jackets", "/category/packs", "/product/1", "/product/8",
            "/cart?add=1&size=M", "/checkout?item=1&size=M", "/thanks"]  # fmt: skip


def targets_of(path: str) -> list[str]:
    kind = "home" if path == "/" else path.split("/")[1].split("?")[0]
    cards = [card(p) for p in (1, 2, 3, 4, 5, 6, 7, 8)] if kind in GRIDS else []
    return [*BOXES[kind], *(BOXES["*"] if kind == "home" else ()), *cards]


@pytest.mark.slow
def test_the_synthetic_clicks_land_on_the_elements_chromium_lays_out() -> None:
    with BackgroundServer(shop_app(""), free_port()) as shop, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        for path in LAID_OUT:
            page.goto(shop.url + path)
            targets = targets_of(path)
            for viewport, _ in VIEWPORTS:
                page.set_viewport_size({"width": viewport.width, "height": viewport.height})
                height, boxes = page.evaluate(MEASURE, targets)
                where, path_only = f"{path} at {viewport.width} px", path.split("?")[0]
                assert abs(document_height(path_only, viewport) - height) < 0.03 * height, where
                for target, measured in zip(targets, boxes, strict=True):
                    if measured is None:  # a card of another page
                        continue
                    left, top, width, height = measured
                    x, y, w, h = locate(target, path_only, viewport).box
                    clicked = (x + 0.2 * w, y + 0.25 * h, x + 0.8 * w, y + 0.75 * h)
                    inside = (left - 2, top - 2, left + width + 2, top + height + 2)
                    assert inside[0] <= clicked[0] and clicked[2] <= inside[2], (where, target)
                    assert inside[1] <= clicked[1] and clicked[3] <= inside[3], (where, target)
        browser.close()


@dataclass(frozen=True)
class Live:
    shop: str  # the shop's origin
    collector: str
    site: sites.Site


@pytest.fixture
def live(redis_url: str, redis_client: redis.Redis) -> Iterator[Live]:
    """The collector and the shop with the snippet, each on a port of 127.0.0.1."""
    shop_port, collector_port = free_port(), free_port()
    shop, collector = f"http://127.0.0.1:{shop_port}", f"http://127.0.0.1:{collector_port}"
    site = sites.add_site(redis_client, sites.new_site("shop", [shop]))
    settings = Settings(data_dir=Path("unused"), rate_ip_per_s=1e6)  # all from 127.0.0.1
    with (
        BackgroundServer(create_app(settings, redis_url), collector_port),
        BackgroundServer(shop_app(snippet_tag(collector, site.key)), shop_port),
    ):
        yield Live(shop, collector, site)


def arrived(client: redis.Redis, after: int = 0) -> list[Event]:
    entries = stored_entries(client)[after:]
    return [event for entry in entries for event in decode_entry(entry)[1].values()]


def signature(event: Event) -> tuple[Any, ...]:
    if isinstance(event, PageView):
        utm = tuple(sorted(event.utm.items()))
        return ("view", event.p, event.ref, event.vw, event.vh, event.sw, event.dev, utm)
    if isinstance(event, Click):
        return ("click", event.p, event.sel, event.tag, event.vw, event.fixed, event.ptr)
    if isinstance(event, RageClick):
        return ("rage", event.p, event.sel, event.n, event.vw)
    return (type(event).__name__, event.p)


def spots(events: list[Event]) -> dict[tuple[str, str, int], list[tuple[float, float]]]:
    found: dict[tuple[str, str, int], list[tuple[float, float]]] = {}
    for e in events:
        if isinstance(e, Click):
            found.setdefault((e.p, e.sel, e.vw), []).append((e.x, e.y))
    return {key: sorted(points) for key, points in found.items()}


@pytest.mark.slow
def test_visits_in_chromium_and_posted_ones_arrive_alike_and_are_aggregated(
    live: Live, redis_url: str, redis_client: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    assert chromium_available()
    visits = plan_visits(6, SEED)
    views = Counter(step.path.split("?")[0] for visit in visits for step in visit.steps)
    broken = Visit(visits[0].viewport, "", "", (Step("/product/99", (Action("click", "#size"),)),))
    with caplog.at_level(logging.WARNING, "clicktrail.demo.chromium_visits"):
        assert drive_chromium(live.shop, [*visits, broken]) == 6
    assert "visit 6 failed" in caplog.text
    deadline = time.monotonic() + 10
    while len([e for e in arrived(redis_client) if isinstance(e, PageView)]) < views.total():
        assert time.monotonic() < deadline, "the last pages' beacons did not arrive"
        time.sleep(0.1)
    in_chromium = arrived(redis_client)
    assert Counter(e.p for e in in_chromium if isinstance(e, PageView)) == views

    entries = len(stored_entries(redis_client))
    accepted = post_visits(live.collector, live.site.key, live.shop, visits, seed=1)
    posted = arrived(redis_client, after=entries)
    assert accepted == len(posted)
    assert Counter(map(signature, posted)) == Counter(map(signature, in_chromium))
    for key, points in spots(in_chromium).items():
        for (x, y), (x_posted, y_posted) in zip(points, spots(posted)[key], strict=True):
            assert abs(x - x_posted) <= 30 and abs(y - y_posted) <= 30, key

    more = plan_visits(14, SEED + 1)
    assert post_visits(live.collector, live.site.key, live.shop, more, seed=2) > 0
    stored = b"".join(v for _, fields in stored_entries(redis_client) for v in fields.values())
    assert not any(text.encode() in stored for text in FAKE_ENTRIES), "nothing typed is sent"
    assert make_worker(Settings(data_dir=Path("unused")), redis_url).run(burst=True) > 0
    today = datetime.now(UTC).date()
    pages = load_pages(redis_client, live.site, day_names(today - timedelta(1), today))
    everything = arrived(redis_client)
    assert sum(p.views for p in pages) == sum(isinstance(e, PageView) for e in everything)
    assert sum(p.clicks for p in pages) == sum(isinstance(e, Click) for e in everything)
    sessions = load_sessions(redis_client, live.site, now_ms() - HOUR_MS, now_ms() + 60_000, 0)
    assert len(sessions) == 6 + 6 + 14

"""Journeys and A-to-B over visits made in Debian's Chromium with the real snippet, sent to the
real collector and filed by the worker: a reload, a return, a custom event and an open visit,
asserted as the exact JSON.

Times are exact because both clocks are the test's: each visitor's browser clock is paused
(Playwright) and the collector's time of receipt is set to the same instant, so every batch's
skew is zero and an event's time is the browser's. The clocks move on only once the pages left
so far have been stored, so no batch is in flight across a change.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis
from playwright.sync_api import Browser, BrowserContext, Page

from clicktrail.demo.background import BackgroundServer, free_port
from clicktrail.worker import Worker
from collector import ingest, sites
from collector.app import create_app
from collector.connections import sync_client
from collector.settings import Settings
from reports.analyses.journey_request import (
    JourneyRequest,
    PathsRequest,
    VisitFilter,
    run_journeys,
    run_paths,
)
from reports.sessions.builder import SessionBuilder
from tests.factories import decode_entry, now_ms, stored_entries
from tests.tracker_js.pages import serve_pages, snippet_tag

pytestmark = pytest.mark.slow

S = 1000
MIN = 60 * S
PAGE = '<!doctype html><html><head><meta charset="utf-8">{snippet}</head><body></body></html>'
ARRIVAL_TIMEOUT_S = 10.0


class CollectorClock:
    """Stands in for the `time` module in collector.ingest: the server time of receipt."""

    def __init__(self) -> None:
        self.ms = 0

    def time(self) -> float:
        return self.ms / 1000  # whole seconds only: exact in a float


@dataclass
class Shop:
    origin: str
    site: sites.Site
    client: redis.Redis
    clock: CollectorClock
    browser: Browser
    sent: int = 0  # events that left the browser


@contextmanager
def open_shop(browser: Browser, redis_url: str, client: redis.Redis) -> Iterator[Shop]:
    """The collector on a port of 127.0.0.1, on the test's clock, and every path of another
    port a page with the snippet."""
    clock = CollectorClock()
    port = free_port()
    settings = Settings(data_dir=Path("unused"), rate_ip_per_s=1e6)  # all from 127.0.0.1
    with pytest.MonkeyPatch.context() as patch, serve_pages() as (origin, pages):
        patch.setattr(ingest, "time", clock)
        site = sites.add_site(client, sites.new_site("shop", [origin]))
        pages["*"] = PAGE.format(snippet=snippet_tag(f"http://127.0.0.1:{port}", site.key))
        with BackgroundServer(create_app(settings, redis_url), port):
            yield Shop(origin, site, client, clock, browser)


def stored(client: redis.Redis) -> int:
    return sum(len(decode_entry(entry)[1]) for entry in stored_entries(client))


class Visitor:
    """One tab in its own browser context: the snippet keeps one session id per tab."""

    def __init__(self, shop: Shop, t0: int) -> None:
        self.shop = shop
        self.context: BrowserContext = shop.browser.new_context()
        # Paused: the snippet's timers fire only when the test moves the clock on.
        self.context.clock.install(time=t0 // S)  # Playwright takes seconds
        self.context.clock.pause_at(t0 // S)
        self.page: Page = self.context.new_page()
        self.on_page = 0  # events of the page it is on

    def at(self, ms: int) -> Visitor:
        """Once what was sent has arrived, set the collector's clock, then the browser's."""
        self.settle()
        self.shop.clock.ms = ms
        self.context.clock.pause_at(ms // S)
        return self

    def go(self, path: str) -> None:
        self.page.goto(self.shop.origin + path)
        self.left_page(1)

    def reload(self) -> None:
        self.page.reload()
        self.left_page(1)

    def event(self, name: str) -> None:
        self.page.evaluate("(name) => clicktrail('event', name)", name)
        self.on_page += 1

    def leave(self) -> None:
        self.page.close()  # pagehide: the snippet beacons the last page's events
        self.left_page(0)
        self.settle()
        self.context.close()

    def left_page(self, on_next: int) -> None:
        if self.on_page:
            self.shop.sent += self.on_page + 1  # pagehide beacons them and the scroll depth
        self.on_page = on_next

    def settle(self) -> None:
        deadline = time.monotonic() + ARRIVAL_TIMEOUT_S
        while (arrived := stored(self.shop.client)) < self.shop.sent:
            assert time.monotonic() < deadline, f"{arrived} of {self.shop.sent} events arrived"
            time.sleep(0.02)


def browse(shop: Shop, t0: int) -> None:
    """Four visitors, one after the other."""
    one = Visitor(shop, t0)
    one.at(t0).go("/")
    one.at(t0 + 10 * S).go("/product/1")
    one.at(t0 + 20 * S).reload()
    one.at(t0 + 30 * S).go("/cart")
    one.at(t0 + 40 * S).go("/thanks")
    one.at(t0 + 50 * S).leave()

    two = Visitor(shop, t0 + 60 * S)
    two.at(t0 + 60 * S).go("/")
    two.at(t0 + 70 * S).go("/cart")
    two.at(t0 + 80 * S).go("/")
    two.at(t0 + 90 * S).go("/cart")
    two.at(t0 + 95 * S).event("add")
    two.at(t0 + 100 * S).leave()

    three = Visitor(shop, t0 + 120 * S)
    three.at(t0 + 120 * S).go("/product/2")
    three.at(t0 + 130 * S).leave()

    four = Visitor(shop, t0 + 20 * MIN)  # still open at the query's time
    four.at(t0 + 20 * MIN).go("/")
    four.at(t0 + 20 * MIN + 10 * S).go("/product/2")
    four.at(t0 + 20 * MIN + 20 * S).leave()


@dataclass(frozen=True)
class Browsed:
    client: redis.Redis
    site: sites.Site
    visits: VisitFilter
    now_ms: int  # the query's time: visits one to three have ended, four has not
    head: dict[str, str]  # the keys every answer starts with


@pytest.fixture(scope="module")
def browsed(browser: Browser, redis_url: str) -> Iterator[Browsed]:
    """The four visits, browsed once for the module's tests and filed."""
    client = sync_client(redis_url)
    client.flushdb()
    # Whole minutes, 25 ago: the worker's sweep on the real clock closes nothing yet.
    t0 = now_ms() // MIN * MIN - 25 * MIN
    with open_shop(browser, redis_url, client) as shop:
        browse(shop, t0)
    builder = SessionBuilder(client)
    Worker(client, [builder]).run(burst=True)
    query_ms = t0 + 40 * MIN
    # As the worker would by then: visits one to three are filed, four is still open.
    assert builder.tick(shop.site.name, 0, now_ms=query_ms) == 3
    first, last = (datetime.fromtimestamp(ms / 1000, UTC) for ms in (t0, query_ms))
    head = {
        "site": "shop",
        "from": first.date().isoformat(),
        "to": last.date().isoformat(),
        "time_zone": "UTC",
        "as_of": last.isoformat(timespec="seconds"),
    }
    visits = VisitFilter(first=first.date(), last=last.date())
    yield Browsed(client, shop.site, visits, query_ms, head)
    client.close()


NODE_KEYS = (
    "id", "page", "event", "other", "visits", "ends", "in_progress", "beyond", "repeats",
    "returns", "goal", "median_next_s",
)  # fmt: skip


def nodes(*rows: tuple[Any, ...]) -> list[dict[str, Any]]:
    return [dict(zip(NODE_KEYS, row, strict=True)) for row in rows]


def test_the_open_map(browsed: Browsed) -> None:
    request = JourneyRequest(browsed.visits, steps=5)
    result = run_journeys(browsed.client, browsed.site, request, now_ms=browsed.now_ms)
    assert dict(result) == {
        **browsed.head,
        "mode": "open",
        "direction": "forward",
        "start": None,
        "end": None,
        "goal": None,
        "visits": 4,
        "never_reached": None,
        "warnings": [],
        # id, page, event, other, visits, ends, in_progress, beyond, repeats, returns, goal,
        # median_next_s
        "columns": [
            {"step": 1, "visits": 4, "ends": 1, "nodes": nodes(
                ("1:/", "/", None, False, 3, 0, 0, 0, 0, 0, None, 10.0),
                ("1:/product/:id", "/product/:id", None, False, 1, 1, 0, 0, 0, 0, None, None),
            )},
            # one's reload is one occurrence (a repeat); four is still on /product/2
            {"step": 2, "visits": 3, "ends": 0, "nodes": nodes(
                ("2:/product/:id", "/product/:id", None, False, 2, 0, 1, 0, 1, 0, None, 20.0),
                ("2:/cart", "/cart", None, False, 1, 0, 0, 0, 0, 0, None, 10.0),
            )},
            # two's return to / counts at the second /
            {"step": 3, "visits": 2, "ends": 0, "nodes": nodes(
                ("3:/", "/", None, False, 1, 0, 0, 0, 0, 1, None, 10.0),
                ("3:/cart", "/cart", None, False, 1, 0, 0, 0, 0, 0, None, 10.0),
            )},
            {"step": 4, "visits": 2, "ends": 2, "nodes": nodes(
                ("4:/cart", "/cart", None, False, 1, 1, 0, 0, 0, 1, None, None),
                ("4:/thanks", "/thanks", None, False, 1, 1, 0, 0, 0, 0, None, None),
            )},
            {"step": 5, "visits": 0, "ends": 0, "nodes": []},
        ],
        "edges": [
            {"from": "1:/", "to": "2:/product/:id", "visits": 2, "goal": None},
            {"from": "1:/", "to": "2:/cart", "visits": 1, "goal": None},
            {"from": "2:/product/:id", "to": "3:/cart", "visits": 1, "goal": None},
            {"from": "2:/cart", "to": "3:/", "visits": 1, "goal": None},
            {"from": "3:/", "to": "4:/cart", "visits": 1, "goal": None},
            {"from": "3:/cart", "to": "4:/thanks", "visits": 1, "goal": None},
        ],
    }  # fmt: skip


def test_the_map_from_the_cart_with_a_goal_and_events(browsed: Browsed) -> None:
    request = JourneyRequest(browsed.visits, start="/cart", goal="/thanks", events=True)
    result = run_journeys(browsed.client, browsed.site, request, now_ms=browsed.now_ms)
    assert dict(result) == {
        **browsed.head,
        "mode": "start",
        "direction": "forward",
        "start": "/cart",
        "end": None,
        "goal": "/thanks",
        "visits": 2,
        "never_reached": None,
        "warnings": [],
        "columns": [
            {"step": 1, "visits": 2, "ends": 0, "nodes": nodes(
                ("1:/cart", "/cart", None, False, 2, 0, 0, 0, 0, 0, 1, 10.0),
            )},
            {"step": 2, "visits": 2, "ends": 1, "nodes": nodes(
                ("2:/", "/", None, False, 1, 0, 0, 0, 0, 0, 0, 10.0),
                ("2:/thanks", "/thanks", None, False, 1, 1, 0, 0, 0, 0, 1, None),
            )},
            {"step": 3, "visits": 1, "ends": 0, "nodes": nodes(
                ("3:/cart", "/cart", None, False, 1, 0, 0, 0, 0, 1, 0, 5.0),
            )},
            {"step": 4, "visits": 1, "ends": 1, "nodes": nodes(
                ("4:event:add", None, "add", False, 1, 1, 0, 0, 0, 0, 0, None),
            )},
            {"step": 5, "visits": 0, "ends": 0, "nodes": []},
        ],
        "edges": [
            {"from": "1:/cart", "to": "2:/", "visits": 1, "goal": 0},
            {"from": "1:/cart", "to": "2:/thanks", "visits": 1, "goal": 1},
            {"from": "2:/", "to": "3:/cart", "visits": 1, "goal": 0},
            {"from": "3:/cart", "to": "4:event:add", "visits": 1, "goal": 0},
        ],
    }  # fmt: skip


def test_from_home_to_thanks(browsed: Browsed) -> None:
    request = PathsRequest(browsed.visits, "/", "/thanks")
    result = run_paths(browsed.client, browsed.site, request, now_ms=browsed.now_ms)
    head = browsed.head
    assert dict(result) == {
        "site": "shop",
        "start": "/",
        "end": "/thanks",
        "from": head["from"],
        "to": head["to"],
        "time_zone": "UTC",
        "as_of": head["as_of"],
        "visits_with_start": 3,
        "reached_end": 1,
        "never_reached": 2,  # two (/ twice, no /thanks) and four, still open
        "in_progress": 1,  # four
        "direct_share": 0.0,
        "warnings": [],
        "between": [  # one's /product/1 (reloaded) and /cart
            {"steps": "0", "min": 0, "max": 0, "visits": 0},
            {"steps": "1", "min": 1, "max": 1, "visits": 0},
            {"steps": "2", "min": 2, "max": 2, "visits": 1},
            {"steps": "3", "min": 3, "max": 3, "visits": 0},
            {"steps": "4", "min": 4, "max": 4, "visits": 0},
            {"steps": "5-6", "min": 5, "max": 6, "visits": 0},
            {"steps": "7-10", "min": 7, "max": 10, "visits": 0},
            {"steps": "11+", "min": 11, "max": None, "visits": 0},
        ],
        "time_s": {
            "median": 40.0,
            "p75": 40.0,
            "p90": 40.0,
            "histogram": [
                {"min_s": 0.0, "max_s": 1.0, "visits": 0},
                {"min_s": 1.0, "max_s": 2.0, "visits": 0},
                {"min_s": 2.0, "max_s": 5.0, "visits": 0},
                {"min_s": 5.0, "max_s": 10.0, "visits": 0},
                {"min_s": 10.0, "max_s": 20.0, "visits": 0},
                {"min_s": 20.0, "max_s": 50.0, "visits": 1},
            ],
        },
        "detours": [],
        "paths": [
            {"pages": ["/", "/product/:id", "/cart", "/thanks"], "other": False, "visits": 1},
            {"pages": None, "other": True, "visits": 0},
        ],
    }

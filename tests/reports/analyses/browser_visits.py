"""Visits made in Debian's Chromium with the real snippet, sent to the real collector and filed
by the worker, for the analyses' browser tests (journeys, channels).

Times are exact because both clocks are the test's: each visitor's browser clock is paused
(Playwright) and the collector's time of receipt is set to the same instant, so every batch's
skew is zero and an event's time is the browser's. The clocks move on only once the pages left
so far have been stored and no request of the tab to the collector is in flight (moving the
clock fires the snippet's 5-second send timer: that delivery must arrive before the collector's
clock moves again, or its skew is off by the step), so no batch is in flight across a change.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
from playwright.sync_api import Browser, BrowserContext, Page

from clicktrail.demo.background import BackgroundServer, free_port
from clicktrail.worker import Worker
from collector import ingest, sites
from collector.app import create_app
from collector.connections import sync_client
from collector.settings import Settings
from reports.analyses.journey_request import VisitFilter
from reports.sessions.builder import SessionBuilder
from tests.factories import decode_entry, now_ms, stored_entries
from tests.tracker_js.pages import serve_pages, snippet_tag

S = 1000
MIN = 60 * S
PAGE = '<!doctype html><html><head><meta charset="utf-8">{snippet}</head><body></body></html>'
ARRIVAL_TIMEOUT_S = 10.0
# Chromium sends no Referer for a non-web scheme: the landing page is opened with it set, as
# the Android Gmail app's custom tab does (a reload of that page keeps it, as in a browser).
APP_REFERRER = (
    "if (location.href === {url}) Object.defineProperty(document, 'referrer', {{get: () => {ref}}})"
)


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
    collector: str  # the collector's URL: the requests to it are watched
    sent: int = 0  # events that left the browser


@contextmanager
def open_shop(
    browser: Browser, redis_url: str, client: redis.Redis, other_origins: Sequence[str] = ()
) -> Iterator[Shop]:
    """The collector on a port of 127.0.0.1, on the test's clock, and every path of another
    port a page with the snippet. `other_origins`: the site's other origins (never served)."""
    clock = CollectorClock()
    port = free_port()
    settings = Settings(data_dir=Path("unused"), rate_ip_per_s=1e6)  # all from 127.0.0.1
    with pytest.MonkeyPatch.context() as patch, serve_pages() as (origin, pages):
        patch.setattr(ingest, "time", clock)
        site = sites.add_site(client, sites.new_site("shop", [origin, *other_origins]))
        pages["*"] = PAGE.format(snippet=snippet_tag(f"http://127.0.0.1:{port}", site.key))
        with BackgroundServer(create_app(settings, redis_url), port):
            yield Shop(origin, site, client, clock, browser, f"http://127.0.0.1:{port}/")


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
        self.in_flight = 0  # requests to the collector sent and not yet answered
        self.context.on("request", lambda request: self._count(request.url, 1))
        self.context.on("requestfinished", lambda request: self._count(request.url, -1))
        self.context.on("requestfailed", lambda request: self._count(request.url, -1))

    def _count(self, url: str, change: int) -> None:
        if url.startswith(self.shop.collector) and not url.endswith(".js"):
            self.in_flight = max(0, self.in_flight + change)

    def at(self, ms: int) -> Visitor:
        """Once what was sent has arrived, set the collector's clock, then the browser's."""
        self.settle()
        self.shop.clock.ms = ms
        self.context.clock.pause_at(ms // S)
        return self

    def go(self, path: str, referrer: str = "") -> None:
        """Open `path` (with its query), as if followed from `referrer`: a web page's URL is
        sent as the Referer, an app's (android-app://...) set as the document's referrer."""
        url = self.shop.origin + path
        if referrer.startswith(("http://", "https://")):
            self.page.goto(url, referer=referrer)
        else:
            if referrer:
                script = APP_REFERRER.format(url=json.dumps(url), ref=json.dumps(referrer))
                self.page.add_init_script(script)
            self.page.goto(url)
        self.left_page(1)

    def reload(self) -> None:
        self.page.reload()
        self.left_page(1)

    def event(self, name: str) -> None:
        self.page.evaluate("(name) => clicktrail('event', name)", name)
        self.on_page += 1

    def leave(self) -> None:
        self.settle()  # what the clock's last move sent, before the page goes
        self.page.close()  # pagehide: the snippet beacons the last page's events
        self.in_flight = 0  # a closed page's requests report nothing more: the count says
        self.left_page(0)
        self.settle()
        self.context.close()

    def left_page(self, on_next: int) -> None:
        if self.on_page:
            self.shop.sent += self.on_page + 1  # pagehide beacons them and the scroll depth
        self.on_page = on_next

    def settle(self) -> None:
        """Wait until what left the browser is stored and no request to the collector is in
        flight (Playwright reports requests while it runs: the open page's wait lets it)."""
        deadline = time.monotonic() + ARRIVAL_TIMEOUT_S
        while True:
            if self.page.is_closed():
                time.sleep(0.02)
            else:
                self.page.wait_for_timeout(20)  # real time: the page's clock stays paused
            arrived = stored(self.shop.client)
            if arrived >= self.shop.sent and not self.in_flight:
                return
            assert time.monotonic() < deadline, (
                f"{arrived} of {self.shop.sent} events arrived, {self.in_flight} requests open"
            )


@dataclass(frozen=True)
class Browsed:
    client: redis.Redis
    site: sites.Site
    visits: VisitFilter
    now_ms: int  # the query's time, 40 minutes after the first visit
    head: dict[str, str]  # the keys every answer starts with


def browse_and_file(
    browser: Browser,
    redis_url: str,
    browse: Callable[[Shop, int], None],
    closed: int,
    other_origins: Sequence[str] = (),
) -> Browsed:
    """Run `browse(shop, t0)` on a flushed Redis, then file its visits as the worker would by
    the query's time, when `closed` of them have ended."""
    client = sync_client(redis_url)
    client.flushdb()
    # Whole minutes, 25 ago: the worker's sweep on the real clock closes nothing yet.
    t0 = now_ms() // MIN * MIN - 25 * MIN
    with open_shop(browser, redis_url, client, other_origins) as shop:
        browse(shop, t0)
    builder = SessionBuilder(client)
    Worker(client, [builder]).run(burst=True)
    query_ms = t0 + 40 * MIN
    assert builder.tick(shop.site.name, 0, now_ms=query_ms) == closed
    first, last = (datetime.fromtimestamp(ms / 1000, UTC) for ms in (t0, query_ms))
    head = {
        "site": shop.site.name,
        "from": first.date().isoformat(),
        "to": last.date().isoformat(),
        "time_zone": "UTC",
        "as_of": last.isoformat(timespec="seconds"),
    }
    visits = VisitFilter(first=first.date(), last=last.date())
    return Browsed(client, shop.site, visits, query_ms, head)

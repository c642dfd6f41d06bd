"""The snippet in Debian's Chromium, sending to the real collector from another origin."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import httpx2 as httpx
import pytest
import redis
from playwright.sync_api import BrowserContext, Page, Route

from collector import keys
from collector.consumer import StreamReader
from collector.embedded import socket_path_for
from tests.factories import BROWSER_UA, batch, pageview
from tests.tracker_js.conftest import Site
from tests.tracker_js.pages import SHOP, snippet_tag

pytestmark = pytest.mark.slow


# Scroll, and return once the scroll event has been dispatched (it comes a frame later).
SCROLL_TO = """(y) => new Promise((done) => {
    addEventListener('scroll', () => done(), {once: true});
    scrollTo(0, y);
})"""


def open_shop(context: BrowserContext, site: Site, path: str = "/shop", **attrs: str) -> Page:
    site.pages[path] = SHOP.format(snippet=snippet_tag(site.collector.url, site.key, **attrs))
    page = context.new_page()
    page.goto(site.origin + path)
    return page


def clicks(events: list[Any]) -> list[Any]:
    return [e for e in events if type(e).__name__ == "Click"]


def of_type(events: list[Any], name: str) -> list[Any]:
    return [e for e in events if type(e).__name__ == name]


def test_clicks_arrive_with_document_coordinates_selector_and_offset(
    context: BrowserContext, site: Site
) -> None:
    page = open_shop(context, site)
    width = page.evaluate("document.documentElement.scrollWidth")
    page.mouse.click(130, 215)  # 30 px right of, 15 px below #buy's corner (100, 200)
    page.evaluate(SCROLL_TO, 1000)
    page.mouse.click(130, 215)  # the viewport point now covers #far, at document y 1215
    page.mouse.click(600, 25)  # the fixed header: kept in viewport coordinates
    page.close()
    events = site.wait_for(lambda ev: len(clicks(ev)) >= 3)
    buy, far, header = clicks(events)
    assert (buy.x, buy.y, buy.sel, buy.tag, buy.ox, buy.oy) == (
        130,
        215,
        "button#buy",
        "button",
        30,
        15,
    )
    assert (buy.vw, buy.vh, buy.dh, buy.ptr, buy.fixed) == (1280, 720, 3000, "mouse", False)
    assert buy.dw == width  # the document's width: what x is binned as a share of
    assert (far.x, far.y, far.sel, far.ox, far.oy) == (130, 1215, "button#far", 30, 15)
    assert (header.x, header.y, header.fixed, header.sel) == (600, 25, True, "html>body>header")
    assert (buy.label, header.label) == ("Add to cart", "Cart")  # their text
    [view] = of_type(events, "PageView")
    assert (view.p, view.vw, view.vh, view.dev) == ("/shop", 1280, 720, "desktop")
    assert {e.pv for e in events} == {view.pv}


def test_spa_navigation_counts_each_path_change_once_in_order(
    context: BrowserContext, site: Site
) -> None:
    page = open_shop(context, site, exclude="/private/*")
    site.pages["*"] = site.pages["/shop"]
    page.evaluate("""() => {
        history.pushState({}, '', '/spa/one');
        history.pushState({}, '', '/spa/one');              // same path: not a new page view
        history.replaceState({}, '', '/spa/two');
        history.pushState({}, '', '/spa/three?utm_source=news&utm_medium=mail&q=secret');
    }""")
    page.go_back()  # popstate back to /spa/two
    page.wait_for_url("**/spa/two")
    page.evaluate("history.pushState({}, '', '/private/account')")  # excluded
    page.mouse.click(130, 215)  # on an excluded page: not recorded
    page.evaluate("history.pushState({}, '', '/spa/four')")
    page.close()
    events = site.wait_for(lambda ev: len(of_type(ev, "PageView")) >= 6)
    views = of_type(events, "PageView")
    assert [(v.p, v.ref) for v in views] == [
        ("/shop", ""),
        ("/spa/one", "/shop"),
        ("/spa/two", "/spa/one"),
        ("/spa/three", "/spa/two"),
        ("/spa/two", "/spa/three"),
        ("/spa/four", ""),
    ]
    assert views[3].utm == {"source": "news", "medium": "mail"}  # other parameters never sent
    assert len({v.pv for v in views}) == 6
    assert clicks(events) == []


def test_the_landing_page_sends_its_referrer_host_click_id_names_and_hostname(
    context: BrowserContext, site: Site
) -> None:
    site.pages["/land"] = SHOP.format(snippet=snippet_tag(site.collector.url, site.key))
    page = context.new_page()
    query = "?utm_source=google&utm_medium=cpc&gclid=SECRET1&fbclid=SECRET2&other=x"
    page.goto(site.origin + "/land" + query, referer="https://www.google.com/search?q=shoes")
    page.close()
    [view] = of_type(site.wait_for(lambda ev: len(of_type(ev, "PageView")) >= 1), "PageView")
    assert view.ref == "www.google.com"  # the host: never the referrer's path or query
    assert view.ck == ["gclid", "fbclid"]  # which ids, never their values
    assert view.utm == {"source": "google", "medium": "cpc"}
    assert view.host == "127.0.0.1"


def test_an_app_referrer_keeps_its_scheme(context: BrowserContext, site: Site) -> None:
    site.pages["/app"] = SHOP.format(snippet=snippet_tag(site.collector.url, site.key))
    page = context.new_page()
    # Chromium sends no Referer for a non-web scheme: the page is opened with it set, as the
    # Android Gmail app's custom tab does.
    page.add_init_script(
        "Object.defineProperty(document, 'referrer', {get: () => "
        "'android-app://com.google.android.gm/'})"
    )
    page.goto(site.origin + "/app")
    page.close()
    [view] = of_type(site.wait_for(lambda ev: len(of_type(ev, "PageView")) >= 1), "PageView")
    assert (view.ref, view.ck) == ("android-app://com.google.android.gm", [])


def test_rage_and_dead_clicks_and_scroll_depth(context: BrowserContext, site: Site) -> None:
    page = open_shop(context, site)
    page.evaluate("""() => document.getElementById('buy').addEventListener('click',
        () => document.body.appendChild(document.createElement('p')))""")
    for _ in range(4):
        page.mouse.click(500, 350)  # .card does nothing: a rage burst of dead clicks
    # Clicks are held 2.5 s (a DOM change or scroll meanwhile makes them alive): #buy changes the
    # page once the four were settled and sent, not after a fixed 2.8 s, which the page's timer
    # can overrun on a busy machine.
    card = "html>body>div.card"
    held = site.wait_for(lambda ev: sum(c.sel == card for c in clicks(ev)) == 4, timeout_s=20)
    assert sum(c.sel == card for c in clicks(held)) == 4
    page.mouse.click(130, 215)  # #buy changes the page: alive
    page.evaluate(SCROLL_TO, 1500)
    page.evaluate("history.pushState({}, '', '/next')")  # scroll depth is per page view
    page.close()
    events = site.wait_for(lambda ev: len(of_type(ev, "Scroll")) >= 2)
    [rage] = of_type(events, "RageClick")
    assert (rage.n, rage.x, rage.y, rage.sel) == (4, 500, 350, card)
    card_clicks = [c for c in clicks(events) if c.sel == card]
    assert len(card_clicks) == 4 and all(c.dead for c in card_clicks)
    [buy] = [c for c in clicks(events) if c.sel == "button#buy"]
    assert not buy.dead
    shop_scroll, next_scroll = of_type(events, "Scroll")
    assert (shop_scroll.depth, shop_scroll.dh, shop_scroll.vh) == (2220, 3000, 720)
    assert shop_scroll.pv == of_type(events, "PageView")[0].pv
    assert next_scroll.depth == 720  # the new page view starts again at the fold


def test_a_click_right_before_the_page_closes_is_delivered(
    context: BrowserContext, site: Site
) -> None:
    page = open_shop(context, site)
    page.mouse.click(130, 215)
    page.close()
    events = site.wait_for(lambda ev: len(clicks(ev)) == 1)
    assert [c.sel for c in clicks(events)] == ["button#buy"]


# The snippet retries with exponential backoff, jittered, 1 s to 60 s (0.5x to 1.5x): the longer
# the collector refused (a restart or a drain that takes a while on a busy machine), the longer
# it waits before the try that gets in, up to 90 s; 30 s was not always enough.
RETRIED_WITHIN_S = 100


def test_clicks_made_during_an_outage_arrive_exactly_once(
    context: BrowserContext, site: Site
) -> None:
    page = open_shop(context, site)
    site.collector.stop()
    for x in (130, 160, 190):
        page.mouse.click(x, 215)
    page.goto(site.origin + "/shop")  # leaves (beacon fails), then a new page, t.js from cache
    page.mouse.click(200, 230)
    site.collector.start()  # the new page resends the outbox, with backoff, until it gets in
    events = site.wait_for(lambda ev: len(clicks(ev)) >= 4, timeout_s=RETRIED_WITHIN_S)
    page.close()
    assert sorted(c.x for c in clicks(events)) == [130, 160, 190, 200]
    assert len({c.id for c in clicks(events)}) == 4


def test_a_refused_batch_is_retried_while_the_page_stays_idle(
    context: BrowserContext, site: Site
) -> None:
    """Nothing else happens on the page: only the backoff timer can send the batch again. (Its
    timer used to fire a fraction of a millisecond short of the retry time, find it not yet due
    and stop retrying: the click waited for the visitor's next event or page.)"""
    page = open_shop(context, site)
    refused: list[str] = []

    def refuse_three_times(route: Route) -> None:
        if len(refused) < 3:  # as an overloaded collector answers
            refused.append(route.request.method)
            route.fulfill(status=503, headers={"access-control-allow-origin": site.origin})
        else:
            route.continue_()

    page.route(f"{site.collector.url}/e", refuse_three_times)
    page.mouse.click(130, 215)  # sent by the 5-second timer, then retried after 1, 2 and 4 s
    deadline = time.monotonic() + 60  # the three backoffs take 10.5 s at most
    while not clicks(site.events()) and time.monotonic() < deadline:
        page.wait_for_timeout(200)  # Playwright calls let the route handler run meanwhile
    page.close()
    assert refused == ["POST"] * 3
    assert [(c.x, c.sel) for c in clicks(site.events())] == [(130, "button#buy")]


BUFFER_MAX = 1000  # the smallest bound the setting takes
METRICS_TOKEN = "snippet-test-metrics-token"


@pytest.mark.parametrize(
    ("collector_command", "collector_settings"),
    [
        (
            "collector",
            {
                "CLICKTRAIL_BUFFER_MAX": str(BUFFER_MAX),
                "CLICKTRAIL_RATE_IP_PER_S": "1e6",
                "CLICKTRAIL_METRICS_TOKEN": METRICS_TOKEN,
            },
        )
    ],
)  # no worker: the backlog stays until the test drains it
def test_a_batch_refused_while_the_buffer_is_full_arrives_once_it_drains(
    context: BrowserContext, site: Site
) -> None:
    with httpx.Client(base_url=site.collector.url, headers={"user-agent": BROWSER_UA}) as client:
        for _ in range(BUFFER_MAX):  # a backlog at the bound
            assert client.post("/e", json=batch(site.key, [pageview()])).status_code == 202
    page = open_shop(context, site)
    page.mouse.click(130, 215)
    page.goto(site.origin + "/shop")  # leaving sends the batch: refused, kept in the outbox
    wait_until(lambda: refused(site) >= 2, "the snippet's batch refused twice: buffer full")
    assert not clicks(site.events())

    drain(site)  # what a worker does: aggregate, then trim what every group has committed
    events = site.wait_for(lambda ev: len(clicks(ev)) >= 1, timeout_s=RETRIED_WITHIN_S)
    page.close()
    assert [(c.x, c.sel) for c in clicks(events)] == [(130, "button#buy")]  # sent again, once


def refused(site: Site) -> int:
    bearer = {"authorization": f"Bearer {METRICS_TOKEN}"}
    metrics = httpx.get(f"{site.collector.url}/metrics", headers=bearer, timeout=5).text
    found = re.search(r'clicktrail_collect_requests_total\{status="503"\} (\d+)', metrics)
    return int(float(found.group(1))) if found else 0


def drain(site: Site) -> None:
    done = site.collector.cli("worker", "--burst")
    assert done.returncode == 0, done.stderr
    client = redis.Redis(unix_socket_path=str(socket_path_for(site.collector.data_dir)))
    try:
        StreamReader(client, keys.WORKER_GROUP).trim(keys.events_stream("shop", 0))
    finally:
        client.close()


def wait_until(condition: Callable[[], bool], what: str, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout_s:.0f} s: {what}"
        time.sleep(0.1)


@pytest.mark.parametrize("signal", ["globalPrivacyControl", "doNotTrack"])
def test_opted_out_visitors_send_nothing(context: BrowserContext, site: Site, signal: str) -> None:
    value = "true" if signal == "globalPrivacyControl" else "'1'"
    context.add_init_script(
        f"Object.defineProperty(Navigator.prototype, '{signal}', {{get: () => {value}}})"
    )
    sent: list[str] = []
    context.on("request", lambda r: sent.append(r.url) if r.url.endswith("/e") else None)
    page = open_shop(context, site)
    page.mouse.click(130, 215)
    page.close()
    page = context.new_page()
    page.goto(site.origin + "/shop")
    page.wait_for_timeout(1000)
    assert sent == []
    assert site.events() == []


def test_the_owners_browser_sends_nothing_once_excluded(
    context: BrowserContext, site: Site
) -> None:
    sent: list[str] = []
    context.on("request", lambda r: sent.append(r.url) if r.url.endswith("/e") else None)

    def visit(url: str) -> Page:
        """A fresh page at `url`, clicked once."""
        site.pages[url.split("#")[0]] = SHOP.format(
            snippet=snippet_tag(site.collector.url, site.key)
        )
        page = context.new_page()
        page.goto(site.origin + url)
        page.mouse.click(130, 215)
        return page

    def quiet(*urls: str) -> None:
        sent.clear()
        for url in urls:
            visit(url).close()
        context.new_page().wait_for_timeout(1000)
        assert sent == [], f"{urls} sent events"

    visit("/shop").close()
    assert len(clicks(site.wait_for(lambda ev: len(clicks(ev)) == 1))) == 1, "counted at first"

    page = visit("/shop#clicktrail-ignore")  # the dashboard's "Exclude this browser" link
    assert page.url == site.origin + "/shop"  # the fragment is gone from the address bar
    assert page.evaluate("localStorage.clicktrail_ignore") == "true"
    page.close()
    quiet("/shop", "/other")

    visit("/other#clicktrail-track").close()  # counted again from there on
    assert len(clicks(site.wait_for(lambda ev: len(clicks(ev)) == 2))) == 2
    page = visit("/shop")
    page.evaluate("localStorage.clicktrail_ignore = 'true'")  # the README's console line
    page.close()  # its own click was made before the line: it counts
    assert len(clicks(site.wait_for(lambda ev: len(clicks(ev)) == 3))) == 3
    quiet("/shop", "/other")


def test_nothing_is_sent_before_consent_and_everything_after(
    context: BrowserContext, site: Site
) -> None:
    sent: list[str] = []
    context.on("request", lambda r: sent.append(r.url) if r.url.endswith("/e") else None)
    page = open_shop(context, site, consent="required")
    page.mouse.click(130, 215)
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    page.wait_for_timeout(1000)
    assert sent == []
    page.evaluate("clicktrail('consent', true)")
    events = site.wait_for(lambda ev: len(clicks(ev)) == 1)
    assert [c.sel for c in clicks(events)] == ["button#buy"]
    assert len(of_type(events, "PageView")) == 1


def test_an_error_inside_the_snippet_never_reaches_the_page(
    context: BrowserContext, site: Site
) -> None:
    context.add_init_script("CSS.escape = () => { throw new Error('sabotaged'); }")
    page = open_shop(context, site)
    page.evaluate("""() => { window.__clicked = 0;
        document.getElementById('buy').addEventListener('click', () => window.__clicked++); }""")
    page.mouse.click(130, 215)  # the snippet's selector code throws
    page.evaluate("clicktrail('event', 'signup', {plan: 'pro'})")
    assert page.evaluate("window.__clicked") == 1
    assert page.evaluate("window.__errors") == []
    page.close()
    events = site.wait_for(lambda ev: len(of_type(ev, "Custom")) == 1)
    [custom] = of_type(events, "Custom")
    assert (custom.name, custom.props) == ("signup", {"plan": "pro"})

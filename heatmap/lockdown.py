"""Keeps a page capture on the site's own origins: the page, its frames, its subresources and
every redirect hop. A capture runs where clicktrail runs, often beside internal services, so a
page that answers 302 to `http://10.0.0.2/admin` must not become a picture of that address.

Playwright's routes see a request once, not the hops of its redirects (Chromium follows those
by itself), so each allowed request is fetched here one hop at a time, every hop checked.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

if TYPE_CHECKING:
    from playwright.sync_api import Route

log = logging.getLogger(__name__)

MAX_REDIRECTS = 5
TRACKER_PATHS = ("/t.js", "/e")  # the snippet and the collector's ingest endpoint


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port
    default = {"http": 80, "https": 443}.get(parts.scheme)
    netloc = parts.hostname or ""
    if ":" in netloc:
        netloc = f"[{netloc}]"  # an IPv6 address
    if port is not None and port != default:
        netloc = f"{netloc}:{port}"
    return f"{parts.scheme}://{netloc}".lower()


class Lockdown:
    """A route handler for every request of a capture's browser context."""

    def __init__(self, origins: Collection[str]) -> None:
        self.origins = {origin_of(o) for o in origins}
        self.blocked: list[str] = []  # URLs refused, in order
        self.left: str | None = None  # where the page itself tried to go, off the origins
        self.redirect: str | None = None  # where the page itself asked to go, on the origins
        self.loaded = False  # set once the page has loaded: later navigations are refused

    def allows(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about"):
            return True  # no request leaves the browser
        return parts.scheme in ("http", "https") and origin_of(url) in self.origins

    def handle(self, route: Route) -> None:
        request = route.request
        navigation = request.is_navigation_request()
        main_frame = navigation and request.frame.parent_frame is None
        if urlsplit(request.url).path.endswith(TRACKER_PATHS):
            route.abort("blockedbyclient")  # a capture is not a visit
            return
        if not self.allows(request.url):
            self._refuse(route, request.url, main_frame)
            return
        if main_frame and self.loaded:  # a meta refresh or a script moving on: stay put
            route.abort("aborted")
            return
        from playwright.sync_api import Error  # the `browser` extra, only where pages are captured

        try:
            self._follow(route, request.url, main_frame)
        except Error as exc:  # the site did not answer: fail as the browser would
            refused = "ECONNREFUSED" in exc.message
            route.abort("connectionrefused" if refused else "failed")

    def _follow(self, route: Route, url: str, main_frame: bool) -> None:
        response = route.fetch(max_redirects=0)
        for _ in range(MAX_REDIRECTS + 1):
            location = response.headers.get("location")
            if not 300 <= response.status < 400 or location is None:
                route.fulfill(response=response)
                return
            url = urljoin(url, location)
            if not self.allows(url):
                self._refuse(route, url, main_frame)
                return
            if main_frame:  # followed by a navigation of our own, so the page's URL is right
                self.redirect = url
                route.abort("aborted")
                return
            response = route.fetch(url=url, max_redirects=0)
        self._refuse(route, url, main_frame)

    def _refuse(self, route: Route, url: str, main_frame: bool) -> None:
        self.blocked.append(url)
        if main_frame:
            self.left = url
        log.info("capture: refused %s (not on the site's origins)", url[:200])
        route.abort("blockedbyclient")

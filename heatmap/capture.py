"""Full-page screenshots in headless Chromium (Debian's, driven by Playwright), taken the way a
heatmap needs them: CSS pixels at one layout width, lazy content loaded, nothing mid-animation,
the page's own tracker blocked so that the capture is not counted as a visit, and every request
kept on the site's origins (heatmap/lockdown.py).

Playwright's sync API: call capture_page from a thread, not from inside a running event loop.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from collector.pages import BAND_EDGES_PX
from heatmap.lockdown import MAX_REDIRECTS, Lockdown, origin_of
from heatmap.screenshots import MAX_HEIGHT_PX, MAX_PIXELS, MAX_WIDTH_PX, MIN_WIDTH_PX

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright, Request, Response

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
VIEWPORT_HEIGHT_PX = 900
MOBILE_BELOW_PX = BAND_EDGES_PX[0]  # narrower viewports are emulated as touch phones
SETTLE_QUIET_MS = 300  # the network counts as idle after this long with no request in flight
SETTLE_MAX_MS = 3000  # ... or after this long, whatever is still loading
# Jump straight to each transition's end; Playwright's animations="disabled" does the same for
# CSS animations (finishing them, where `animation: none` would hide what fades in).
STILL_CSS = """*, *::before, *::after {
    transition: none !important;
    scroll-behavior: auto !important;
    caret-color: transparent !important;
}"""
# Scroll down a viewport at a time (re-reading the height as lazy content grows), then to the top.
SCROLL_THROUGH = """async ([limit]) => {
    const frame = () => new Promise((done) => requestAnimationFrame(() => {
        requestAnimationFrame(done);
    }));
    const height = () => Math.min(limit, document.documentElement.scrollHeight);
    for (let y = 0; y < height(); y += innerHeight) { scrollTo(0, y); await frame(); }
    scrollTo(0, height()); await frame();
    scrollTo(0, 0); await frame();
}"""
PAGE_HEIGHT = "Math.max(document.documentElement.scrollHeight, document.body?.scrollHeight ?? 0)"


class CaptureError(Exception):
    """The page could not be captured; the message says why."""


def capture_page(
    url: str,
    width: int,
    max_height: int = MAX_HEIGHT_PX,
    timeout_s: float = 30,
    origins: Collection[str] | None = None,
) -> bytes:
    """A PNG of the whole page at `width` CSS pixels (1 px each), cut at `max_height` and at
    what a stored screenshot may hold (MAX_PIXELS)."""
    return capture_pages([(url, width)], max_height, timeout_s, origins)[0]


def capture_pages(
    shots: list[tuple[str, int]],
    max_height: int = MAX_HEIGHT_PX,
    timeout_s: float = 30,
    origins: Collection[str] | None = None,
) -> list[bytes]:
    """PNGs of several (url, width) pages, with one browser launch for all of them. No request
    leaves `origins` (the site's; by default the pages' own)."""
    for url, width in shots:
        _check_request(url, width, max_height)
    allowed = set(origins) if origins is not None else {origin_of(url) for url, _ in shots}
    with Camera(timeout_s) as camera:
        return [camera.shoot(url, width, allowed, max_height) for url, width in shots]


def chromium_missing() -> str:
    """Why pages cannot be captured here, or "" when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return (
            "capturing pages needs Playwright: install clicktrail's `browser` extra "
            "(pip install 'clicktrail[browser]') and Debian's chromium package"
        )
    if not Path(CHROMIUM).exists():
        return (
            f"capturing pages needs Chromium at {CHROMIUM}: install Debian's chromium package "
            "(apt-get install chromium) and clicktrail's `browser` extra"
        )
    return ""


class Camera:
    """One headless Chromium, launched at the first capture and kept for those that follow (a
    new one after a crash). Playwright's sync API: use it from one thread only."""

    def __init__(self, timeout_s: float = 30) -> None:
        self.timeout_s = timeout_s
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None

    def __enter__(self) -> Camera:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def shoot(
        self,
        url: str,
        width: int,
        origins: Collection[str],
        max_height: int = MAX_HEIGHT_PX,
        same_path: bool = False,
    ) -> bytes:
        """A PNG of the page as capture_page takes it; with `same_path`, refused when the page
        sends the browser to another path (a login page, say)."""
        _check_request(url, width, max_height)
        missing = "" if self._browser else chromium_missing()
        if missing:
            raise CaptureError(missing)
        from playwright.sync_api import Error

        height = min(max_height, MAX_PIXELS // width)
        try:
            browser = self._open()
            return _shoot(browser, url, width, height, self.timeout_s, origins, same_path)
        except Error as exc:
            if self._browser is not None and not self._browser.is_connected():
                self.close()
            reason = exc.message.splitlines()[0] if exc.message else str(exc)
            raise CaptureError(f"could not capture {url}: {reason}") from None

    def _open(self) -> Browser:
        if self._browser is None:
            from playwright.sync_api import sync_playwright

            self._playwright = sync_playwright().start()
            self._browser = self._playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS
            )
        return self._browser

    def close(self) -> None:
        if self._playwright is None:
            return
        from playwright.sync_api import Error

        browser, playwright = self._browser, self._playwright
        self._browser = self._playwright = None
        try:
            if browser is not None:
                browser.close()
        except Error:
            pass  # gone already
        finally:
            if playwright is not None:
                playwright.stop()


def _check_request(url: str, width: int, max_height: int) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CaptureError(f"only http:// and https:// pages can be captured, not {url!r}")
    if not MIN_WIDTH_PX <= width <= MAX_WIDTH_PX:
        raise CaptureError(f"width must be {MIN_WIDTH_PX} to {MAX_WIDTH_PX} px, not {width}")
    if not 1 <= max_height <= MAX_HEIGHT_PX:
        raise CaptureError(f"max_height must be 1 to {MAX_HEIGHT_PX} px, not {max_height}")


def _shoot(
    browser: Browser,
    url: str,
    width: int,
    max_height: int,
    timeout_s: float,
    origins: Collection[str],
    same_path: bool = False,
) -> bytes:
    mobile = width < MOBILE_BELOW_PX
    context = browser.new_context(
        viewport={"width": width, "height": VIEWPORT_HEIGHT_PX},
        device_scale_factor=1,  # heatmap coordinates are CSS pixels
        is_mobile=mobile,
        has_touch=mobile,
        reduced_motion="reduce",
        service_workers="block",  # a service worker's requests would escape the route below
    )
    try:
        context.set_default_timeout(timeout_s * 1000)
        lockdown = Lockdown(origins)
        context.route("**/*", lockdown.handle)
        page = context.new_page()
        pending: set[Request] = set()
        # Playwright tags its handlers with an attribute, so they cannot be bound builtins.
        page.on("request", lambda request: pending.add(request))
        page.on("requestfinished", lambda request: pending.discard(request))
        page.on("requestfailed", lambda request: pending.discard(request))
        response = _open(page, lockdown, url)
        if response is not None and response.status >= 400:
            raise CaptureError(f"could not capture {url}: it answered HTTP {response.status}")
        if same_path and urlsplit(page.url).path != urlsplit(url).path:
            raise CaptureError(
                f"could not capture {url}: it led to {urlsplit(page.url).path[:200]} instead "
                "(a login page?)"
            )
        try:
            page.add_style_tag(content=STILL_CSS)
            page.evaluate(SCROLL_THROUGH, [max_height])
            _settle(page, pending)
            height = min(max_height, int(page.evaluate(PAGE_HEIGHT)))
        finally:
            _check_stayed(lockdown, url)  # a meta refresh or script that tried to leave
        return page.screenshot(
            full_page=True,
            clip={"x": 0, "y": 0, "width": width, "height": max(1, height)},
            animations="disabled",
        )
    finally:
        context.close()


def _open(page: Page, lockdown: Lockdown, url: str) -> Response | None:
    """Load `url`, following its redirects one navigation at a time (each one checked)."""
    from playwright.sync_api import Error

    for _ in range(MAX_REDIRECTS + 1):
        lockdown.redirect = None
        try:
            response = page.goto(url, wait_until="load")
        except Error:
            if lockdown.redirect is None:
                _check_stayed(lockdown, url)
                raise
        if lockdown.redirect is None:
            lockdown.loaded = True
            return response
        url = lockdown.redirect
    raise CaptureError(f"could not capture {url}: more than {MAX_REDIRECTS} redirects")


def _check_stayed(lockdown: Lockdown, url: str) -> None:
    if lockdown.left is not None:
        raise CaptureError(
            f"could not capture {url}: it leads off the site's origins, to {lockdown.left[:200]}"
        )


def _settle(page: Page, pending: set[Request]) -> None:
    """Wait until no request has been in flight for SETTLE_QUIET_MS, or SETTLE_MAX_MS passed."""
    deadline = time.monotonic() + SETTLE_MAX_MS / 1000
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        if pending:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= SETTLE_QUIET_MS / 1000:
            return
        page.wait_for_timeout(50)  # lets Playwright deliver the request events

"""Play planned visits (clicktrail.demo.visitors) in headless Chromium, on the demo shop's pages
with the real snippet: every click, scroll and navigation is the browser's own."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from clicktrail.demo.visitors import RAGE_CLICKS, Action, Visit
from heatmap.capture import CHROMIUM, CHROMIUM_ARGS

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext, Page

log = logging.getLogger(__name__)

ACTION_TIMEOUT_MS = 10_000
VISIT_TIMEOUT_S = 60.0
BEACON_GRACE_S = 1.0  # after the last page is left, before its context closes
# Scroll, and return once the scroll event has been dispatched (it comes a frame later), or at
# once when there is nowhere to go.
SCROLL_TO = """(fraction) => new Promise((done) => {
    const y = Math.round(fraction * (document.documentElement.scrollHeight - innerHeight));
    if (Math.abs(y - scrollY) < 1) return done();
    addEventListener('scroll', () => done(), {once: true});
    setTimeout(done, 250);
    scrollTo(0, y);
})"""
# Bring an element into view below the sticky header, and return its viewport box.
BOX_OF = """(selector) => {
    const el = document.querySelector(selector);
    const header = document.querySelector('.site-header').getBoundingClientRect().bottom;
    let r = el.getBoundingClientRect();
    if (!el.closest('.site-header') && (r.top < header || r.bottom > innerHeight)) {
        el.scrollIntoView({block: 'center'});
        r = el.getBoundingClientRect();
    }
    return [r.left, r.top, r.width, r.height];
}"""
# Type into a field or pick an option as a person would, as far as the page can tell.
ENTER = """([selector, value]) => {
    const el = document.querySelector(selector);
    el.focus();
    el.value = value;
    el.dispatchEvent(new Event('input', {bubbles: true}));
    el.dispatchEvent(new Event('change', {bubbles: true}));
}"""


def chromium_available() -> bool:
    """Whether Debian's Chromium and Playwright are both installed."""
    if not Path(CHROMIUM).is_file():
        return False
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return False
    return True


def drive_chromium(shop_url: str, visits: list[Visit], concurrency: int = 4) -> int:
    """Play the visits in headless Chromium, `concurrency` at a time; returns those completed."""
    return asyncio.run(_drive(shop_url.rstrip("/"), visits, concurrency))


async def _drive(shop_url: str, visits: list[Visit], concurrency: int) -> int:
    from playwright.async_api import async_playwright

    gate = asyncio.Semaphore(concurrency)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            done = await asyncio.gather(
                *(_visit_in(browser, shop_url, visit, i, gate) for i, visit in enumerate(visits))
            )
        finally:
            await browser.close()
    return sum(done)


async def _visit_in(
    browser: Browser, shop_url: str, visit: Visit, number: int, gate: asyncio.Semaphore
) -> bool:
    viewport = visit.viewport
    context: BrowserContext | None = None
    async with gate:
        try:
            context = await browser.new_context(
                viewport={"width": viewport.width, "height": viewport.height},
                screen={"width": viewport.screen[0], "height": viewport.screen[1]},
                is_mobile=viewport.device == "mobile",
                has_touch=viewport.touch,
                user_agent=visit.user_agent,
                reduced_motion="reduce",
            )
            context.set_default_timeout(ACTION_TIMEOUT_MS)
            page = await context.new_page()
            await asyncio.wait_for(_play(page, shop_url, visit), VISIT_TIMEOUT_S)
            done = True
        except Exception as exc:  # one broken visit must not stop the others
            first_line = (str(exc).splitlines() or [type(exc).__name__])[0]
            log.warning("visit %d failed: %s", number, first_line)
            done = False
    # The last page's beacon is on its way, unseen by Playwright: closing the context could
    # cancel it. Wait outside the gate, so that the next visit starts meanwhile.
    await asyncio.sleep(BEACON_GRACE_S)
    if context is not None:
        with contextlib.suppress(Exception):  # the browser may be gone: nothing left to close
            await context.close()
    return done


async def _play(page: Page, shop_url: str, visit: Visit) -> None:
    await page.goto(
        shop_url + visit.steps[0].path,
        referer=visit.referrer or None,
        wait_until="domcontentloaded",
    )
    for i, step in enumerate(visit.steps):
        for action in step.actions:
            if action.kind in ("go", "back"):
                await _leave_for(page, shop_url + visit.steps[i + 1].path, action, visit)
            else:
                await _act(page, action, visit.viewport.touch)
    await page.close()  # pagehide: the snippet beacons the last page's events


async def _leave_for(page: Page, url: str, action: Action, visit: Visit) -> None:
    if action.kind == "back":
        await page.go_back(wait_until="domcontentloaded")
    else:
        async with page.expect_navigation(wait_until="domcontentloaded"):
            await _tap(page, action, visit.viewport.touch)
    if page.url != url:
        raise RuntimeError(f"expected {url}, got to {page.url}")


async def _act(page: Page, action: Action, touch: bool) -> None:
    if action.kind == "scroll":
        await page.evaluate(SCROLL_TO, action.fraction)
    elif action.kind == "rage":
        x, y = await _point(page, action)
        for i in range(RAGE_CLICKS):
            await _press(page, x + i % 2 * 3, y - i % 2 * 2, touch)
    elif action.kind == "type":
        await page.evaluate(ENTER, [action.target, action.text])
    else:
        await _tap(page, action, touch)
        if action.kind == "choose":
            await page.evaluate(ENTER, [action.target, action.text])


async def _tap(page: Page, action: Action, touch: bool) -> None:
    x, y = await _point(page, action)
    await _press(page, x, y, touch)


async def _point(page: Page, action: Action) -> tuple[float, float]:
    left, top, width, height = await page.evaluate(BOX_OF, action.target)
    return left + width * action.at[0], top + height * action.at[1]


async def _press(page: Page, x: float, y: float, touch: bool) -> None:
    if touch:
        await page.touchscreen.tap(x, y)
    else:
        await page.mouse.click(x, y)

"""The demo's visitors without a browser: for each planned visit, the batches the snippet would
have sent (one per page view, as it beacons each page's events when the page is left), posted to
the collector's `POST /e`.

Clicks land where the shop's elements are: their boxes were measured in Chromium at each device's
reference width, and tests/clicktrail/demo/test_visitors.py checks them against it.
"""

from __future__ import annotations

import logging
import math
import os
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import NamedTuple

import msgspec

from clicktrail.demo import visitors as v
from clicktrail.demo.addresses import pick_addresses
from clicktrail.demo.shop import CATEGORIES, Product, featured, in_category, related
from collector.schema import CLICK_IDS, Batch, Click, Event, PageView, RageClick, Scroll

log = logging.getLogger(__name__)

Box = tuple[float, float, float, float]  # left, top, width, height in CSS px
Boxes = tuple[Box, Box, Box]  # by device, in DEVICES order
DEVICES = ("desktop", "tablet", "mobile")
REFERENCE_WIDTHS = (1280, 820, 390)  # px, of the layouts below
HEADER_HEIGHTS = (68, 68, 108)  # px: the sticky header hides what is under it
# The shop's elements: tag and box in the document (in the viewport for the sticky header, "*"),
# by page, measured in Chromium at the reference widths. Wider desktops centre the same layout;
# narrower phones squeeze it.
BOXES: dict[str, dict[str, tuple[str, Boxes]]] = {
    "*": {
        v.LOGO: ("a", ((72, 18, 241, 32), (32, 18, 241, 32), (16, 10, 238, 44))),
        v.nav_link("jackets"): ("a", ((345, 14, 89, 40), (305, 14, 89, 40), (16, 60, 85, 40))),
        v.nav_link("footwear"): ("a", ((440, 14, 108, 40), (400, 14, 108, 40), (107, 60, 104, 40))),
        v.nav_link("packs"): ("a", ((554, 14, 77, 40), (514, 14, 77, 40), (217, 60, 73, 40))),
        v.CART_LINK: ("a", ((1088, 14, 120, 41), (668, 14, 120, 41), (254, 12, 120, 41))),
    },
    "home": {
        v.HERO_CTA: ("a", ((72, 421, 171, 48), (32, 421, 171, 48), (16, 399, 171, 48))),
        v.NEWSLETTER_EMAIL: (
            "input",
            ((752, 2663, 285, 48), (448, 3039, 169, 48), (22, 3088, 191, 48)),
        ),
        v.NEWSLETTER_BUTTON: (
            "button",
            ((1047, 2663, 145, 48), (627, 3039, 145, 48), (223, 3088, 145, 48)),
        ),
    },
    "category": {
        v.SORT: ("select", ((1031, 396, 177, 48), (611, 396, 177, 48), (197, 396, 177, 48)))
    },
    "product": {
        v.CRUMB_CATEGORY: ("a", ((133, 91, 58, 16), (93, 91, 58, 16), (77, 131, 58, 16))),
        v.IMAGE: ("div", ((72, 136, 578, 578), (32, 136, 362, 362), (16, 168, 358, 340))),
        v.SIZE: ("select", ((706, 356, 200, 48), (426, 343, 200, 48), (16, 733, 358, 48))),
        v.ADD: ("button", ((706, 426, 502, 56), (426, 413, 362, 56), (16, 803, 358, 56))),
    },
    "cart": {
        v.QTY: ("input", ((293, 285, 80, 48), (253, 285, 80, 48), (193, 306, 80, 48))),
        v.COUPON: ("input", ((855, 393, 227, 48), (59, 631, 603, 48), (43, 704, 205, 48))),
        v.APPLY: ("button", ((1090, 393, 91, 48), (670, 631, 91, 48), (256, 704, 91, 48))),
        v.CHECKOUT: ("a", ((855, 457, 326, 48), (59, 695, 702, 48), (43, 768, 304, 48))),
        v.CONTINUE: ("a", ((72, 376, 189, 21), (32, 376, 189, 21), (16, 449, 189, 21))),
    },
    "checkout": {
        "#name": ("input", ((72, 277, 716, 48), (32, 277, 756, 48), (16, 276, 358, 48))),
        "#email": ("input", ((72, 367, 716, 48), (32, 367, 756, 48), (16, 367, 358, 48))),
        "#address": ("input", ((72, 519, 716, 48), (32, 519, 756, 48), (16, 519, 358, 48))),
        "#city": ("input", ((72, 609, 467, 48), (32, 609, 493, 48), (16, 609, 358, 48))),
        "#postcode": ("input", ((555, 609, 233, 48), (541, 609, 247, 48), (16, 700, 358, 48))),
        v.PLACE_ORDER_BUTTON: (
            "button",
            ((72, 788, 716, 56), (32, 788, 756, 56), (16, 903, 358, 56)),
        ),
        v.BACK_TO_CART: ("a", ((855, 401, 128, 21), (59, 1084, 128, 21), (43, 1199, 128, 21))),
    },
    "thanks": {
        v.THANKS_CONTINUE: ("a", ((527, 491, 226, 48), (297, 491, 226, 48), (82, 472, 226, 48)))
    },
}
DOCUMENT_HEIGHTS = {  # px, by device
    "home": (3072, 3480, 3739),
    "category": (1430, 1906, 2005),
    "product": (2223, 3189, 3753),
    "cart": (1143, 1409, 1742),
    "checkout": (1149, 1443, 1825),
    "thanks": (969, 1180, 1145),
}


@dataclass(frozen=True)
class Grid:
    """The product cards of a page: the first one's box, and the step to the next column, row."""

    sel: str  # the snippet's selector of a card, but for its :nth-of-type
    columns: tuple[int, int, int]
    first: Boxes
    step: tuple[tuple[float, float], tuple[float, float], tuple[float, float]]


GRIDS = {
    "home": Grid(
        "section#featured>div.product-grid:nth-of-type(2)>a.product-card",
        (3, 2, 2),
        ((72, 857, 360, 388), (32, 889, 364, 391), (16, 824, 172, 261)),
        ((388, 417), (392, 420), (186, 275)),
    ),
    "category": Grid(
        "section#listing>div.product-grid:nth-of-type(2)>a.product-card",
        (3, 2, 2),
        ((72, 468, 360, 388), (32, 468, 364, 391), (16, 468, 172, 261)),
        ((388, 417), (392, 419), (186, 275)),
    ),
    "product": Grid(
        "section#related>div.product-grid.four>a.product-card",
        (4, 2, 2),
        ((72, 1598, 268, 319), (32, 2071, 367, 394), (16, 2640, 172, 261)),
        ((290, 0), (389, 416), (186, 276)),
    ),
}


class Spot(NamedTuple):
    """Where an element is on a page, and what the snippet reports of it."""

    tag: str
    sel: str  # the snippet's selector of it
    box: Box  # in the document, or in the viewport when fixed
    fixed: bool


def locate(target: str, path: str, viewport: v.Viewport) -> Spot:
    """The spot of the element at selector `target` on the page at `path`."""
    kind, device = _page_kind(path), DEVICES.index(viewport.device)
    if target.startswith("a.product-card"):
        grid = GRIDS[kind]
        index = [p.id for p in _products(path)].index(int(target.split("/")[-1][:-2]))
        columns = grid.columns[device]
        left, top, width, height = grid.first[device]
        step_x, step_y = grid.step[device]
        box = (left + index % columns * step_x, top + index // columns * step_y, width, height)
        return Spot("a", f"{grid.sel}:nth-of-type({index + 1})", _fit(box, viewport), False)
    fixed = target in BOXES["*"]
    tag, boxes = BOXES["*" if fixed else kind][target]
    sel = f"{tag}{target}"
    if target.startswith("#nav"):
        slugs = [c.slug for c in CATEGORIES]
        sel = f"nav#nav>a.nav-link:nth-of-type({slugs.index(target.split('/')[-1][:-2]) + 1})"
    return Spot(tag, sel, _fit(boxes[device], viewport), fixed)


def document_height(path: str, viewport: v.Viewport) -> int:
    kind, device = _page_kind(path), DEVICES.index(viewport.device)
    height = DOCUMENT_HEIGHTS[kind][device]
    if kind == "category":  # measured with three products: a row less with two
        grid = GRIDS["category"]
        columns = grid.columns[device]
        rows_less = math.ceil(3 / columns) - math.ceil(len(_products(path)) / columns)
        height -= int(rows_less * grid.step[device][1])
    return height


def _page_kind(path: str) -> str:
    return "home" if path == "/" else path.split("/")[1]


def _products(path: str) -> list[Product]:
    """The product cards of a page, in order."""
    if path == "/":
        return featured()
    if path.startswith("/category/"):
        return in_category(path.rsplit("/", 1)[1])
    return related(int(path.rsplit("/", 1)[1]))


def _fit(box: Box, viewport: v.Viewport) -> Box:
    """A box measured at its device's reference width, at the viewport's width."""
    left, top, width, height = box
    device = DEVICES.index(viewport.device)
    reference, actual = REFERENCE_WIDTHS[device], viewport.width
    if device == 0:
        return (left + (actual - reference) / 2, top, width, height)
    return (left * actual / reference, top, width * actual / reference, height)


DEAD_MS = 2500  # the snippet calls a click dead when nothing changed this long after it
RAGE_GAP_MS = 160  # between the clicks of a rage burst
NAVIGATE_MS = (250.0, 900.0)  # from leaving a page to the next one's page view
LAST_PAGE_S = (1.5, 8.0)  # on the last page, after its last action
SPREAD_S = 900.0  # by default, visits end at random times within this long before now
ID_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
POST_TRIES = 8  # a batch refused with 429 or 503 is sent again, after the Retry-After


def post_visits(
    collector_url: str,
    site_key: str,
    origin: str,
    visits: list[v.Visit],
    seed: int,
    spread_s: float = SPREAD_S,
) -> int:
    """Post each visit's page views as batches to `POST /e`; returns the events accepted.
    Visits end at random times over the `spread_s` seconds before now (the collector must accept
    events that old: its max_event_age_s). Each visit comes from one of the demo's addresses,
    named in X-Forwarded-For (believed only by a collector that trusts 127.0.0.1 as a proxy)."""
    rng = random.Random(seed)
    endpoint = collector_url.rstrip("/") + "/e"
    now_ms = time.time() * 1000
    host = urllib.parse.urlsplit(origin).hostname or ""
    accepted = 0
    for visit, address in zip(visits, pick_addresses(len(visits), seed), strict=True):
        sid = _token()
        pages = page_events(visit, rng)
        shift = int(now_ms - rng.uniform(0, spread_s * 1000)) - pages[-1][-1].ts
        for events in pages:
            for event in events:
                event.ts += shift
                if isinstance(event, PageView):
                    event.host = host  # as the snippet sends location.hostname
            batch = Batch(site_key, int(time.time() * 1000), sid, events)
            accepted += _post(endpoint, batch, origin, visit.user_agent, address)
    return accepted


def page_events(visit: v.Visit, rng: random.Random) -> list[list[Event]]:
    """The events the snippet would send for each page view of the visit, timed in ms since the
    visit started."""
    return _Pages(visit, rng).events()


class _Pages:
    def __init__(self, visit: v.Visit, rng: random.Random) -> None:
        self.visit = visit
        self.viewport = visit.viewport
        self.rng = rng
        self.clock = 0.0

    def events(self) -> list[list[Event]]:
        pages: list[list[Event]] = []
        refs: list[str] = []
        steps = self.visit.steps
        for i, step in enumerate(steps):
            if i == 0:
                ref = self.visit.referrer.split("/")[2] if self.visit.referrer else ""
            elif steps[i - 1].actions[-1].kind == "back":
                ref = refs[i - 2]  # a page come back to keeps its first referrer
            else:
                ref = steps[i - 1].path.split("?")[0]
            refs.append(ref)
            pages.append(self.page(step, ref, last=i == len(steps) - 1))
            self.clock += self.rng.uniform(*NAVIGATE_MS)
        return pages

    def page(self, step: v.Step, ref: str, last: bool) -> list[Event]:
        width, height = self.viewport.width, self.viewport.height
        self.path, _, query = step.path.partition("?")
        self.pv = _token()
        self.dh = document_height(self.path, self.viewport)
        self.scroll_y, self.depth = 0.0, float(height)
        params = dict(urllib.parse.parse_qsl(query))
        utm = {k[4:]: value for k, value in params.items() if k.startswith("utm_")}
        click_ids = [name for name in CLICK_IDS if name in params]  # as the snippet sends them
        screen_width, screen_height = self.viewport.screen
        events: list[Event] = [
            PageView(
                *self.head(),
                ref=ref,
                vw=width,
                vh=height,
                sw=screen_width,
                sh=screen_height,
                utm=utm,
                ck=click_ids,
                dev=self.viewport.device,
            )
        ]
        times = []
        for action in step.actions:
            self.clock += action.wait_s * 1000
            times.append(self.clock)
        leave = self.clock + (self.rng.uniform(*LAST_PAGE_S) * 1000 if last else 0)
        scrolls = [t for a, t in zip(step.actions, times, strict=True) if a.kind == "scroll"]
        for action, at in zip(step.actions, times, strict=True):
            changed_at = min([t for t in scrolls if t > at] + [leave])
            events += self.act(action, at, dead=changed_at - at >= DEAD_MS)
        self.clock = leave
        events.append(
            Scroll(*self.head(), depth=round(self.depth), dh=self.dh, vh=height, vw=width)
        )
        return events

    def act(self, action: v.Action, at: float, dead: bool) -> list[Event]:
        if action.kind == "scroll":
            self.scroll_to(action.fraction * max(0, self.dh - self.viewport.height))
        if action.kind not in ("click", "choose", "go", "rage"):
            return []
        if action.kind != "rage":
            return [self.click(action, at, dead and action.kind != "go")]
        clicks: list[Event] = []
        for i in range(v.RAGE_CLICKS):  # jittered as in Chromium (chromium_visits._act)
            clicks.append(last := self.click(action, at + i * RAGE_GAP_MS, dead, i % 2))
        rage = RageClick(
            *self.head(),
            x=last.x,
            y=last.y,
            vw=last.vw,
            vh=last.vh,
            n=v.RAGE_CLICKS,
            sel=last.sel,
            fixed=last.fixed,
        )
        rage.ts = last.ts
        return [*clicks, rage]

    def click(self, action: v.Action, at: float, dead: bool, jitter: int = 0) -> Click:
        tag, sel, (left, top, width, height), fixed = locate(
            action.target, self.path, self.viewport
        )
        x = left + width * action.at[0] + jitter * 3
        y = top + height * action.at[1] - jitter * 2
        header = HEADER_HEIGHTS[DEVICES.index(self.viewport.device)]
        seen = (
            self.scroll_y + header <= top and top + height <= self.scroll_y + self.viewport.height
        )
        if not fixed and not seen:  # brought into view, as Chromium's visitors do
            self.scroll_to(top + height / 2 - self.viewport.height / 2)
        held = tag not in ("a", "input", "select")  # the snippet waits to see if it was dead
        click = Click(
            *self.head(),
            x=round(x),
            y=round(y),
            vw=self.viewport.width,
            vh=self.viewport.height,
            dh=self.dh,
            sel=sel,
            tag=tag,
            ox=round(x - left),
            oy=round(y - top),
            fixed=fixed,
            dead=held and dead,
            ptr="touch" if self.viewport.touch else "mouse",
        )
        click.ts = int(at)
        return click

    def scroll_to(self, y: float) -> None:
        height = self.viewport.height
        self.scroll_y = min(max(0.0, y), max(0.0, self.dh - height))
        self.depth = max(self.depth, self.scroll_y + height)

    def head(self) -> tuple[str, int, str, str]:
        """The fields every event has: id, ts, p (path) and pv (page view)."""
        return _token(), int(self.clock), self.path, self.pv


def _token() -> str:
    """A fresh id, as the snippet draws them: the seed must not make a second run's ids the
    first run's, which the collector would drop as duplicates."""
    return "".join(ID_ALPHABET[byte % 36] for byte in os.urandom(16))


def _post(endpoint: str, batch: Batch, origin: str, user_agent: str, address: str) -> int:
    """Events accepted of one batch; 429 and 503 replies are waited out, as the snippet does."""
    headers = {
        "Content-Type": "text/plain",
        "Origin": origin,
        "User-Agent": user_agent,
        "X-Forwarded-For": address,
    }
    request = urllib.request.Request(endpoint, msgspec.json.encode(batch), headers, method="POST")
    for attempt in range(POST_TRIES):
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return int(msgspec.json.decode(response.read())["accepted"])
        except urllib.error.HTTPError as exc:
            if exc.code not in (429, 503) or attempt == POST_TRIES - 1:
                log.warning("the collector refused a batch: %d %s", exc.code, exc.read()[:300])
                return 0
            time.sleep(min(float(exc.headers.get("Retry-After") or 1), 5.0))
    return 0

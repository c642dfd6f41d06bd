"""Simulated visitors of the demo shop: a pure planner of visits. Two ways play them:
clicktrail.demo.chromium_visits in headless Chromium with the real snippet, and
clicktrail.demo.synthetic as the snippet's batches posted to the collector."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from clicktrail.demo.shop import featured, in_category, product, related

# The funnel, as the share of the previous stage that goes on.
VIEW_PRODUCT = 0.70  # of all visits
ADD_TO_CART = 0.45  # of product viewers
CHECK_OUT = 0.55  # of cart viewers
PLACE_ORDER = 0.60  # of checkout viewers
LANDING_PRODUCT = 0.35  # of all visits: these view a product at once
RAGE_IMAGE = 0.08  # of product pages: four clicks on the picture, which does not zoom
TRY_COUPON = 0.25  # of cart pages; most who try rage-click the dead "Apply"

Device = Literal["desktop", "tablet", "mobile"]
ActionKind = Literal["click", "choose", "go", "back", "scroll", "rage", "type"]


@dataclass(frozen=True)
class Viewport:
    width: int
    height: int
    device: Device
    screen: tuple[int, int]

    @property
    def touch(self) -> bool:
        return self.device != "desktop"


VIEWPORTS: tuple[tuple[Viewport, float], ...] = (
    (Viewport(1280, 800, "desktop", (1920, 1080)), 0.30),
    (Viewport(1440, 900, "desktop", (2560, 1440)), 0.25),
    (Viewport(390, 844, "mobile", (390, 844)), 0.20),
    (Viewport(375, 667, "mobile", (375, 667)), 0.15),
    (Viewport(820, 1180, "tablet", (820, 1180)), 0.10),
)
NEWSLETTER_QUERY = "?utm_source=newsletter&utm_medium=email&utm_campaign=spring"
GOOGLE_AD_QUERY = "?utm_source=google&utm_medium=cpc&utm_campaign=winter&gclid=demo"
# Every channel the overview names has some visits: search, an ad, social, e-mail, an AI
# assistant, another site, and direct.
SOURCES: tuple[tuple[str, str, float], ...] = (  # referrer, landing query, share
    ("https://www.google.com/", "", 0.28),
    ("https://www.google.com/", GOOGLE_AD_QUERY, 0.08),
    ("https://www.bing.com/", "", 0.04),
    ("https://m.facebook.com/", "?fbclid=demo", 0.06),
    ("https://chatgpt.com/", "?utm_source=chatgpt.com", 0.04),
    ("https://news.example/", "", 0.08),
    ("", NEWSLETTER_QUERY, 0.12),
    ("", "", 0.30),
)


@dataclass(frozen=True)
class Action:
    """One thing a visitor does on a page. `target` is a CSS selector; `at` the point clicked in
    its box, as fractions of its width and height; `wait_s` the time spent before acting."""

    kind: ActionKind
    target: str = ""
    at: tuple[float, float] = (0.5, 0.5)
    fraction: float = 0.0  # scroll: how far down the scrollable height
    text: str = ""  # type: what is typed; choose: the option picked
    wait_s: float = 1.0


@dataclass(frozen=True)
class Step:
    """A page view: the URL path (with its query) and what happens there. A step that is not the
    last ends in a "go" or "back" action that leads to the next one."""

    path: str
    actions: tuple[Action, ...]


@dataclass(frozen=True)
class Visit:
    viewport: Viewport
    referrer: str  # "" when direct
    user_agent: str
    steps: tuple[Step, ...]

    def reached(self, prefix: str) -> bool:
        return any(step.path.startswith(prefix) for step in self.steps)


# Selectors of the shop's elements (see clicktrail/demo/shop_pages/).
LOGO, CART_LINK = "#logo", "#cart-link"
HERO_CTA, HERO_SECONDARY, JOURNAL = "#hero-cta", "#hero-secondary", "#journal-link"
NEWSLETTER_EMAIL, NEWSLETTER_BUTTON = "#newsletter-email", "#newsletter-button"
SORT, CRUMB_CATEGORY = "#sort", "#crumb-category"
IMAGE, SIZE, ADD = "#product-image", "#size", "#add-to-cart"
QTY, COUPON, APPLY = "#qty", "#coupon", "#apply-coupon"
CHECKOUT, CONTINUE = "#checkout-button", "#continue-shopping"
FIELDS = ("#name", "#email", "#address", "#city", "#postcode")
PLACE_ORDER_BUTTON, BACK_TO_CART, THANKS_CONTINUE = (
    "#place-order",
    "#back-to-cart",
    "#thanks-continue",
)
_WEBKIT = "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.{ios} Mobile/15E148 Safari/604.1"
_CHROME = "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{chrome}"
USER_AGENTS: dict[Device, tuple[str, ...]] = {  # filled in by _user_agent
    "desktop": (
        f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) {_CHROME} Safari/537.36",
        f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) {_CHROME} Safari/537.36",
        f"Mozilla/5.0 (X11; Linux x86_64) {_CHROME} Safari/537.36",
    ),
    "tablet": (f"Mozilla/5.0 (iPad; CPU OS 17_{{ios}} like Mac OS X) {_WEBKIT}",),
    "mobile": (
        f"Mozilla/5.0 (iPhone; CPU iPhone OS 17_{{ios}} like Mac OS X) {_WEBKIT}",
        f"Mozilla/5.0 (Linux; Android {{android}}; Pixel {{pixel}}) {_CHROME} Mobile Safari/537.36",
    ),
}
FAKE_ENTRIES = ("Alex Example", "alex@example.com", "1 Trail Road", "Bend", "97701")
SIZES = ("S", "M", "M", "L", "L", "XL")


def nav_link(slug: str) -> str:
    return f'#nav a[href="/category/{slug}"]'


def card(product_id: int) -> str:
    return f'a.product-card[href="/product/{product_id}"]'


def plan_visits(n: int, seed: int) -> list[Visit]:
    """`n` visits through the shop, the same ones for the same seed."""
    rng = random.Random(seed)
    return [_plan_visit(rng) for _ in range(n)]


class _Journey:
    """Builds a visit's steps as the visitor moves through the shop."""

    def __init__(self, rng: random.Random, path: str) -> None:
        self.rng = rng
        self.paths = [path]
        self.steps: list[Step] = []
        self.actions: list[Action] = []

    @property
    def path(self) -> str:
        return self.paths[-1].split("?")[0]

    def act(
        self, kind: ActionKind, target: str = "", fraction: float = 0.0, text: str = ""
    ) -> None:
        at = (round(self.rng.uniform(0.2, 0.8), 3), round(self.rng.uniform(0.25, 0.75), 3))
        wait_s = round(self.rng.uniform(1.0, 6.0), 2)
        self.actions.append(Action(kind, target, at, fraction, text, wait_s))

    def scroll(self, low: float, high: float) -> None:
        self.act("scroll", fraction=round(self.rng.uniform(low, high), 3))

    def go(self, target: str, path: str) -> None:
        self.act("go", target)
        self._next(path)

    def back(self) -> None:
        self.act("back")
        self._next(self.paths[-2])

    def type(self, target: str, text: str) -> None:
        self.act("click", target)
        self.act("type", target, text=text)

    def _next(self, path: str) -> None:
        self.steps.append(Step(self.paths[-1], tuple(self.actions)))
        self.paths.append(path)
        self.actions = []

    def end(self) -> tuple[Step, ...]:
        self.steps.append(Step(self.paths[-1], tuple(self.actions)))
        return tuple(self.steps)


def _plan_visit(rng: random.Random) -> Visit:
    viewport = _pick(rng, VIEWPORTS)
    referrer, query = _pick_source(rng)
    entry = rng.random()
    wants_product = entry < VIEW_PRODUCT
    if entry < LANDING_PRODUCT:
        journey = _Journey(rng, f"/product/{rng.randint(1, 8)}{query}")
    elif rng.random() < 0.6:
        journey = _Journey(rng, f"/{query}")
        _browse_home(journey, wants_product)
    else:
        slug = rng.choice(("jackets", "footwear", "packs"))
        journey = _Journey(rng, f"/category/{slug}{query}")
        _browse_category(journey, wants_product)
    if journey.path.startswith("/product/"):
        _shop_product(journey)
    return Visit(viewport, referrer, _user_agent(rng, viewport), journey.end())


def _pick(rng: random.Random, weighted: tuple[tuple[Viewport, float], ...]) -> Viewport:
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


def _pick_source(rng: random.Random) -> tuple[str, str]:
    referrer, query, _ = rng.choices(SOURCES, [s[2] for s in SOURCES])[0]
    return referrer, query


def _browse_home(journey: _Journey, wants_product: bool) -> None:
    rng = journey.rng
    journey.scroll(0.15, 0.5)
    if wants_product:
        if rng.random() < 0.7:
            journey.go(card(p := rng.choice(featured()).id), f"/product/{p}")
        else:
            journey.go(HERO_CTA, "/category/jackets")
            _browse_category(journey, wants_product)
        return
    choice = rng.random()
    if choice < 0.3:
        slug = rng.choice(("jackets", "footwear", "packs"))
        journey.go(nav_link(slug), f"/category/{slug}")
        _browse_category(journey, wants_product)
    elif choice < 0.4:
        journey.scroll(0.8, 1.0)
        journey.type(NEWSLETTER_EMAIL, "alex@example.com")
        journey.act("click", NEWSLETTER_BUTTON)  # does nothing: a dead click
    else:
        journey.scroll(0.5, 1.0)


def _browse_category(journey: _Journey, wants_product: bool) -> None:
    rng = journey.rng
    slug = journey.path.rsplit("/", 1)[1]
    if rng.random() < 0.15:
        journey.act("click", SORT)
    journey.scroll(0.1, 0.6)
    if wants_product:
        journey.go(card(p := rng.choice(in_category(slug)).id), f"/product/{p}")


def _shop_product(journey: _Journey) -> None:
    rng = journey.rng
    product_id = int(journey.path.rsplit("/", 1)[1])
    adds = rng.random() < ADD_TO_CART
    if rng.random() < 0.2:  # a look at a related product first
        journey.scroll(0.5, 0.9)
        product_id = rng.choice(related(product_id)).id
        journey.go(card(product_id), f"/product/{product_id}")
    journey.scroll(0.05, 0.35)
    if rng.random() < RAGE_IMAGE:
        journey.act("rage", IMAGE)
    if not adds:
        _leave_product(journey, product_id)
        return
    size = rng.choice(SIZES)
    journey.act("choose", SIZE, text=size)
    journey.go(ADD, f"/cart?add={product_id}&size={size}")
    _shop_cart(journey, product_id, size)


def _leave_product(journey: _Journey, product_id: int) -> None:
    choice = journey.rng.random()
    if choice < 0.3:
        slug = product(product_id).category
        journey.go(CRUMB_CATEGORY, f"/category/{slug}")
        journey.scroll(0.2, 0.8)
    elif choice < 0.4:
        journey.go(LOGO, "/")
        journey.scroll(0.2, 0.6)
    else:
        journey.scroll(0.4, 1.0)


def _shop_cart(journey: _Journey, product_id: int, size: str) -> None:
    rng = journey.rng
    if rng.random() < 0.2:
        journey.act("click", QTY)
    if rng.random() < TRY_COUPON:
        journey.type(COUPON, rng.choice(("SPRING10", "WELCOME", "FREESHIP")))
        journey.act("rage" if rng.random() < 0.7 else "click", APPLY)
    if rng.random() >= CHECK_OUT:
        choice = rng.random()
        if choice < 0.35:
            journey.go(CONTINUE, f"/category/{product(product_id).category}")
            journey.scroll(0.1, 0.5)
        elif choice < 0.65:
            journey.back()
            journey.scroll(0.1, 0.5)
        return
    journey.go(CHECKOUT, f"/checkout?item={product_id}&size={size}")
    _check_out(journey, product_id, size)


def _check_out(journey: _Journey, product_id: int, size: str) -> None:
    rng = journey.rng
    if rng.random() >= PLACE_ORDER:
        for target, text in list(zip(FIELDS, FAKE_ENTRIES, strict=True))[: rng.randint(0, 3)]:
            journey.type(target, text)
        if rng.random() < 0.2:
            journey.go(BACK_TO_CART, f"/cart?add={product_id}&size={size}")
        return
    for target, text in zip(FIELDS, FAKE_ENTRIES, strict=True):
        journey.type(target, text)
    journey.go(PLACE_ORDER_BUTTON, "/thanks")
    if rng.random() < 0.2:
        journey.go(THANKS_CONTINUE, "/")
        journey.scroll(0.1, 0.5)


RAGE_CLICKS = 4  # clicks in a "rage" action, in Chromium and in the synthetic batches


def _user_agent(rng: random.Random, viewport: Viewport) -> str:
    """A browser's user agent, varied so visitors do not all hash to one visitor id."""
    return rng.choice(USER_AGENTS[viewport.device]).format(
        chrome=f"{rng.randint(124, 131)}.0.{rng.randint(6300, 6800)}.{rng.randint(40, 220)}",
        ios=rng.randint(0, 6),
        android=rng.randint(12, 14),
        pixel=rng.randint(6, 8),
    )

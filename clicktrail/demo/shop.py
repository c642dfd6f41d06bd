"""The demo shop that `clicktrail demo` tracks: Northwind Outfitters, eight products in three
categories, with a cart and checkout that are purely navigational (state rides in query strings).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from jinja2 import Environment, PackageLoader
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

SIZES = ("XS", "S", "M", "L", "XL")
FREE_SHIPPING_USD = 100
SHIPPING_USD = 8


@dataclass(frozen=True)
class Category:
    slug: str
    name: str
    tagline: str
    hue: int  # of the banner, in degrees


@dataclass(frozen=True)
class Product:
    id: int
    category: str  # slug
    name: str
    price: int  # whole US dollars
    hue: int  # of the drawn placeholder image, in degrees
    rating: float
    reviews: int
    blurb: str


CATEGORIES = (
    Category("jackets", "Jackets", "Shells, down and fleece.", 150),
    Category("footwear", "Footwear", "Trail shoes, boots and more.", 25),
    Category("packs", "Packs", "For a day or a whole week.", 205),
)

PRODUCTS = (
    Product(
        1,
        "jackets",
        "Ridgeline Rain Shell",
        189,
        160,
        4.7,
        212,
        "A three-layer waterproof shell that breathes on the climb and seals out sideways "
        "rain on the ridge. Pit zips, a helmet-ready hood and taped seams throughout.",
    ),
    Product(
        2,
        "jackets",
        "Summit Down Parka",
        279,
        215,
        4.8,
        134,
        "800-fill responsibly sourced down under a water-resistant face fabric. Packs into "
        "its own pocket and keeps you warm at the hut long after the sun has gone.",
    ),
    Product(
        3,
        "jackets",
        "Trailhead Fleece",
        89,
        30,
        4.5,
        388,
        "A soft grid fleece that traps warmth and dumps heat when you move. The layer you "
        "will reach for on every cool morning, from the trailhead to the coffee shop.",
    ),
    Product(
        4,
        "footwear",
        "Granite Trail Runner",
        139,
        12,
        4.6,
        276,
        "A light, grippy trail shoe with a rock plate and sticky lugs. Drains fast after "
        "creek crossings and stays stable on loose descents.",
    ),
    Product(
        5,
        "footwear",
        "Alpine Hiking Boot",
        219,
        45,
        4.7,
        190,
        "Full-grain leather, a waterproof membrane and a supportive shank for long days "
        "with a heavy pack. Broken in within a weekend, not a season.",
    ),
    Product(
        6,
        "footwear",
        "Camp Slip-On",
        69,
        340,
        4.4,
        97,
        "An insulated, quilted slip-on for the tent, the hut and the drive home. The "
        "folding heel turns it into a clog when you step outside for stars.",
    ),
    Product(
        7,
        "packs",
        "Daypack 22L",
        99,
        190,
        4.6,
        451,
        "A ventilated back panel, a hydration sleeve and stretch side pockets that hold a "
        "one-litre bottle. Everything a day on the trail needs, nothing it does not.",
    ),
    Product(
        8,
        "packs",
        "Expedition Pack 55L",
        249,
        265,
        4.8,
        158,
        "An adjustable torso, a load-lifting hip belt and a floating lid for multi-day "
        "trips. Carries forty pounds like twenty-five, and opens from the front.",
    ),
)
FEATURED_IDS = (1, 4, 7, 2, 5, 8)  # home page order
RELATED_COUNT = 4


def product(product_id: int) -> Product:
    for item in PRODUCTS:
        if item.id == product_id:
            return item
    raise KeyError(product_id)


def category(slug: str) -> Category:
    for item in CATEGORIES:
        if item.slug == slug:
            return item
    raise KeyError(slug)


def featured() -> list[Product]:
    """The home page's cards, in order."""
    return [product(i) for i in FEATURED_IDS]


def in_category(slug: str) -> list[Product]:
    return [p for p in PRODUCTS if p.category == slug]


def related(product_id: int) -> list[Product]:
    """The "you may also like" cards of a product page: its category first, then the rest."""
    this = product(product_id)
    same = [p for p in PRODUCTS if p.category == this.category and p.id != this.id]
    other = [p for p in PRODUCTS if p.category != this.category]
    return (same + other)[:RELATED_COUNT]


def shop_app(script_tag: str) -> Starlette:
    """The shop, with `script_tag` (the tracker snippet) verbatim in every page's <head>."""
    env = Environment(loader=PackageLoader("clicktrail.demo", "shop_pages"), autoescape=True)
    # Markup: clicktrail builds the tag itself (site key, collector URL); no visitor writes it.
    env.globals.update(categories=CATEGORIES, script_tag=Markup(script_tag), sizes=SIZES)
    css = resources.files("clicktrail.demo").joinpath("shop_pages/shop.css").read_bytes()

    def render(name: str, **context: object) -> HTMLResponse:
        return HTMLResponse(env.get_template(name).render(**context))

    async def home(request: Request) -> Response:
        return render("home.html", page="home", products=featured())

    async def category_page(request: Request) -> Response:
        try:
            shown = category(request.path_params["slug"])
        except KeyError:
            raise HTTPException(404) from None
        return render(
            "category.html",
            page="category",
            category=shown,
            products=in_category(shown.slug),
            current=shown.slug,
        )

    async def product_page(request: Request) -> Response:
        item = _product_or_404(request.path_params["id"])
        return render(
            "product.html",
            page="product",
            product=item,
            category=category(item.category),
            related=related(item.id),
            current=item.category,
        )

    async def cart(request: Request) -> Response:
        item = _item_from(request, "add")
        return render("cart.html", page="cart", item=item, size=_size(request), **_totals(item))

    async def checkout(request: Request) -> Response:
        item = _item_from(request, "item")
        return render(
            "checkout.html", page="checkout", item=item, size=_size(request), **_totals(item)
        )

    async def thanks(request: Request) -> Response:
        if request.method == "POST":  # the order form: never read, so nothing typed is kept
            return RedirectResponse("/thanks", status_code=303)
        return render("thanks.html", page="thanks")

    async def stylesheet(request: Request) -> Response:
        return Response(
            css, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"}
        )

    routes = [
        Route("/", home),
        Route("/category/{slug}", category_page),
        Route("/product/{id}", product_page),
        Route("/cart", cart),
        Route("/checkout", checkout),
        Route("/thanks", thanks, methods=["GET", "POST"]),
        Route("/static/shop.css", stylesheet),
    ]
    return Starlette(routes=routes)


def _product_or_404(raw: str) -> Product:
    try:
        return product(int(raw))
    except (KeyError, ValueError):
        raise HTTPException(404) from None


def _item_from(request: Request, name: str) -> Product | None:
    raw = request.query_params.get(name)
    return _product_or_404(raw) if raw else None


def _size(request: Request) -> str:
    size = request.query_params.get("size", "M")
    return size if size in SIZES else "M"


def _totals(item: Product | None) -> dict[str, int]:
    subtotal = item.price if item else 0
    shipping = 0 if not item or subtotal >= FREE_SHIPPING_USD else SHIPPING_USD
    return {"subtotal": subtotal, "shipping": shipping, "total": subtotal + shipping}

"""The demo shop: every page renders with the snippet in its <head>, loads nothing from elsewhere,
and the checkout never takes in what is typed into it."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from clicktrail.demo.shop import PRODUCTS, featured, in_category, related, shop_app

TAG = '<script defer src="https://collector.example/t.js" data-site="ct_key&amp;1"></script>'
PAGES = [
    "/",
    "/category/jackets",
    "/category/footwear",
    "/category/packs",
    *[f"/product/{p.id}" for p in PRODUCTS],
    "/cart",
    "/cart?add=3&size=L",
    "/checkout?item=3&size=L",
    "/thanks",
]


@pytest.fixture
def shop() -> TestClient:
    return TestClient(shop_app(TAG))


@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_the_snippet_in_its_head_and_nothing_from_elsewhere(
    shop: TestClient, path: str
) -> None:
    response = shop.get(path)
    assert response.status_code == 200
    html = response.text
    head = html[: html.index("</head>")]
    assert head.count(TAG) == 1 and html.count("collector.example") == 1
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html.replace(TAG, ""))
    assert not re.search(r"url\((?!#)", html), "no CSS images fetched from anywhere"
    assert 'id="cart-link"' in html and 'id="nav"' in html  # the sticky header


def test_the_stylesheet_is_served_and_fetches_nothing(shop: TestClient) -> None:
    response = shop.get("/static/shop.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert "position: sticky" in response.text and "@media (max-width: 767px)" in response.text
    assert "url(" not in response.text and "@import" not in response.text


def test_a_size_that_is_not_sold_is_never_echoed(shop: TestClient) -> None:
    html = shop.get("/cart", params={"add": "1", "size": "<b>XXL</b>"}).text
    assert "Size M" in html and "XXL" not in html


@pytest.mark.parametrize("path", ["/product/9", "/product/x", "/category/hats", "/cart?add=99"])
def test_what_does_not_exist_is_a_404(shop: TestClient, path: str) -> None:
    assert shop.get(path).status_code == 404


def test_the_cart_holds_what_its_query_names(shop: TestClient) -> None:
    html = shop.get("/cart?add=6&size=XL").text
    assert "Camp Slip-On" in html and "Size XL" in html
    assert 'href="/checkout?item=6&amp;size=XL"' in html
    assert "Your cart is empty" in shop.get("/cart").text
    assert "$8" in html, "shipping under $100"


def test_placing_an_order_keeps_nothing_that_was_typed(shop: TestClient) -> None:
    checkout = shop.get("/checkout?item=1&size=M").text
    assert re.search(r'<form id="checkout-form" action="/thanks" method="post"', checkout)
    form = {"name": "Ada Secret", "email": "ada@secret.example", "address": "1 Hidden Lane"}
    response = shop.post("/thanks", data=form, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/thanks"
    thanks = shop.get("/thanks").text
    assert "Thank you for your order" in thanks and "Ada" not in thanks


def test_the_catalog_fills_every_grid() -> None:
    assert len(PRODUCTS) == 8 and len({p.id for p in PRODUCTS}) == 8
    assert [len(in_category(c)) for c in ("jackets", "footwear", "packs")] == [3, 3, 2]
    assert len(featured()) == 6
    for item in PRODUCTS:
        shown = related(item.id)
        assert len(shown) == 4 and item not in shown
        assert shown[0].category == item.category

"""Page templates and layout bands."""

from __future__ import annotations

import time

import pytest

from collector.pages import BANDS, PageTemplates, bands_of, normalize_path


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/", "/"),
        ("/cart/", "/cart"),
        ("/cart?coupon=X#top", "/cart"),
        ("//cart//items/", "/cart/items"),
        ("/product/123", "/product/:id"),
        ("/product/123/reviews/9", "/product/:id/reviews/:id"),
        ("/order/5f2b9c1e7a", "/order/:id"),
        ("/u/3fa85f64-5717-4562-b3fc-2c963f66afa6/settings", "/u/:id/settings"),
        ("/share/aB3dE6gH9jK2mN5pQ8", "/share/:id"),
        ("/blog/how-to-choose-shoes", "/blog/how-to-choose-shoes"),  # a slug, not an id
        ("/shoes/size-42", "/shoes/size-42"),
        ("/facade", "/facade"),  # hex letters only, no digit
    ],
)
def test_ids_collapse_by_themselves(path: str, template: str) -> None:
    assert PageTemplates().template(path) == template


def test_configured_rules_group_more_and_win() -> None:
    templates = PageTemplates(("/blog/*", "re:^/docs/v\\d+/.*$"))
    assert templates.template("/blog/how-to-choose-shoes") == "/blog/*"
    assert templates.template("/docs/v2/install/") == "re:^/docs/v\\d+/.*$"
    assert templates.template("/product/7") == "/product/:id"


@pytest.mark.parametrize("rule", ["blog/*", "re:([", "", "re:(?!/admin).*"])
def test_bad_rules_are_refused(rule: str) -> None:
    with pytest.raises(ValueError, match="page template"):
        PageTemplates((rule,))


@pytest.mark.parametrize(
    ("width", "band"),
    [
        (0, "mobile"),
        (375, "mobile"),
        (767, "mobile"),
        (768, "tablet"),
        (1023, "tablet"),
        (1024, "desktop"),
        (2560, "desktop"),
    ],
)
def test_bands_by_viewport_width(width: int, band: str) -> None:
    assert BANDS[int(bands_of(width))] == band


def test_normalize_path_keeps_case() -> None:
    assert normalize_path("/Cart/") == "/Cart"


def test_a_pathological_regex_rule_cannot_stall_on_a_hostile_path() -> None:
    # (a+)+$ backtracks exponentially in Python's re; RE2 answers in linear time.
    templates = PageTemplates(("re:/(a+)+$",))
    started = time.perf_counter()
    assert templates.template("/" + "a" * 5000 + "!") == "/" + "a" * 5000 + "!"
    assert time.perf_counter() - started < 0.5

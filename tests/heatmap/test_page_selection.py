"""The one page syntax over heatmaps' page templates: a glob or a regular expression selects the
templates whose names it matches (most viewed first), an exact path its own template, saying
so; nothing matched is a warning, never an error."""

from __future__ import annotations

import pytest

from collector.pages import PageTemplates
from heatmap.page_selection import select_pages

SEEN = [("/product/:id", 40), ("/product/:id/reviews", 7), ("/cart", 20), ("/blog/*", 3)]
TEMPLATES = PageTemplates(("/blog/*",))


@pytest.mark.parametrize(
    ("asked", "templates", "label"),
    [
        ("/product/*", ("/product/:id", "/product/:id/reviews"),
         "/product/* (/product/:id, /product/:id/reviews)"),
        ("re:^/product/.*", ("/product/:id", "/product/:id/reviews"),
         "re:^/product/.* (/product/:id, /product/:id/reviews)"),
        ("/product/:id", ("/product/:id",), "/product/:id"),
        ("/cart", ("/cart",), "/cart"),
        ("/blog/*", ("/blog/*",), "/blog/*"),  # a configured template is also a glob: itself
        ("/*", ("/product/:id", "/cart", "/product/:id/reviews", "/blog/*"),
         "/* (/product/:id, /cart, /product/:id/reviews and 1 more)"),
    ],
)  # fmt: skip
def test_a_pattern_selects_the_templates_whose_names_it_matches(
    asked: str, templates: tuple[str, ...], label: str
) -> None:
    selection = select_pages(asked, SEEN, TEMPLATES)
    assert (selection.templates, selection.label, selection.warnings) == (templates, label, [])


def test_an_exact_path_is_shown_as_its_template_saying_so() -> None:
    selection = select_pages("/product/1", SEEN, TEMPLATES)
    assert (selection.templates, selection.label) == (("/product/:id",), "/product/:id")
    assert selection.warnings == [
        "/product/1 is shown as its template /product/:id: heatmaps are kept per page template"
    ]


def test_matching_nothing_is_a_warning_with_no_template() -> None:
    selection = select_pages("/checkout/*", SEEN, TEMPLATES)
    assert selection.templates == ()
    assert selection.warnings_for(0, "desktop") == [
        "page /checkout/* matched no page template in this range"
    ]


def test_a_matched_template_without_page_views_in_the_band_says_so() -> None:
    selection = select_pages("/cart", SEEN, TEMPLATES)
    assert selection.warnings_for(0, "mobile") == [
        "page /cart matched no mobile page view in this range"
    ]


@pytest.mark.parametrize("asked", ["cart", "re:(", ""])
def test_a_pattern_that_cannot_be_read_is_a_value_error(asked: str) -> None:
    with pytest.raises(ValueError, match="page"):
        select_pages(asked, SEEN, TEMPLATES)

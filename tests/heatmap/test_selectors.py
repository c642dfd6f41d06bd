"""Selectors shortened for a person: whole parts from the right, never cut inside a part when
a part fits."""

from __future__ import annotations

from heatmap.selectors import short_selector

SELECTOR = "html>body>main#shop>div.grid:nth-of-type(2)>a.product"


def test_a_selector_that_fits_is_kept_whole() -> None:
    assert short_selector(SELECTOR, len(SELECTOR)) == SELECTOR


def test_a_long_selector_keeps_its_last_whole_parts_after_an_ellipsis() -> None:
    assert short_selector(SELECTOR, 40) == "…>div.grid:nth-of-type(2)>a.product"
    assert short_selector(SELECTOR, 20) == "…>a.product"
    assert short_selector(SELECTOR, 11) == "…>a.product"


def test_a_last_part_too_long_for_the_width_is_cut_from_the_left() -> None:
    assert short_selector(SELECTOR, 8) == "…product"
    assert len(short_selector("x" * 600, 40)) == 40

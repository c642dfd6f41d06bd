"""A first funnel for a site without one: its most viewed pages, as a block of clicktrail.toml
that reads back as written."""

from __future__ import annotations

import tomllib

from reports.scheduled.config import parse_report_config
from reports.scheduled.suggestion import funnel_toml, suggest_funnel


def test_the_four_most_viewed_pages_most_viewed_first() -> None:
    views = [("/cart", 25), ("/product/:id", 20), ("/", 40), ("/about", 2), ("/product/:id", 10)]
    views += [("/checkout", 18)]
    funnel = suggest_funnel(views)
    assert funnel is not None
    assert funnel.steps == ("/", "/product/:id", "/cart", "/checkout")


def test_the_block_reads_back_as_the_same_funnel_whatever_the_paths_hold() -> None:
    strange = ['/a"b', "/back\\slash", "/caf\u00e9", "/\U0001f600"]
    funnel = suggest_funnel([(page, 10 - i) for i, page in enumerate(strange)])
    assert funnel is not None
    block = funnel_toml(funnel)
    assert block.startswith("[funnels.main]\n")
    config = parse_report_config(tomllib.loads(block))
    assert config.funnels["main"] == funnel


def test_no_suggestion_from_fewer_than_two_usable_pages() -> None:
    assert suggest_funnel([("/", 3)]) is None
    assert suggest_funnel([("/", 3), ("/del\x7f", 9), ("(over limit)", 5)]) is None

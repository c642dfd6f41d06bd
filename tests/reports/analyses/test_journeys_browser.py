"""Journeys and A-to-B over visits made in Debian's Chromium with the real snippet, sent to the
real collector and filed by the worker: a reload, a return, a custom event and an open visit,
asserted as the exact JSON. The harness and its clocks: browser_visits.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser

from reports.analyses.journey_request import JourneyRequest, PathsRequest, run_journeys, run_paths
from tests.reports.analyses.browser_visits import MIN, Browsed, S, Shop, Visitor, browse_and_file

pytestmark = pytest.mark.slow


def browse(shop: Shop, t0: int) -> None:
    """Four visitors, one after the other."""
    one = Visitor(shop, t0)
    one.at(t0).go("/")
    one.at(t0 + 10 * S).go("/product/1")
    one.at(t0 + 20 * S).reload()
    one.at(t0 + 30 * S).go("/cart")
    one.at(t0 + 40 * S).go("/thanks")
    one.at(t0 + 50 * S).leave()

    two = Visitor(shop, t0 + 60 * S)
    two.at(t0 + 60 * S).go("/")
    two.at(t0 + 70 * S).go("/cart")
    two.at(t0 + 80 * S).go("/")
    two.at(t0 + 90 * S).go("/cart")
    two.at(t0 + 95 * S).event("add")
    two.at(t0 + 100 * S).leave()

    three = Visitor(shop, t0 + 120 * S)
    three.at(t0 + 120 * S).go("/product/2")
    three.at(t0 + 130 * S).leave()

    four = Visitor(shop, t0 + 20 * MIN)  # still open at the query's time
    four.at(t0 + 20 * MIN).go("/")
    four.at(t0 + 20 * MIN + 10 * S).go("/product/2")
    four.at(t0 + 20 * MIN + 20 * S).leave()


@pytest.fixture(scope="module")
def browsed(browser: Browser, redis_url: str) -> Iterator[Browsed]:
    """The four visits, browsed once for the module's tests and filed: by the query's time,
    visits one to three have ended, four has not."""
    browsed = browse_and_file(browser, redis_url, browse, closed=3)
    yield browsed
    browsed.client.close()


NODE_KEYS = (
    "id", "page", "event", "other", "visits", "ends", "in_progress", "beyond", "repeats",
    "returns", "goal", "median_next_s",
)  # fmt: skip


def nodes(*rows: tuple[Any, ...]) -> list[dict[str, Any]]:
    return [dict(zip(NODE_KEYS, row, strict=True)) for row in rows]


def test_the_open_map(browsed: Browsed) -> None:
    request = JourneyRequest(browsed.visits, steps=5)
    result = run_journeys(browsed.client, browsed.site, request, now_ms=browsed.now_ms)
    assert dict(result) == {
        **browsed.head,
        "mode": "open",
        "direction": "forward",
        "start": None,
        "end": None,
        "goal": None,
        "visits": 4,
        "never_reached": None,
        "warnings": [],
        # id, page, event, other, visits, ends, in_progress, beyond, repeats, returns, goal,
        # median_next_s
        "columns": [
            {"step": 1, "visits": 4, "ends": 1, "nodes": nodes(
                ("1:/", "/", None, False, 3, 0, 0, 0, 0, 0, None, 10.0),
                ("1:/product/:id", "/product/:id", None, False, 1, 1, 0, 0, 0, 0, None, None),
            )},
            # one's reload is one occurrence (a repeat); four is still on /product/2
            {"step": 2, "visits": 3, "ends": 0, "nodes": nodes(
                ("2:/product/:id", "/product/:id", None, False, 2, 0, 1, 0, 1, 0, None, 20.0),
                ("2:/cart", "/cart", None, False, 1, 0, 0, 0, 0, 0, None, 10.0),
            )},
            # two's return to / counts at the second /
            {"step": 3, "visits": 2, "ends": 0, "nodes": nodes(
                ("3:/", "/", None, False, 1, 0, 0, 0, 0, 1, None, 10.0),
                ("3:/cart", "/cart", None, False, 1, 0, 0, 0, 0, 0, None, 10.0),
            )},
            {"step": 4, "visits": 2, "ends": 2, "nodes": nodes(
                ("4:/cart", "/cart", None, False, 1, 1, 0, 0, 0, 1, None, None),
                ("4:/thanks", "/thanks", None, False, 1, 1, 0, 0, 0, 0, None, None),
            )},
            {"step": 5, "visits": 0, "ends": 0, "nodes": []},
        ],
        "edges": [
            {"from": "1:/", "to": "2:/product/:id", "visits": 2, "goal": None},
            {"from": "1:/", "to": "2:/cart", "visits": 1, "goal": None},
            {"from": "2:/product/:id", "to": "3:/cart", "visits": 1, "goal": None},
            {"from": "2:/cart", "to": "3:/", "visits": 1, "goal": None},
            {"from": "3:/", "to": "4:/cart", "visits": 1, "goal": None},
            {"from": "3:/cart", "to": "4:/thanks", "visits": 1, "goal": None},
        ],
    }  # fmt: skip


def test_the_map_from_the_cart_with_a_goal_and_events(browsed: Browsed) -> None:
    request = JourneyRequest(browsed.visits, start="/cart", goal="/thanks", events=True)
    result = run_journeys(browsed.client, browsed.site, request, now_ms=browsed.now_ms)
    assert dict(result) == {
        **browsed.head,
        "mode": "start",
        "direction": "forward",
        "start": "/cart",
        "end": None,
        "goal": "/thanks",
        "visits": 2,
        "never_reached": None,
        "warnings": [],
        "columns": [
            {"step": 1, "visits": 2, "ends": 0, "nodes": nodes(
                ("1:/cart", "/cart", None, False, 2, 0, 0, 0, 0, 0, 1, 10.0),
            )},
            {"step": 2, "visits": 2, "ends": 1, "nodes": nodes(
                ("2:/", "/", None, False, 1, 0, 0, 0, 0, 0, 0, 10.0),
                ("2:/thanks", "/thanks", None, False, 1, 1, 0, 0, 0, 0, 1, None),
            )},
            {"step": 3, "visits": 1, "ends": 0, "nodes": nodes(
                ("3:/cart", "/cart", None, False, 1, 0, 0, 0, 0, 1, 0, 5.0),
            )},
            {"step": 4, "visits": 1, "ends": 1, "nodes": nodes(
                ("4:event:add", None, "add", False, 1, 1, 0, 0, 0, 0, 0, None),
            )},
            {"step": 5, "visits": 0, "ends": 0, "nodes": []},
        ],
        "edges": [
            {"from": "1:/cart", "to": "2:/", "visits": 1, "goal": 0},
            {"from": "1:/cart", "to": "2:/thanks", "visits": 1, "goal": 1},
            {"from": "2:/", "to": "3:/cart", "visits": 1, "goal": 0},
            {"from": "3:/cart", "to": "4:event:add", "visits": 1, "goal": 0},
        ],
    }  # fmt: skip


def test_from_home_to_thanks(browsed: Browsed) -> None:
    request = PathsRequest(browsed.visits, "/", "/thanks")
    result = run_paths(browsed.client, browsed.site, request, now_ms=browsed.now_ms)
    head = browsed.head
    assert dict(result) == {
        "site": "shop",
        "start": "/",
        "end": "/thanks",
        "from": head["from"],
        "to": head["to"],
        "time_zone": "UTC",
        "as_of": head["as_of"],
        "visits_with_start": 3,
        "reached_end": 1,
        "never_reached": 2,  # two (/ twice, no /thanks) and four, still open
        "in_progress": 1,  # four
        "direct_share": 0.0,
        "warnings": [],
        "between": [  # one's /product/1 (reloaded) and /cart
            {"steps": "0", "min": 0, "max": 0, "visits": 0},
            {"steps": "1", "min": 1, "max": 1, "visits": 0},
            {"steps": "2", "min": 2, "max": 2, "visits": 1},
            {"steps": "3", "min": 3, "max": 3, "visits": 0},
            {"steps": "4", "min": 4, "max": 4, "visits": 0},
            {"steps": "5-6", "min": 5, "max": 6, "visits": 0},
            {"steps": "7-10", "min": 7, "max": 10, "visits": 0},
            {"steps": "11+", "min": 11, "max": None, "visits": 0},
        ],
        "time_s": {
            "median": 40.0,
            "p75": 40.0,
            "p90": 40.0,
            "histogram": [
                {"min_s": 0.0, "max_s": 1.0, "visits": 0},
                {"min_s": 1.0, "max_s": 2.0, "visits": 0},
                {"min_s": 2.0, "max_s": 5.0, "visits": 0},
                {"min_s": 5.0, "max_s": 10.0, "visits": 0},
                {"min_s": 10.0, "max_s": 20.0, "visits": 0},
                {"min_s": 20.0, "max_s": 50.0, "visits": 1},
            ],
        },
        "detours": [],
        "paths": [
            {"pages": ["/", "/product/:id", "/cart", "/thanks"], "other": False, "visits": 1},
            {"pages": None, "other": True, "visits": 0},
        ],
    }

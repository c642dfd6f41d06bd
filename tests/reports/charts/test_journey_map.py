"""The journey map's picture, on tiny hand-made results: heights in proportion to visits, Other
last, the Exit block grey at the bottom, colours by goal share, labels inside the image and
never over one another, backward maps mirrored."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest
from PIL import Image

from reports.analyses.journey_result import JourneyResult
from reports.charts.canvas import ACCENT, Canvas
from reports.charts.journey_layout import EXIT, NODE_W, lay_out
from reports.charts.journey_map import (
    ALL_REACHED,
    EXIT_GREY,
    OTHER,
    goal_colour,
    journey_map_chart,
    place_labels,
)


def node(node_id: str, visits: int, ends: int = 0, goal: int | None = None, **more: Any) -> Any:
    page = node_id.partition(":")[2]
    return {
        "id": node_id, "page": None if page == "other" else page, "event": None,
        "other": page == "other", "visits": visits, "ends": ends, "in_progress": 0,
        "beyond": 0, "repeats": 0, "returns": 0, "goal": goal, "median_next_s": 12.0, **more,
    }  # fmt: skip


def result(goal: str | None = None, direction: str = "forward") -> JourneyResult:
    """100 visits: 60 land on /, 30 on /product/:id, 10 elsewhere; 40 leave after step 1."""
    g = goal is not None
    return {
        "site": "shop", "from": "2026-11-25", "to": "2026-12-01", "time_zone": "UTC",
        "as_of": "2026-12-02T10:00:00+00:00", "direction": direction, "start": None,
        "mode": "end" if direction == "backward" else "open",
        "end": "/thanks" if direction == "backward" else None,
        "goal": goal, "visits": 100, "never_reached": None, "warnings": [],
        "columns": [
            {"step": 1, "visits": 100, "ends": 40, "nodes": [
                node("1:/", 60, ends=20, goal=30 if g else None),
                node("1:/product/:id", 30, ends=10, goal=0 if g else None),
                node("1:other", 10, ends=10, goal=0 if g else None),
            ]},
            {"step": 2, "visits": 60, "ends": 60, "nodes": [
                node("2:/cart", 60, ends=60, goal=30 if g else None),
            ]},
        ],
        "edges": [
            {"from": "1:/", "to": "2:/cart", "visits": 40, "goal": 30 if g else None},
            {"from": "1:/product/:id", "to": "2:/cart", "visits": 20, "goal": 0 if g else None},
        ],
    }  # fmt: skip


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"))


def near(image: np.ndarray, colour: tuple[int, int, int], within: int = 24) -> np.ndarray:
    """Pixels within `within` of the colour on every channel (edges are antialiased)."""
    return np.all(np.abs(image.astype(int) - colour) <= within, axis=-1)


def run_of(image: np.ndarray, x: int, colour: tuple[int, int, int]) -> list[tuple[int, int]]:
    """The vertical runs (first row, length) of `colour` down column x."""
    hit = near(image[:, x], colour)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], hit.astype(int), [0]])))
    return [(int(a), int(b - a)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def test_node_heights_are_in_proportion_to_visits() -> None:
    layout = lay_out(result(), 1280)
    heights = {b.id: b.height for b in layout.blocks}
    assert heights["1:/"] == pytest.approx(2 * heights["1:/product/:id"])
    assert heights["1:/"] == pytest.approx(6 * heights["1:other"])
    image = pixels(journey_map_chart(result()))
    x = round(next(b.x for b in layout.blocks if b.id == "1:/")) + NODE_W // 2
    home, product = run_of(image, x, ACCENT)
    assert home[1] == pytest.approx(2 * product[1], abs=2)
    assert home[1] == pytest.approx(heights["1:/"], abs=1)


def test_other_is_last_in_its_column_and_the_exit_block_grey_below_the_nodes() -> None:
    layout = lay_out(result(), 1280)
    first = [b.id for b in layout.blocks if b.column == 0]
    assert first == ["1:/", "1:/product/:id", "1:other"]
    second = [(b.id, b.kind) for b in layout.blocks if b.column == 1]
    assert second == [("2:/cart", "node"), ("2:exit", EXIT)]
    image = pixels(journey_map_chart(result()))
    other = next(b for b in layout.blocks if b.id == "1:other")
    exit_block = next(b for b in layout.blocks if b.id == "2:exit")
    assert tuple(image[round(other.top + other.height / 2), round(other.x) + 6]) == OTHER
    middle = round(exit_block.top + exit_block.height / 2)
    assert tuple(image[middle, round(exit_block.x) + 6]) == EXIT_GREY
    assert exit_block.height == pytest.approx(
        next(b for b in layout.blocks if b.id == "1:/").height * 40 / 60
    )


def test_links_leave_each_node_whole() -> None:
    layout = lay_out(result(), 1280)
    out: dict[str, float] = {}
    for link in layout.links:
        out[link.source] = out.get(link.source, 0) + link.width0
    for block in layout.blocks:
        if block.column == 0:
            assert out[block.id] == pytest.approx(block.height)  # edges and exits fill it


@pytest.mark.parametrize("width", [640, 1280, 2000])
def test_labels_stay_inside_the_image_and_apart(width: int) -> None:
    long = result()
    long["columns"][0]["nodes"][0]["page"] = "/a/very/long/path/" + "segment/" * 20 + "checkout"
    layout = lay_out(long, width)
    image = journey_map_chart(long, width)
    assert image.size == (width, layout.height)
    labels = place_labels(Canvas(width, layout.height), long, layout)
    assert {label.block for label in labels} >= {"1:/product/:id", "2:/cart", "2:exit"}
    for label in labels:
        assert 0 <= label.x and label.x + label.width <= width
        assert 0 <= label.top and label.bottom <= layout.height
    home = next(label for label in labels if label.block == "1:/")
    assert home.lines[0][0].startswith("…") and home.lines[0][0].endswith("/checkout")
    for a in labels:
        for b in labels:
            if a is not b and a.x == b.x:
                assert a.bottom <= b.top or b.bottom <= a.top


def test_with_a_goal_nodes_and_links_take_its_colour_and_a_legend() -> None:
    layout = lay_out(result("/thanks"), 1280)
    image = pixels(journey_map_chart(result("/thanks")))
    home = next(b for b in layout.blocks if b.id == "1:/")
    assert tuple(image[round(home.top + 5), round(home.x) + 6]) == goal_colour(0.5)
    assert goal_colour(1.0) == ALL_REACHED
    assert layout.height > lay_out(result(), 1280).height  # the legend's row
    bottom = image[layout.height - 40 :]
    assert np.any(near(bottom, ALL_REACHED, 8))


def test_a_backward_map_is_mirrored_to_read_towards_b() -> None:
    layout = lay_out(result(direction="backward"), 1280)
    step1 = next(b for b in layout.blocks if b.id == "1:/")
    step2 = next(b for b in layout.blocks if b.id == "2:/cart")
    assert step1.x > step2.x
    link = next(link for link in layout.links if link.source == "1:/")
    assert link.x0 == step1.x and link.x1 == step2.x + NODE_W


def test_an_empty_map_says_so() -> None:
    empty = copy.deepcopy(result())
    empty["visits"], empty["columns"], empty["edges"] = 0, [], []
    image = journey_map_chart(empty, 800)
    assert image.size[0] == 800

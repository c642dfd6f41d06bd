"""The A-to-B picture on a hand-made result: the direct bar first and dark, bars in proportion,
the time histogram from its first filled bin, detours by lift, and a result with nobody."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from reports.analyses.journey_result import PathsResult
from reports.charts.canvas import ACCENT
from reports.charts.paths_chart import DETOUR_BLUE, paths_chart


def result(reached: int = 40) -> PathsResult:
    between = [(0, 0, 20), (1, 1, 10), (2, 2, 0), (3, 3, 5), (4, 4, 5), (5, 6, 0), (7, 10, 0)]
    rows: list[Any] = [
        {"steps": str(lo) if lo == hi else f"{lo}-{hi}", "min": lo, "max": hi, "visits": n}
        for lo, hi, n in between
    ]
    rows.append({"steps": "11+", "min": 11, "max": None, "visits": 0})
    if not reached:
        for row in rows:
            row["visits"] = 0
    return {
        "site": "shop", "start": "/product/*", "end": "/thanks", "from": "2026-11-25",
        "to": "2026-12-01", "time_zone": "UTC", "as_of": "2026-12-02T10:00:00+00:00",
        "visits_with_start": 100, "reached_end": reached, "never_reached": 100 - reached,
        "in_progress": 0, "direct_share": 0.5 if reached else None, "warnings": [],
        "between": rows,
        "time_s": {
            "median": 30.0 if reached else None, "p75": 45.0 if reached else None,
            "p90": 80.0 if reached else None,
            "histogram": [
                {"min_s": 0.0, "max_s": 1.0, "visits": 0},
                {"min_s": 1.0, "max_s": 2.0, "visits": 0},
                {"min_s": 2.0, "max_s": 5.0, "visits": 0},
                {"min_s": 5.0, "max_s": 10.0, "visits": 0},
                {"min_s": 10.0, "max_s": 20.0, "visits": 10},
                {"min_s": 20.0, "max_s": 50.0, "visits": 20},
                {"min_s": 50.0, "max_s": 100.0, "visits": 10},
            ] if reached else [],
        },
        "detours": [
            {"page": "/help", "visits": 8, "lift": 3.0},
            {"page": "/a/very/long/path/" + "deep/" * 30 + "faq", "visits": 12, "lift": 1.5},
        ] if reached else [],
        "paths": [],
    }  # fmt: skip


def bar_heights(image: np.ndarray, colour: tuple[int, int, int]) -> list[int]:
    """Heights of the bars of exactly `colour`, left to right, in the upper histogram (the
    antialiased top edge of each, a few px, is not counted)."""
    panel = image[80:260]
    hit = np.all(panel == colour, axis=-1)
    columns = np.flatnonzero(hit.any(axis=0))
    starts = columns[np.flatnonzero(np.diff(np.concatenate([[-2], columns])) > 1)]
    return [int(hit[:, x + 3].sum()) for x in starts]


def test_the_direct_bar_is_dark_and_every_bar_is_in_proportion() -> None:
    image = np.asarray(paths_chart(result()).convert("RGB"))
    (direct,) = bar_heights(image, ACCENT)
    others = bar_heights(image, DETOUR_BLUE)
    assert len(others) == 3  # 1, 3 and 4 pages between; empty bins have no bar
    edge = 3
    assert direct + edge == pytest.approx(2 * (others[0] + edge), abs=2)  # 20 visits against 10
    assert others[1] + edge == pytest.approx((direct + edge) / 4, abs=2)
    assert others[1] == others[2]


@pytest.mark.parametrize("width", [320, 960, 1600])
def test_any_width_draws_and_nobody_reaching_b_is_said(width: int) -> None:
    assert paths_chart(result(), width).size[0] == width
    empty = np.asarray(paths_chart(result(reached=0), width).convert("RGB"))
    assert not np.any(np.all(empty == ACCENT, axis=-1))  # no bar at all

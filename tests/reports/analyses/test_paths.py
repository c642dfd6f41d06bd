"""From A to B (issue 17): the engine agrees with the plain oracle, and the rules read as
examples: steps between, time, detours and the most common paths."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.analyses.paths import AToB, find_paths, time_edges
from tests.reports.analyses.journey_oracle import Visit
from tests.reports.analyses.paths_oracle import a_to_b
from tests.reports.analyses.test_journeys import visit, visits, visits_of


def run(sample: list[Visit], detour_min_visits: int = 5) -> AToB:
    data, marks = visits_of(sample)
    assert marks.start is not None and marks.end is not None
    return find_paths(data, marks.start, marks.end, detour_min_visits)


def as_oracle(result: AToB) -> dict[str, object]:
    return {
        "visits_with_start": result.visits_with_start,
        "reached_end": result.reached_end,
        "between": [b.visits for b in result.between],
        "quantiles": [result.median_s, result.p75_s, result.p90_s],
        "histogram": [(h.min_s, h.max_s, h.visits) for h in result.histogram],
        "detours": [(d.item, d.visits, d.lift) for d in result.detours],
        "paths": [(p.items, p.visits) for p in result.paths],
    }


@settings(max_examples=200, deadline=None)
@given(sample=st.lists(visits(), max_size=14), least=st.integers(1, 3))
def test_engine_matches_oracle(sample: list[Visit], least: int) -> None:
    result = run(sample, least)
    expected = a_to_b(sample, least)
    got = as_oracle(result)
    assert got.pop("quantiles") == pytest.approx(expected.pop("quantiles"))
    got_detours, expected_detours = got.pop("detours"), expected.pop("detours")
    assert [d[:2] for d in got_detours] == [d[:2] for d in expected_detours]  # type: ignore[attr-defined]
    assert [d[2] for d in got_detours] == pytest.approx([d[2] for d in expected_detours])  # type: ignore[attr-defined]
    assert got == expected
    assert sum(result.between[k].visits for k in range(8)) == result.reached_end
    assert sum(p.visits for p in result.paths) == result.reached_end
    assert result.never_reached == result.visits_with_start - result.reached_end


def test_steps_between_count_occurrences_strictly_between_the_first_a_and_the_next_b() -> None:
    sample = [
        visit("/a", "/b", start="/a", end="/b"),  # direct
        visit("/a", "/p/1", "/p/1", "/b", start="/a", end="/b"),  # a reload is one step
        visit("/b", "/a", "/p/1", "/p/2", "/b", start="/a", end="/b"),  # the B before A is not it
        visit("/a", "/p/1", start="/a", end="/b"),  # never reached
        visit("/p/1", "/b", start="/a", end="/b"),  # no A: not counted
    ]
    result = run(sample)
    assert (result.visits_with_start, result.reached_end, result.never_reached) == (4, 3, 1)
    assert [(b.steps, b.visits) for b in result.between[:3]] == [("0", 1), ("1", 1), ("2", 1)]
    assert result.direct_share == pytest.approx(1 / 3)
    assert [b.steps for b in result.between] == ["0", "1", "2", "3", "4", "5-6", "7-10", "11+"]
    assert result.between[-1].max is None


def test_time_from_a_to_b_has_quantiles_and_a_histogram_on_1_2_5_steps() -> None:
    sample = [visit("/a", *["/p/1", "/p/2"] * k, "/b", start="/a", end="/b") for k in range(5)]
    result = run(sample)  # 1, 3, 5, 7 and 9 seconds from A to B
    assert [result.median_s, result.p75_s, result.p90_s] == pytest.approx([5.0, 7.0, 8.2])
    assert [(h.min_s, h.max_s, h.visits) for h in result.histogram] == [
        (0, 1, 0), (1, 2, 1), (2, 5, 1), (5, 10, 3),
    ]  # fmt: skip
    assert time_edges(0)[:2] == [0, 1]


def test_detours_lift_pages_that_long_paths_pass() -> None:
    direct = [visit("/a", "/b", start="/a", end="/b") for _ in range(5)]
    via_p = [visit("/a", "/p/1", "/b", start="/a", end="/b") for _ in range(5)]
    wandering = [
        visit("/a", "/p/1", "event:add", "/p/2", "/b", start="/a", end="/b") for _ in range(5)
    ]
    result = run(direct + via_p + wandering)
    # /p/:id: passed by 10 of 15; every long visit passes it: lift (5/5) / (10/15) = 1.5.
    # event:add: passed by 5 (at the threshold), all long: lift (5/5) / (5/15) = 3.
    assert [(d.item, d.visits) for d in result.detours] == [("event:add", 5), ("/p/:id", 10)]
    assert [d.lift for d in result.detours] == pytest.approx([3.0, 1.5])


def test_detours_need_five_visits_or_one_percent() -> None:
    sample = [visit("/a", "/p/1", "/b", start="/a", end="/b") for _ in range(4)]
    assert run(sample).detours == []
    assert [d.item for d in run(sample * 2).detours] == ["/p/:id"]
    assert run(sample * 2).detours[0].lift is None  # no visit took 3 or more steps between


def test_the_ten_most_common_paths_then_other() -> None:
    sample = [visit("/a", "/b", start="/a", end="/b")] * 3 + [
        visit("/a", "/p/1", "/b", start="/a", end="/b")
    ]
    result = run(sample)
    assert [(p.items, p.visits) for p in result.paths] == [
        (["/a", "/b"], 3), (["/a", "/p/:id", "/b"], 1), (None, 0),
    ]  # fmt: skip


def test_nobody_with_a_gives_empty_numbers() -> None:
    result = run([visit("/b", "/a", end="/b")])
    assert (result.visits_with_start, result.reached_end, result.median_s) == (0, 0, None)
    assert result.histogram == [] and result.detours == [] and result.direct_share is None
    assert np.all([b.visits == 0 for b in result.between])

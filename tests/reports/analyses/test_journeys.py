"""The journey map (issue 17): the engine agrees with the plain oracle in every mode, the
invariants hold on every result, and the rules read as examples."""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.analyses.journeys import JourneyMap, JourneyQuery, Visits, map_journeys
from reports.sessions.layout import offsets_of
from tests.reports.analyses.journey_oracle import Row, Visit, journey_map

# raw name -> (item, raw path id); both product pages share one template
RAW = {
    "/a": ("/a", 0),
    "/b": ("/b", 1),
    "/p/1": ("/p/:id", 2),
    "/p/2": ("/p/:id", 3),
    "event:buy": ("event:buy", -1),
    "event:add": ("event:add", -1),
}
ITEMS = sorted({item for item, _ in RAW.values()})
GAPS = st.sampled_from([0, 1, 2, 5, 30_000, 61_000])


def visit(*names: str, open: bool = False, start: str = "", end: str = "", goal: str = "") -> Visit:
    """A visit from raw names one second apart; anchors and goal by raw name."""
    rows = [
        Row(RAW[n][0], RAW[n][1], 1000 * i, n == start, n == end, n == goal)
        for i, n in enumerate(names)
    ]
    return Visit(rows, open)


def visits_of(visits: list[Visit]) -> tuple[Visits, JourneyQuery]:
    """The engine's input for the oracle's visits, and a query carrying their row marks."""
    rows = [row for v in visits for row in v.rows]
    data = Visits(
        offsets_of([len(v.rows) for v in visits]),
        np.array([ITEMS.index(r.item) for r in rows], dtype=np.int32),
        np.array([r.path for r in rows], dtype=np.int32),
        np.array([r.ts for r in rows], dtype=np.int64),
        np.array([v.open for v in visits], dtype=bool),
        ITEMS,
    )
    marks = {
        name: np.array([getattr(r, name) for r in rows], dtype=bool)
        for name in ("start", "end", "goal")
    }
    return data, JourneyQuery(start=marks["start"], end=marks["end"], goal=marks["goal"])


def run(
    visits: list[Visit],
    mode: str = "open",
    steps: int = 5,
    rows: int = 5,
    merge_templates: bool = False,
    goal: bool = False,
) -> JourneyMap:
    data, marks = visits_of(visits)
    query = JourneyQuery(
        steps,
        rows,
        merge_templates,
        marks.start if mode in ("start", "both") else None,
        marks.end if mode in ("end", "both") else None,
        marks.goal if goal else None,
    )
    return map_journeys(data, query)


def node(result: JourneyMap, node_id: str) -> dict[str, Any]:
    step = int(node_id.partition(":")[0])
    found = [n for n in result.columns[step - 1].nodes if n.id == node_id]
    assert len(found) == 1, node_id
    return dataclasses.asdict(found[0])


def check_invariants(result: JourneyMap) -> None:
    out = Counter[str]()
    goal_out = Counter[str]()
    for edge in result.edges:
        out[edge.source] += edge.visits
        goal_out[edge.source] += edge.goal or 0
        assert edge.visits > 0
        assert edge.goal is None or 0 <= edge.goal <= edge.visits
    for i, column in enumerate(result.columns):
        assert column.visits == sum(n.visits for n in column.nodes)
        assert column.ends == sum(n.ends for n in column.nodes)
        assert len({n.id for n in column.nodes}) == len(column.nodes)
        for n in column.nodes:
            assert n.visits == out[n.id] + n.ends + n.in_progress + n.beyond
            assert goal_out[n.id] <= (n.goal or 0)  # the rest reached it and stopped here
            assert n.beyond == 0 or i == len(result.columns) - 1
        if i + 1 < len(result.columns):
            following = result.columns[i + 1].visits
            assert following == column.visits - column.ends - sum(
                n.in_progress for n in column.nodes
            )
    assert result.visits == result.columns[0].visits


@st.composite
def visits(draw: st.DrawFn) -> Visit:
    n = draw(st.integers(0, 9))
    names = draw(st.lists(st.sampled_from(sorted(RAW)), min_size=n, max_size=n))
    times = np.cumsum(draw(st.lists(GAPS, min_size=n, max_size=n))).tolist()
    marks = [draw(st.tuples(st.booleans(), st.booleans(), st.booleans())) for _ in names]
    rows = [
        Row(RAW[name][0], RAW[name][1], t, *mark)
        for name, t, mark in zip(names, times, marks, strict=True)
    ]
    return Visit(rows, draw(st.booleans()))


@settings(max_examples=150, deadline=None)
@given(
    sample=st.lists(visits(), max_size=10),
    mode=st.sampled_from(["open", "start", "end", "both"]),
    steps=st.integers(2, 6),
    rows=st.integers(1, 4),
    merge_templates=st.booleans(),
    goal=st.booleans(),
)
def test_engine_matches_oracle(
    sample: list[Visit], mode: str, steps: int, rows: int, merge_templates: bool, goal: bool
) -> None:
    result = run(sample, mode, steps, rows, merge_templates, goal)
    expected = journey_map(sample, mode, steps, rows, merge_templates, goal)
    check_invariants(result)
    got = dataclasses.asdict(result)
    edges = got.pop("edges")
    key = [(int(e["source"].partition(":")[0]), e["source"], e["target"]) for e in edges]
    assert Counter(dict(zip(key, [e["visits"] for e in edges], strict=True))) == expected.pop(
        "edges"
    )
    goals = dict(zip(key, [e["goal"] for e in edges], strict=True))
    assert goals == (expected.pop("edge_goals") or dict.fromkeys(key))
    assert got == expected
    assert run(sample, mode, steps, rows, merge_templates, goal) == result  # deterministic


def test_a_reload_merges_into_one_occurrence() -> None:
    result = run([visit("/a", "/a", "/b")])
    assert [c.visits for c in result.columns] == [1, 1, 0, 0, 0]
    assert node(result, "1:/a") | {"median_next_s": None} == {
        "id": "1:/a",
        "page": "/a",
        "event": None,
        "other": False,
        "visits": 1,
        "ends": 0,
        "in_progress": 0,
        "beyond": 0,
        "repeats": 1,
        "returns": 0,
        "goal": None,
        "median_next_s": None,
    }
    assert node(result, "1:/a")["median_next_s"] == 2.0  # from the first view of /a
    assert node(result, "2:/b")["ends"] == 1


def test_pages_of_one_template_stay_apart_unless_merged() -> None:
    apart = run([visit("/p/1", "/p/2")])
    assert [n.id for c in apart.columns for n in c.nodes] == ["1:/p/:id", "2:/p/:id"]
    merged = run([visit("/p/1", "/p/2")], merge_templates=True)
    assert [n.id for c in merged.columns for n in c.nodes] == ["1:/p/:id"]
    assert node(merged, "1:/p/:id")["repeats"] == 1


def test_custom_events_never_merge() -> None:
    result = run([visit("event:buy", "event:buy")])
    assert node(result, "1:event:buy")["event"] == "buy"
    assert node(result, "1:event:buy")["page"] is None
    assert node(result, "2:event:buy")["returns"] == 1


def test_a_b_a_counts_a_return_at_the_second_a() -> None:
    result = run([visit("/a", "/b", "/a")])
    assert [node(result, i)["returns"] for i in ("1:/a", "2:/b", "3:/a")] == [0, 0, 1]


def test_an_open_visit_is_in_progress_not_an_exit() -> None:
    result = run([visit("/a", "/b", open=True), visit("/a", "/b")])
    assert node(result, "2:/b")["in_progress"] == 1
    assert node(result, "2:/b")["ends"] == 1
    assert result.columns[1].ends == 1


def test_other_is_counted_exactly_and_ties_break_by_label() -> None:
    sample = [visit("/b", "/a"), visit("/a", "/a"), visit("/p/1"), visit("event:add", "/b")]
    result = run(sample, rows=1)
    first = result.columns[0]
    assert [(n.id, n.visits) for n in first.nodes] == [("1:/a", 1), ("1:other", 3)]
    assert node(result, "1:other")["other"] is True
    assert node(result, "1:other")["page"] is None
    assert node(result, "1:other")["ends"] == 1
    assert {(e.source, e.target): e.visits for e in result.edges} == {
        ("1:other", "2:/a"): 1,
        ("1:other", "2:other"): 1,  # column 2 ties /a and /b: /a shows, /b is Other
    }


def test_visits_past_the_last_column_go_beyond() -> None:
    result = run([visit("/a", "/b", "/a", "/b")], steps=2)
    assert node(result, "2:/b")["beyond"] == 1
    assert node(result, "2:/b")["median_next_s"] == 1.0


def test_start_anchors_at_the_first_a_anywhere_in_the_visit() -> None:
    result = run([visit("/b", "/a", "/b", "/a", start="/a"), visit("/b")], mode="start")
    assert result.visits == 1
    assert [n.id for c in result.columns for n in c.nodes] == ["1:/a", "2:/b", "3:/a"]


def test_end_goes_backward_from_the_last_b() -> None:
    result = run([visit("/a", "/b", "/p/1", "/b", "/a", end="/b")], mode="end")
    assert result.direction == "backward"
    ids = [n.id for c in result.columns for n in c.nodes]
    assert ids == ["1:/b", "2:/p/:id", "3:/b", "4:/a"]
    assert node(result, "4:/a")["ends"] == 1  # the visit started here
    assert node(result, "3:/b")["returns"] == 1


def test_both_anchors_run_from_the_first_a_to_the_first_b_after_it() -> None:
    sample = [
        visit("/b", "/a", "/p/1", "/b", "/b", start="/a", end="/b"),
        visit("/a", "/p/1", start="/a", end="/b"),
        visit("/p/1", start="/a", end="/b"),
    ]
    result = run(sample, mode="both")
    assert (result.visits, result.never_reached) == (1, 1)
    assert [n.id for c in result.columns for n in c.nodes] == ["1:/a", "2:/p/:id", "3:/b"]
    assert node(result, "3:/b")["ends"] == 1


def test_goal_counts_visits_reaching_it_at_or_after_the_occurrence() -> None:
    result = run([visit("/a", "event:buy", "/b", goal="event:buy")], goal=True)
    assert [node(result, i)["goal"] for i in ("1:/a", "2:event:buy", "3:/b")] == [1, 1, 0]


@pytest.mark.parametrize(
    ("mode", "steps", "rows"),
    [("open", 1, 5), ("open", 11, 5), ("start", 21, 5), ("open", 5, 0), ("open", 5, 11)],
)
def test_out_of_range_steps_or_rows_are_refused(mode: str, steps: int, rows: int) -> None:
    with pytest.raises(ValueError, match=r"steps|rows"):
        run([visit("/a")], mode, steps, rows)


def test_anchored_maps_take_up_to_twenty_steps() -> None:
    assert len(run([visit("/a", start="/a")], "start", 20).columns) == 20

"""The vectorised engine agrees with the plain oracle on random sessions: re-entries, repeats,
ties, window edges, strict mode, in-progress units and range edges."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.analyses import funnel
from reports.analyses.funnel_table import FunnelQuery, compute_funnel
from reports.analyses.steps import parse_steps
from tests.reports.oracle import best_attempt
from tests.reports.tables import S, table_of

WINDOW = 100
NAMES = ["p:/a", "p:/b", "p:/c", "p:/d/1", "e:buy"]
STEPS = ["/a", "/b", "/c", "/d/*", "event:buy"]
# Gaps around the window's edges make chains that fit exactly, or miss by one.
GAPS = st.sampled_from([0, 0, 1, 5, 40, WINDOW - 1, WINDOW, WINDOW + 1])


@st.composite
def sessions(draw: st.DrawFn) -> S:
    n = draw(st.integers(1, 7))
    names = draw(st.lists(st.sampled_from(NAMES), min_size=n, max_size=n))
    gaps = draw(st.lists(GAPS, min_size=n, max_size=n))
    times = np.cumsum(gaps).tolist()
    return S([(1000 + t, name) for t, name in zip(times, names, strict=True)])


@settings(max_examples=300, deadline=None)
@given(
    units=st.lists(sessions(), max_size=8),
    steps=st.lists(st.sampled_from(STEPS), min_size=2, max_size=4),
    strict=st.booleans(),
    start=st.integers(900, 1300),
    length=st.integers(1, 600),
    now=st.integers(1000, 2000),
)
def test_engine_matches_oracle(
    units: list[S], steps: list[str], strict: bool, start: int, length: int, now: int
) -> None:
    query = FunnelQuery(steps, WINDOW, start, start + length, now, strict=strict)
    result, engine_units, outcome = compute_funnel(table_of(units), query)
    matchers = [_matcher(step) for step in parse_steps(steps)]
    expected = [
        best_attempt(u.events, matchers, WINDOW, start, start + length, now, strict) for u in units
    ]
    entered = [i for i, e in enumerate(expected) if e.level]
    assert outcome.unit.tolist() == entered
    assert outcome.level.tolist() == [expected[i].level for i in entered]
    assert outcome.open.tolist() == [expected[i].open for i in entered]
    for column, i in enumerate(entered):
        rows = outcome.rows[: expected[i].level, column]
        assert engine_units.ts[rows].tolist() == expected[i].times
    for k, row in enumerate(result["steps"]):
        assert row["entered"] == sum(e.level > k for e in expected)
        if k + 1 < len(steps):
            assert row["converted"] == sum(e.level > k + 1 for e in expected)
            here = [e for e in expected if e.level == k + 1]
            assert row["dropped"] == sum(not e.open for e in here)
            assert row["in_progress"] == sum(e.open for e in here)


def _matcher(step: Any) -> Any:
    prefix = "e:" if step.kind == "e:" else "p:"
    return lambda name: name.startswith(prefix) and step.matches(name[2:])


@settings(max_examples=150, deadline=None)
@given(
    units=st.lists(st.tuples(sessions(), st.integers(0, 3)), max_size=8),
    steps=st.lists(st.sampled_from(STEPS), min_size=2, max_size=4),
    strict=st.booleans(),
    now=st.integers(1000, 2000),
)
def test_visitor_units_match_the_oracle_on_each_visitors_merged_sessions(
    units: list[tuple[S, int]], steps: list[str], strict: bool, now: int
) -> None:
    """Visitor 0 means none was derived: such a session stays a unit of its own."""
    table_sessions = [S(s.events, visitor=v) for s, v in units]
    query = FunnelQuery(steps, WINDOW, 900, 1900, now, strict=strict, unit="visitor")
    result, _, outcome = compute_funnel(table_of(table_sessions), query)
    merged: dict[object, list[tuple[int, str]]] = {}
    for i, session in enumerate(table_sessions):
        merged.setdefault(session.visitor or f"lone-{i}", []).extend(session.events)
    matchers = [_matcher(step) for step in parse_steps(steps)]
    expected = [
        best_attempt(sorted(events, key=lambda e: e[0]), matchers, WINDOW, 900, 1900, now, strict)
        for events in merged.values()
    ]
    assert sorted(outcome.level.tolist()) == sorted(e.level for e in expected if e.level)
    assert [row["entered"] for row in result["steps"]] == [
        sum(e.level > k for e in expected) for k in range(len(steps))
    ]
    assert result["overall"]["in_progress"] == sum(e.open for e in expected)


@pytest.mark.parametrize("strict", [False, True])
def test_threads_split_at_unit_boundaries_and_change_nothing(
    monkeypatch: pytest.MonkeyPatch, strict: bool
) -> None:
    rng = np.random.default_rng(5)
    units = []
    for _ in range(3000):
        n = int(rng.integers(1, 9))
        times = 1000 + np.cumsum(rng.choice([0, 1, 30, WINDOW, WINDOW + 1], n))
        units.append(S([(int(t), str(rng.choice(NAMES))) for t in times]))
    query = FunnelQuery(["/a", "/b", "/a", "event:buy"], WINDOW, 1000, 5000, 1500, strict=strict)
    one, _, single = compute_funnel(table_of(units), query)
    monkeypatch.setattr(funnel, "PARALLEL_ROWS", 0)
    monkeypatch.setattr(funnel, "MAX_THREADS", 3)
    three, _, threaded = compute_funnel(table_of(units), query)
    assert one == three
    for field in ("unit", "level", "rows", "open"):
        assert np.array_equal(getattr(single, field), getattr(threaded, field)), field

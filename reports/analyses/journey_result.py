"""The journey map and A-to-B as the API, the CLI and the report carry them: typed JSON, in the
order their keys are printed (issue 17's contract), built from the engines' dataclasses."""

from __future__ import annotations

from typing import TypedDict

from reports.analyses.journeys import JourneyMap, JourneyNode
from reports.analyses.paths import AToB


class NodeJSON(TypedDict):
    id: str  # "{step}:{item}" or "{step}:other"
    page: str | None  # the page template; None for an event or Other
    event: str | None
    other: bool
    visits: int
    ends: int
    in_progress: int
    beyond: int
    repeats: int
    returns: int
    goal: int | None  # None without a goal
    median_next_s: float | None


class ColumnJSON(TypedDict):
    step: int
    visits: int
    ends: int
    nodes: list[NodeJSON]


EdgeJSON = TypedDict("EdgeJSON", {"from": str, "to": str, "visits": int, "goal": int | None})

# "from" is a keyword: the functional form, with the keys in the order they are printed.
JourneyResult = TypedDict(
    "JourneyResult",
    {
        "site": str,
        "from": str,
        "to": str,
        "time_zone": str,
        "as_of": str,
        "mode": str,
        "direction": str,
        "start": str | None,
        "end": str | None,
        "goal": str | None,
        "visits": int,
        "never_reached": int | None,
        "warnings": list[str],
        "columns": list[ColumnJSON],
        "edges": list[EdgeJSON],
    },
)


class BetweenJSON(TypedDict):
    steps: str
    min: int
    max: int | None
    visits: int


class TimeBinJSON(TypedDict):
    min_s: float
    max_s: float
    visits: int


class TimeJSON(TypedDict):
    median: float | None
    p75: float | None
    p90: float | None
    histogram: list[TimeBinJSON]


class DetourJSON(TypedDict):
    page: str
    visits: int
    lift: float | None


class PathJSON(TypedDict):
    pages: list[str] | None
    other: bool
    visits: int


PathsResult = TypedDict(
    "PathsResult",
    {
        "site": str,
        "start": str,
        "end": str,
        "from": str,
        "to": str,
        "time_zone": str,
        "as_of": str,
        "visits_with_start": int,
        "reached_end": int,
        "never_reached": int,
        "in_progress": int,
        "direct_share": float | None,
        "warnings": list[str],
        "between": list[BetweenJSON],
        "time_s": TimeJSON,
        "detours": list[DetourJSON],
        "paths": list[PathJSON],
    },
)


def node_json(node: JourneyNode) -> NodeJSON:
    return {
        "id": node.id,
        "page": node.page,
        "event": node.event,
        "other": node.other,
        "visits": node.visits,
        "ends": node.ends,
        "in_progress": node.in_progress,
        "beyond": node.beyond,
        "repeats": node.repeats,
        "returns": node.returns,
        "goal": node.goal,
        "median_next_s": node.median_next_s,
    }


def map_json(journeys: JourneyMap) -> tuple[list[ColumnJSON], list[EdgeJSON]]:
    columns: list[ColumnJSON] = [
        {
            "step": c.step,
            "visits": c.visits,
            "ends": c.ends,
            "nodes": [node_json(n) for n in c.nodes],
        }
        for c in journeys.columns
    ]
    edges: list[EdgeJSON] = [
        {"from": e.source, "to": e.target, "visits": e.visits, "goal": e.goal}
        for e in journeys.edges
    ]
    return columns, edges


def between_json(found: AToB) -> list[BetweenJSON]:
    return [
        {"steps": b.steps, "min": b.min, "max": b.max, "visits": b.visits} for b in found.between
    ]


def time_json(found: AToB) -> TimeJSON:
    return {
        "median": found.median_s,
        "p75": found.p75_s,
        "p90": found.p90_s,
        "histogram": [
            {"min_s": h.min_s, "max_s": h.max_s, "visits": h.visits} for h in found.histogram
        ],
    }


def detours_json(found: AToB) -> list[DetourJSON]:
    return [{"page": d.item, "visits": d.visits, "lift": d.lift} for d in found.detours]


def paths_json(found: AToB) -> list[PathJSON]:
    return [{"pages": p.items, "other": p.items is None, "visits": p.visits} for p in found.paths]

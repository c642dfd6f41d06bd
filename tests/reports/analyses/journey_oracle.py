"""A plain journey map: one visit at a time, lists in, counts out. It restates the rules of
reports.analyses.journeys without NumPy, so the engine can be checked against it."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Row:
    item: str  # "/product/:id" or "event:NAME"
    path: int  # raw path id; -1 for a custom event
    ts: int
    start: bool = False  # matches A
    end: bool = False  # matches B
    goal: bool = False


@dataclass(frozen=True)
class Visit:
    rows: list[Row]
    open: bool = False


@dataclass
class Occurrence:
    item: str
    ts: int
    first: int  # index of its first row in the visit
    size: int
    start: bool
    end: bool


def occurrences(visit: Visit, merge_templates: bool) -> list[Occurrence]:
    out: list[Occurrence] = []
    for i, row in enumerate(visit.rows):
        if out and row.path >= 0 and visit.rows[i - 1].path >= 0:
            before = visit.rows[i - 1]
            if row.path == before.path or (merge_templates and row.item == before.item):
                out[-1].size += 1
                out[-1].start = out[-1].start or row.start
                out[-1].end = out[-1].end or row.end
                continue
        out.append(Occurrence(row.item, row.ts, i, 1, row.start, row.end))
    return out


def sequence(occ: list[Occurrence], mode: str) -> list[Occurrence] | None:
    """The visit's occurrences in column order; None when the visit is left out; [] when it
    has an A but never reaches B (mode both)."""
    starts = [i for i, o in enumerate(occ) if o.start]
    ends = [i for i, o in enumerate(occ) if o.end]
    if mode == "open":
        return occ or None
    if mode == "start":
        return occ[starts[0] :] if starts else None
    if mode == "end":
        return list(reversed(occ[: ends[-1] + 1])) if ends else None
    if not starts:
        return None
    after = [i for i in ends if i > starts[0]]
    return occ[starts[0] : after[0] + 1] if after else []


def journey_map(
    visits: list[Visit], mode: str, steps: int, rows: int, merge_templates: bool, goal: bool
) -> dict[str, Any]:
    kept: list[tuple[Visit, list[Occurrence]]] = []
    never_reached = 0
    for visit in visits:
        seq = sequence(occurrences(visit, merge_templates), mode)
        if seq == []:
            never_reached += 1
        elif seq is not None:
            kept.append((visit, seq))
    columns = []
    edges: Counter[tuple[int, str, str]] = Counter()
    edge_goals: Counter[tuple[int, str, str]] = Counter()
    node_of: dict[int, str] = {}  # kept visit -> its node id in the previous column
    for c in range(steps):
        here = [(k, visit, seq) for k, (visit, seq) in enumerate(kept) if len(seq) > c]
        counts = Counter(seq[c].item for _, _, seq in here)
        top = sorted(counts, key=lambda item: (-counts[item], item))[:rows]
        nodes: dict[str, dict[str, Any]] = {}
        gaps: defaultdict[str, list[int]] = defaultdict(list)
        for k, visit, seq in here:
            o = seq[c]
            node_id = f"{c + 1}:{o.item}" if o.item in top else f"{c + 1}:other"
            node = nodes.setdefault(node_id, _empty(node_id, o.item not in top, goal))
            _count(node, visit, seq, c, steps)
            if len(seq) > c + 1:
                gaps[node_id].append(abs(seq[c + 1].ts - o.ts))
            if c:
                edges[(c, node_of[k], node_id)] += 1
                before = seq[c - 1]
                edge_goals[(c, node_of[k], node_id)] += goal and any(
                    r.goal for r in visit.rows[before.first :]
                )
            node_of[k] = node_id
        order = [f"{c + 1}:{item}" for item in top] + [f"{c + 1}:other"]
        for node_id, node in nodes.items():
            if gaps[node_id]:
                node["median_next_s"] = statistics.median(gaps[node_id]) / 1000
        column_nodes = [nodes[i] for i in order if i in nodes]
        columns.append(
            {
                "step": c + 1,
                "visits": len(here),
                "ends": sum(n["ends"] for n in column_nodes),
                "nodes": column_nodes,
            }
        )
    return {
        "mode": mode,
        "direction": "backward" if mode == "end" else "forward",
        "visits": len(kept),
        "never_reached": never_reached if mode == "both" else None,
        "columns": columns,
        "edges": edges,
        "edge_goals": edge_goals if goal else None,
    }


def _count(node: dict[str, Any], visit: Visit, seq: list[Occurrence], c: int, steps: int) -> None:
    """Count one visit into the node of its occurrence at column c."""
    o = seq[c]
    node["visits"] += 1
    if len(seq) == c + 1:
        node["in_progress" if visit.open else "ends"] += 1
    if len(seq) > c + 1 and c == steps - 1:
        node["beyond"] += 1
    node["repeats"] += o.size >= 2
    node["returns"] += any(p.item == o.item for p in seq[:c])
    if node["goal"] is not None:
        node["goal"] += any(r.goal for r in visit.rows[o.first :])


def _empty(node_id: str, other: bool, goal: bool) -> dict[str, Any]:
    item = node_id.partition(":")[2]
    event = item.removeprefix("event:") if item.startswith("event:") and not other else None
    return {
        "id": node_id,
        "page": None if other or event is not None else item,
        "event": event,
        "other": other,
        "visits": 0,
        "ends": 0,
        "in_progress": 0,
        "beyond": 0,
        "repeats": 0,
        "returns": 0,
        "goal": 0 if goal else None,
        "median_next_s": None,
    }

"""A plain A-to-B: one visit at a time, lists in, counts out. It restates the rules of
reports.analyses.paths without NumPy, so the engine can be checked against it."""

from __future__ import annotations

import math
import statistics
from collections import Counter
from typing import Any

from tests.reports.analyses.journey_oracle import Visit, occurrences

BINS = [(0, 0), (1, 1), (2, 2), (3, 3), (4, 4), (5, 6), (7, 10), (11, 10**9)]
EDGES = [0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000]


def a_to_b(visits: list[Visit], detour_min_visits: int = 5) -> dict[str, Any]:
    with_start = 0
    spans = []  # per visit that reached B: (between, seconds, items between, full path)
    for visit in visits:
        occ = occurrences(visit, merge_templates=False)
        starts = [i for i, o in enumerate(occ) if o.start]
        if not starts:
            continue
        with_start += 1
        a = starts[0]
        after = [i for i, o in enumerate(occ) if o.end and i > a]
        if not after:
            continue
        b = after[0]
        path = tuple(o.item for o in occ[a : b + 1])
        spans.append((b - a - 1, (occ[b].ts - occ[a].ts) / 1000, set(path[1:-1]), path))
    reached = len(spans)
    seconds = [s for _, s, _, _ in spans]
    return {
        "visits_with_start": with_start,
        "reached_end": reached,
        "between": [sum(lo <= n <= hi for n, _, _, _ in spans) for lo, hi in BINS],
        "quantiles": [_quantile(seconds, q) for q in (50, 75, 90)],
        "histogram": _histogram(seconds),
        "detours": _detours(spans, detour_min_visits),
        "paths": _paths(spans),
    }


def _quantile(values: list[float], q: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def _histogram(seconds: list[float]) -> list[tuple[float, float, int]]:
    if not seconds:
        return []
    last = max(k for k in range(len(EDGES) - 1) if EDGES[k] <= max(seconds))
    return [
        (EDGES[k], EDGES[k + 1], sum(EDGES[k] <= s < EDGES[k + 1] for s in seconds))
        for k in range(last + 1)
    ]


def _detours(spans: list[Any], least: int) -> list[tuple[str, int, float | None]]:
    reached = len(spans)
    long = [items for n, _, items, _ in spans if n >= 3]
    passing = Counter(item for _, _, items, _ in spans for item in items)
    out = []
    for item, n in passing.items():
        if n >= max(least, math.ceil(0.01 * reached)):
            lift = (sum(item in s for s in long) / len(long)) / (n / reached) if long else None
            out.append((item, n, lift))
    out.sort(key=lambda d: (-(d[2] if d[2] is not None else -1.0), -d[1], d[0]))
    return out


def _paths(spans: list[Any]) -> list[tuple[list[str] | None, int]]:
    counts = Counter(path for _, _, _, path in spans)
    ranked = sorted(counts.items(), key=lambda pair: (-pair[1], list(pair[0])))
    top: list[tuple[list[str] | None, int]] = [(list(p), n) for p, n in ranked[:10]]
    return [*top, (None, sum(n for _, n in ranked[10:]))]

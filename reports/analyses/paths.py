"""From A to B: how many steps and how long visits take between two pages, and where they wander.

Pure NumPy over the same visits and occurrences as the journey map (reports.analyses.journeys:
reloads merge into one occurrence). The contract (issue 17):

- Among visits with an occurrence matching A, those with an occurrence matching B after their
  first A reached B; `never_reached` is the rest.
- `between`: the occurrences strictly between that first A and the first B after it, in bins.
- Time from that A to that B (first rows): median, p75, p90 (linear between closest ranks) and
  a histogram on 1-2-5 steps of seconds.
- Detours: items met between A and B by at least max(5, 1 %) of the visits that reached B;
  `lift` = (share of the long ones, 3 or more between, that pass it) / (share of all that do).
- The 10 most common full paths from A to B, then one Other row with the rest.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from reports.analyses.journeys import BoolArray, Visits, first_after, merge_occurrences
from reports.sessions.layout import IntArray

BETWEEN_BINS: tuple[tuple[int, int | None], ...] = (
    (0, 0), (1, 1), (2, 2), (3, 3), (4, 4), (5, 6), (7, 10), (11, None),
)  # fmt: skip
LONG_DETOUR = 3  # items between A and B from which a path counts as long, for `lift`
DETOUR_MIN_VISITS, DETOUR_MIN_SHARE = 5, 0.01
TOP_PATHS = 10


@dataclass(frozen=True)
class BetweenBin:
    steps: str  # "0", "5-6", "11+"
    min: int
    max: int | None
    visits: int


@dataclass(frozen=True)
class TimeBin:
    min_s: float
    max_s: float
    visits: int


@dataclass(frozen=True)
class Detour:
    item: str
    visits: int
    lift: float | None  # None when no visit took 3 or more steps between


@dataclass(frozen=True)
class PathRow:
    items: list[str] | None  # None: the Other row
    visits: int


@dataclass(frozen=True)
class AToB:
    visits_with_start: int
    reached_end: int
    between: list[BetweenBin]
    median_s: float | None
    p75_s: float | None
    p90_s: float | None
    histogram: list[TimeBin]
    detours: list[Detour]
    paths: list[PathRow]

    @property
    def never_reached(self) -> int:
        return self.visits_with_start - self.reached_end

    @property
    def direct_share(self) -> float | None:
        return self.between[0].visits / self.reached_end if self.reached_end else None


def find_paths(
    visits: Visits, start: BoolArray, end: BoolArray, detour_min_visits: int = DETOUR_MIN_VISITS
) -> AToB:
    """A to B over `visits`; `start` and `end` say per row whether it matches A or B."""
    occ = merge_occurrences(visits, merge_templates=False)
    _, a, b = first_after(occ, start, end)
    reached = b >= 0
    a, b = a[reached], b[reached]
    between = b - a - 1
    seconds = (occ.ts[b] - occ.ts[a]) / 1000
    quantiles = [_quantile(seconds, q) for q in (0.5, 0.75, 0.9)]
    return AToB(
        visits_with_start=len(reached),
        reached_end=len(a),
        between=_between_bins(between),
        median_s=quantiles[0],
        p75_s=quantiles[1],
        p90_s=quantiles[2],
        histogram=_histogram(seconds),
        detours=_detours(occ.item, a, b, visits.items, detour_min_visits),
        paths=_paths(occ.item, a, b, visits.items),
    )


def _between_bins(between: IntArray) -> list[BetweenBin]:
    out = []
    for low, high in BETWEEN_BINS:
        inside = between >= low if high is None else (between >= low) & (between <= high)
        label = f"{low}+" if high is None else str(low) if low == high else f"{low}-{high}"
        out.append(BetweenBin(label, low, high, int(inside.sum())))
    return out


def _quantile(values: np.ndarray, q: float) -> float | None:
    """Linear between the closest ranks (numpy's default, statistics' "inclusive")."""
    return float(np.quantile(values, q)) if len(values) else None


def time_edges(longest_s: float) -> list[float]:
    """0, 1, 2, 5, 10, 20, 50, ... seconds, up to past `longest_s`."""
    edges = [0.0]
    decade = 1.0
    while edges[-1] <= longest_s:
        edges += [decade, 2 * decade, 5 * decade]
        decade *= 10
    return edges


def _histogram(seconds: np.ndarray) -> list[TimeBin]:
    """Visits per 1-2-5 bin [min_s, max_s), from 0 s to the bin of the longest."""
    if not len(seconds):
        return []
    edges = np.array(time_edges(float(seconds.max())))
    counts = np.bincount(np.searchsorted(edges, seconds, side="right") - 1, minlength=len(edges))
    last = int(np.flatnonzero(counts).max())
    return [TimeBin(float(edges[k]), float(edges[k + 1]), int(counts[k])) for k in range(last + 1)]


def _detours(
    item: np.ndarray, a: IntArray, b: IntArray, items: list[str], min_visits: int
) -> list[Detour]:
    """Items between A and B, each counted once per visit."""
    reached = len(a)
    lengths = b - a - 1
    owner = np.repeat(np.arange(reached), lengths)
    inner = np.repeat(a + 1 - np.cumsum(np.append(0, lengths[:-1])), lengths) + np.arange(
        int(lengths.sum())
    )
    pairs = np.unique(owner * len(items) + item[inner]) if len(inner) else np.zeros(0, np.int64)
    visit, entry = pairs // max(len(items), 1), pairs % max(len(items), 1)
    passing = np.bincount(entry, minlength=len(items))
    long = lengths >= LONG_DETOUR
    passing_long = np.bincount(entry[long[visit]], minlength=len(items))
    n_long = int(long.sum())
    least = max(min_visits, math.ceil(DETOUR_MIN_SHARE * reached))
    out = []
    for k in np.flatnonzero(passing >= least).tolist():
        share_all = passing[k] / reached
        lift = (passing_long[k] / n_long) / share_all if n_long else None
        out.append(Detour(items[k], int(passing[k]), lift))
    out.sort(key=lambda d: (-(d.lift if d.lift is not None else -1.0), -d.visits, d.item))
    return out


def _paths(item: np.ndarray, a: IntArray, b: IntArray, items: list[str]) -> list[PathRow]:
    """The most common sequences of items from A to B (ties: the path's labels A to Z)."""
    spans = zip(a.tolist(), b.tolist(), strict=True)
    counts = Counter(item[lo : hi + 1].tobytes() for lo, hi in spans)
    named = [([items[i] for i in np.frombuffer(key, item.dtype)], n) for key, n in counts.items()]
    named.sort(key=lambda pair: (-pair[1], pair[0]))
    top = [PathRow(pages, n) for pages, n in named[:TOP_PATHS]]
    return [*top, PathRow(None, sum(n for _, n in named[TOP_PATHS:]))]

"""From the engine's per-unit outcome to the numbers a person reads: per step, entered, converted,
dropped and in progress, times to the next step, and where those who dropped went instead."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from collector.pages import BANDS, PageTemplates
from reports.analyses.funnel import (
    BoolArray,
    Outcome,
    Units,
    match_steps,
    session_units,
    visitor_units,
)
from reports.analyses.funnel_result import (
    BreakdownGroup,
    FunnelNumbers,
    FunnelStep,
    PageCount,
)
from reports.analyses.steps import Step, labels, page_mask, parse_steps, step_matrix
from reports.sessions.layout import IntArray, SessionTable

TOP_PAGES = 10
LEFT_SITE = "(left the site)"
OTHER = "(other)"
NO_PAGE = "(no page view)"
UNITS = ("session", "visitor")


@dataclass(frozen=True)
class Naming:
    """How to name items and sources in the table."""

    labels: Sequence[str]  # per vocabulary item: page template or "event: name"
    is_page: BoolArray  # per vocabulary item
    sources: Sequence[str]  # per vocabulary item a session's source points at
    band_names: Sequence[str]
    channels: Sequence[str] = ()  # per vocabulary item too: the channel slug of that touch


def step_lines(outcome: Outcome, patterns: Sequence[str]) -> list[FunnelStep]:
    """entered / converted / dropped / in_progress per step."""
    level, still_open, n_steps = outcome.level, outcome.open, len(patterns)
    out = []
    for k, pattern in enumerate(patterns, 1):
        entered = int((level >= k).sum())
        if k == n_steps:
            out.append(FunnelStep(entered=entered, step=k, pattern=pattern))
            continue
        here = level == k
        converted = int((level > k).sum())
        dropped = int((here & ~still_open).sum())
        line = FunnelStep(
            entered=entered,
            converted=converted,
            dropped=dropped,
            in_progress=int((here & still_open).sum()),
            conversion_rate=_rate(converted, entered),
            drop_off_rate=_rate(dropped, entered),
            step=k,
            pattern=pattern,
        )
        out.append(line)
    return out


def entered_counts(level: npt.NDArray[np.int8], n_steps: int) -> list[int]:
    """Units that entered each step."""
    return [int((level >= k).sum()) for k in range(1, n_steps + 1)]


def summarize(
    units: Units,
    outcome: Outcome,
    patterns: Sequence[str],
    naming: Naming,
    breakdown: str | None = None,
) -> FunnelNumbers:
    """The funnel table (with drop-off detail), overall figures and an optional breakdown."""
    n_steps = len(patterns)
    table = step_lines(outcome, patterns)
    pages = _PageViews.of(units, naming)
    unit_start = units.offsets[outcome.unit]
    unit_end = units.offsets[outcome.unit + 1]
    exit_item = pages.last_before(unit_start, unit_end)  # per unit, whatever the step
    for k, row in enumerate(table[:-1]):
        row["median_s"], row["p90_s"] = _times(units, outcome, k)
        dropped = (outcome.level == k + 1) & ~outcome.open
        next_item = pages.next_after(outcome.rows[k, dropped], unit_end[dropped])
        row["next_pages"] = _top(next_item, naming, LEFT_SITE)
        row["exit_pages"] = _top(exit_item[dropped], naming, NO_PAGE)
    entered = table[0]["entered"]
    converted = int((outcome.level == n_steps).sum())
    result = FunnelNumbers(
        overall={
            "entered": entered,
            "converted": converted,
            "abandoned": int(((outcome.level < n_steps) & ~outcome.open).sum()),
            "in_progress": int(outcome.open.sum()),
            "conversion_rate": _rate(converted, entered),
        },
        steps=table,
    )
    if breakdown:
        result["breakdown"] = {
            "by": breakdown,
            "groups": _breakdown(units, outcome, n_steps, naming, breakdown),
        }
    return result


def _by_name(ids: IntArray, name_of: Sequence[str]) -> tuple[IntArray, list[str]]:
    """Units grouped by the name their entry has: touches of one source (from other browsers or
    countries) are one group. Groups come in the order of their first entry."""
    code_of_name: dict[str, int] = {}
    unique, inverse = np.unique(ids, return_inverse=True)
    codes = np.array(
        [code_of_name.setdefault(name_of[i], len(code_of_name)) for i in unique.tolist()],
        dtype=np.int64,
    )
    names = list(code_of_name)
    out: IntArray = codes[inverse] if len(codes) else np.zeros(0, np.int64)
    return out, names


def _breakdown(
    units: Units, outcome: Outcome, n_steps: int, naming: Naming, by: str
) -> list[BreakdownGroup]:
    if by == "band":
        values, names = units.band[outcome.unit].astype(np.int64), naming.band_names
    elif by in ("source", "channel"):
        per_entry = naming.sources if by == "source" else naming.channels
        values, names = _by_name(units.source[outcome.unit].astype(np.int64), per_entry)
    else:
        raise ValueError(f"breakdown must be band, source or channel, not {by!r}")
    groups = []
    for value in np.unique(values).tolist():
        mask = values == value
        entered = entered_counts(outcome.level[mask], n_steps)
        converted = int((outcome.level[mask] == n_steps).sum())
        groups.append(
            BreakdownGroup(
                group=names[value],
                entered=entered[0],
                converted=converted,
                conversion_rate=_rate(converted, entered[0]),
                steps=entered,
            )
        )
    return sorted(groups, key=lambda g: (-g["entered"], g["group"]))


def _times(units: Units, outcome: Outcome, k: int) -> tuple[float | None, float | None]:
    """Median and 90th percentile seconds from step k to k + 1 among those who made it."""
    went_on = outcome.level > k + 1
    seconds = (units.ts[outcome.rows[k + 1, went_on]] - units.ts[outcome.rows[k, went_on]]) / 1000
    if not len(seconds):
        return None, None
    median, p90 = np.percentile(seconds, [50, 90]).tolist()
    return round(median, 3), round(p90, 3)


@dataclass(frozen=True)
class _PageViews:
    """The page-view rows of the units, and where each run of the same page ends; built once
    per funnel, used for every step."""

    item: npt.NDArray[np.int32]  # all rows' items
    rows: npt.NDArray[np.intp]  # rows that are page views
    run_starts: npt.NDArray[np.intp]  # indexes into `rows` where another page begins; + a sentinel

    @classmethod
    def of(cls, units: Units, naming: Naming) -> _PageViews:
        is_page = naming.is_page[units.item] if not naming.is_page.all() else None
        rows = np.flatnonzero(is_page) if is_page is not None else np.arange(len(units.item))
        page_item = units.item[rows]
        run_starts = np.append(np.flatnonzero(page_item[1:] != page_item[:-1]) + 1, len(rows))
        return cls(units.item, rows, run_starts)

    def next_after(
        self, rows: npt.NDArray[np.int64], unit_end: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.int64]:
        """Item of the first page view after each row that is not the same page again (a
        reload), within the unit; -1 when the unit ends first."""
        if not len(self.rows):
            return np.full(len(rows), -1, dtype=np.int64)
        last = len(self.rows) - 1
        j = np.searchsorted(self.rows, rows, side="right")
        nearest = self.rows[np.minimum(j, last)]
        reload = (j <= last) & (self.item[nearest] == self.item[rows])
        # Skip a run of reloads in one jump: to the start of the next run of another page.
        after_run = np.searchsorted(self.run_starts, j, side="right")
        jumped = self.run_starts[np.minimum(after_run, len(self.run_starts) - 1)]
        j = np.where(reload, jumped, j)
        target = self.rows[np.minimum(j, last)]
        valid = (j <= last) & (target < unit_end)
        return np.where(valid, self.item[target].astype(np.int64), -1)

    def last_before(
        self, unit_start: npt.NDArray[np.int64], unit_end: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.int64]:
        """Item of each unit's last page view, -1 when it has none."""
        if not len(self.rows):
            return np.full(len(unit_end), -1, dtype=np.int64)
        j = np.searchsorted(self.rows, unit_end, side="left") - 1
        target = self.rows[np.maximum(j, 0)]
        valid = (j >= 0) & (target >= unit_start)
        return np.where(valid, self.item[target].astype(np.int64), -1)


def _top(items: npt.NDArray[np.int64], naming: Naming, missing: str) -> list[PageCount]:
    """Counts by label, the TOP_PAGES largest, then the rest as one "(other)" line."""
    label_names, label_of_item = np.unique(
        np.asarray(naming.labels, dtype=object), return_inverse=True
    )
    known = items >= 0
    counts = np.bincount(label_of_item[items[known]], minlength=len(label_names))
    pairs = [(str(label_names[i]), int(c)) for i, c in enumerate(counts.tolist()) if c]
    if (~known).any():
        pairs.append((missing, int((~known).sum())))
    pairs.sort(key=lambda pair: (-pair[1], pair[0]))
    top = [PageCount(page=name, count=count) for name, count in pairs[:TOP_PAGES]]
    rest = sum(count for _, count in pairs[TOP_PAGES:])
    if rest:
        top.append(PageCount(page=OTHER, count=rest))
    return top


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 6) if whole else None


@dataclass(frozen=True)
class FunnelQuery:
    """What to count: steps, window, strictness, unit, the range of step-1 times, and now."""

    patterns: Sequence[str]
    window_ms: int
    start_ms: int
    end_ms: int
    now_ms: int
    strict: bool = False
    unit: str = "session"  # or "visitor"
    breakdown: str | None = None  # "band", "source" or "channel"
    channels: Sequence[str] = ()  # with "channel": each vocabulary entry's channel slug


def compute_funnel(
    table: SessionTable,
    query: FunnelQuery,
    templates: PageTemplates | None = None,
    steps: Sequence[Step] | None = None,
) -> tuple[FunnelNumbers, Units, Outcome]:
    """The funnel's numbers, and the units and outcome they came from. `steps` are the
    query's patterns parsed with the same templates, when the caller has them already."""
    templates = templates or PageTemplates()
    steps = steps if steps is not None else parse_steps(query.patterns, templates)
    if query.unit not in UNITS:
        raise ValueError(f"unit must be one of {', '.join(UNITS)}, not {query.unit!r}")
    units = session_units(table) if query.unit == "session" else visitor_units(table)
    is_page = page_mask(table.vocab)
    outcome = match_steps(
        units,
        step_matrix(steps, table.vocab),
        is_page,
        query.window_ms,
        query.start_ms,
        query.end_ms,
        query.now_ms,
        query.strict,
    )
    naming = Naming(labels(table.vocab, templates), is_page, table.sources, BANDS, query.channels)
    result = summarize(units, outcome, [s.pattern for s in steps], naming, query.breakdown)
    return result, units, outcome

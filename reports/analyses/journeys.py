"""The journey map: which way visits go, column by column, as exact counts of visits.

Pure NumPy over visits whose rows the caller has already mapped to items (a page template or
`event:NAME`) and cleared of excluded rows. The contract (issue 17):

- Occurrences. Consecutive page views of the same raw path merge into one occurrence (a
  reload); with `merge_templates`, consecutive page views of the same item do. Custom events
  never merge. An occurrence matches an anchor or the goal when any of its rows does; its time
  is that of its first row.
- Columns. Open: column i holds the visit's i-th occurrence. Start: from the first occurrence
  matching A. End: backward from the last occurrence matching B. Both: from the first A to the
  first B after it; visits with an A and no such B are `never_reached` and left out.
- Each visit in a column sits in one node: the top `rows` items by visits (ties by label), else
  the column's Other node. A visit whose sequence stops at column i counts there as `ends`, or
  as `in_progress` when the visit is still open (in every mode); one with more occurrences than
  columns counts as `beyond` in the last one. `returns`: the item also sits at an earlier column.
  `goal`: a goal row at or after the occurrence's first row. `median_next_s`: the median time
  between this column's occurrence and the next column's, over the visits that go on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from reports.sessions.layout import IntArray, offsets_of

BoolArray = npt.NDArray[np.bool_]
MIN_STEPS, MAX_OPEN_STEPS, MAX_ANCHORED_STEPS = 2, 10, 20
MIN_ROWS, MAX_ROWS = 1, 10
EVENT_PREFIX = "event:"
OPEN, START, END, BOTH = "open", "start", "end", "both"


@dataclass(frozen=True)
class Visits:
    """Visits as rows: visit i owns rows offsets[i]:offsets[i + 1], in time order."""

    offsets: IntArray
    item: npt.NDArray[np.int32]  # index into `items`
    path: npt.NDArray[np.int32]  # raw path id of a page view (reloads merge); -1: custom event
    ts: IntArray  # ms
    open: BoolArray  # per visit: still open (it may go on)
    items: list[str]  # "/product/:id" or "event:NAME"

    def __len__(self) -> int:
        return len(self.offsets) - 1


@dataclass(frozen=True)
class JourneyQuery:
    steps: int = 5
    rows: int = 5
    merge_templates: bool = False
    start: BoolArray | None = None  # per row: matches A
    end: BoolArray | None = None  # per row: matches B
    goal: BoolArray | None = None  # per row: matches the goal

    @property
    def mode(self) -> str:
        if self.start is not None:
            return BOTH if self.end is not None else START
        return END if self.end is not None else OPEN

    def check(self) -> None:
        """ValueError naming the parameter out of range."""
        most = MAX_OPEN_STEPS if self.mode == OPEN else MAX_ANCHORED_STEPS
        if not MIN_STEPS <= self.steps <= most:
            raise ValueError(f"steps runs from {MIN_STEPS} to {most} here, not {self.steps}")
        if not MIN_ROWS <= self.rows <= MAX_ROWS:
            raise ValueError(f"rows runs from {MIN_ROWS} to {MAX_ROWS}, not {self.rows}")


@dataclass(frozen=True)
class JourneyNode:
    id: str  # "{step}:{item}" or "{step}:other"
    page: str | None
    event: str | None
    other: bool
    visits: int
    ends: int
    in_progress: int
    beyond: int
    repeats: int
    returns: int
    goal: int | None
    median_next_s: float | None


@dataclass(frozen=True)
class JourneyColumn:
    step: int
    visits: int
    ends: int
    nodes: list[JourneyNode] = field(default_factory=list)


@dataclass(frozen=True)
class JourneyEdge:
    source: str  # "from" in the JSON
    target: str
    visits: int
    goal: int | None = None  # with a goal: visits that reached it at or after `source`


@dataclass(frozen=True)
class JourneyMap:
    mode: str
    direction: str  # "forward" or "backward"
    visits: int
    never_reached: int | None  # both anchors only
    columns: list[JourneyColumn]
    edges: list[JourneyEdge]


@dataclass(frozen=True)
class _Occurrences:
    """Merged occurrences, grouped by visit: occurrence j spans rows first[j]:first[j + 1]."""

    offsets: IntArray  # per visit
    first: IntArray  # first row
    size: IntArray  # rows merged
    item: npt.NDArray[np.int32]
    ts: IntArray
    visit: IntArray


@dataclass(frozen=True)
class _Sequences:
    """Per kept visit: its occurrences from `first` to `last` (inclusive), in column order."""

    visit: IntArray
    first: IntArray
    last: IntArray
    step: int  # +1 forward, -1 backward

    @property
    def length(self) -> IntArray:
        out: IntArray = self.last - self.first + 1
        return out

    def at(self, column: int) -> IntArray:
        """Occurrence at a column (0-based) for every kept visit; check `length` first."""
        out: IntArray = (self.first if self.step > 0 else self.last) + self.step * column
        return out


def map_journeys(visits: Visits, query: JourneyQuery) -> JourneyMap:
    """The journey map of `visits` as the query asks."""
    query.check()
    occ = merge_occurrences(visits, query.merge_templates)
    seq, never_reached = _sequences(occ, query)
    context = _Context(visits, occ, seq, query, _last_goal_row(visits, query.goal), *_same(occ))
    alpha = np.argsort(np.argsort(np.array(visits.items, dtype=object), kind="stable"))
    columns: list[JourneyColumn] = []
    edges: list[JourneyEdge] = []
    node_of_visit = np.full(len(seq.visit), -1, dtype=np.int64)
    goal_of_visit = np.zeros(len(seq.visit), dtype=bool)  # reached it at or after column c-1
    previous_ids: list[str] = []
    for c in range(query.steps):
        present = np.flatnonzero(seq.length > c)
        at = seq.at(c)[present]
        top = _top_items(occ.item[at], alpha, query.rows)
        node_of_item = np.full(len(visits.items), len(top), dtype=np.int64)
        node_of_item[top] = np.arange(len(top))
        node = node_of_item[occ.item[at]]
        ids = [f"{c + 1}:{visits.items[i]}" for i in top] + [f"{c + 1}:other"]
        columns.append(_column(context, c, present, node, ids))
        goal = None if context.goal_row is None else goal_of_visit[present]
        if c:
            edges += _edges(node_of_visit[present], node, goal, previous_ids, ids)
        node_of_visit[:] = -1
        node_of_visit[present] = node
        if context.goal_row is not None:
            goal_of_visit[present] = context.goal_row[seq.visit[present]] >= occ.first[at]
        previous_ids = ids
    return JourneyMap(
        query.mode,
        "backward" if query.mode == END else "forward",
        len(seq.visit),
        never_reached,
        columns,
        edges,
    )


@dataclass(frozen=True)
class _Context:
    visits: Visits
    occ: _Occurrences
    seq: _Sequences
    query: JourneyQuery
    goal_row: IntArray | None  # per visit
    previous: IntArray  # per occurrence: the visit's previous occurrence of its item, or -1
    following: IntArray  # per occurrence: the next occurrence of its item, or -1


def _column(
    context: _Context, c: int, present: IntArray, node: IntArray, ids: list[str]
) -> JourneyColumn:
    """Column c (0-based): the counts of each node over the visits present there."""
    occ, seq, query = context.occ, context.seq, context.query
    at = seq.at(c)[present]
    length = seq.length[present]
    still_open = context.visits.open[seq.visit[present]]
    stops = length == c + 1
    if seq.step > 0:
        returns = context.previous[at] >= seq.first[present]
    else:
        returns = (context.following[at] >= 0) & (context.following[at] <= seq.last[present])
    flags = {
        "visits": np.ones(len(at), dtype=bool),
        "ends": stops & ~still_open,
        "in_progress": stops & still_open,
        "beyond": (length > c + 1) & (c == query.steps - 1),
        "repeats": occ.size[at] >= 2,
        "returns": returns,
    }
    if context.goal_row is not None:
        flags["goal"] = context.goal_row[seq.visit[present]] >= occ.first[at]
    width = len(ids)
    sums = {name: np.bincount(node[f], minlength=width) for name, f in flags.items()}
    goes_on = length > c + 1
    medians = _medians(
        node[goes_on], np.abs(occ.ts[at[goes_on] + seq.step] - occ.ts[at[goes_on]]), width
    )
    nodes = [
        _node(ids[k], k == width - 1, {name: int(v[k]) for name, v in sums.items()}, medians[k])
        for k in range(width)
        if sums["visits"][k]
    ]
    return JourneyColumn(c + 1, len(at), int(sums["ends"].sum()), nodes)


def _node(id: str, other: bool, counts: dict[str, int], median_ms: float | None) -> JourneyNode:
    item = id.partition(":")[2]
    event = item[len(EVENT_PREFIX) :] if item.startswith(EVENT_PREFIX) and not other else None
    return JourneyNode(
        id,
        None if other or event is not None else item,
        event,
        other,
        counts["visits"],
        counts["ends"],
        counts["in_progress"],
        counts["beyond"],
        counts["repeats"],
        counts["returns"],
        counts.get("goal"),
        None if median_ms is None else median_ms / 1000,
    )


def _medians(group: IntArray, values: IntArray, width: int) -> list[float | None]:
    """Median of `values` (>= 0) per group 0..width-1 (None for an empty group). One sort of
    group-major keys: a sort of plain integers, not of records."""
    if not len(values):
        return [None] * width
    span = int(values.max()) + 1
    ordered = np.sort(group * span + values)
    counts = np.bincount(group, minlength=width)
    lo = offsets_of(counts)[:-1]
    low = ordered[np.minimum(lo + (counts - 1) // 2, len(ordered) - 1)] % span
    high = ordered[np.minimum(lo + counts // 2, len(ordered) - 1)] % span
    return [(int(a) + int(b)) / 2 if n else None for a, b, n in zip(low, high, counts, strict=True)]


def _same(occ: _Occurrences) -> tuple[IntArray, IntArray]:
    """Per occurrence, the previous and the next occurrence of the same item in its visit."""
    # Stable on one integer key: ties (one visit's occurrences of one item) keep their order.
    order = np.argsort(occ.visit * (int(occ.item.max(initial=0)) + 1) + occ.item, kind="stable")
    chained = (occ.visit[order][1:] == occ.visit[order][:-1]) & (
        occ.item[order][1:] == occ.item[order][:-1]
    )
    previous = np.full(len(order), -1, dtype=np.int64)
    following = np.full(len(order), -1, dtype=np.int64)
    previous[order[1:][chained]] = order[:-1][chained]
    following[order[:-1][chained]] = order[1:][chained]
    return previous, following


def merge_occurrences(visits: Visits, merge_templates: bool) -> _Occurrences:
    """Rows to occurrences: reloads (and with merge_templates, one item's pages) fold."""
    n_rows = len(visits.ts)
    new = np.ones(n_rows, dtype=bool)
    if n_rows > 1:
        page = visits.path >= 0
        same = visits.path[1:] == visits.path[:-1]
        if merge_templates:
            same |= visits.item[1:] == visits.item[:-1]
        new[1:] = ~(page[1:] & page[:-1] & same)
    new[visits.offsets[:-1][np.diff(visits.offsets) > 0]] = True
    first = np.flatnonzero(new)
    row_visit = np.repeat(np.arange(len(visits), dtype=np.int64), np.diff(visits.offsets))
    visit = row_visit[first]
    return _Occurrences(
        offsets_of(np.bincount(visit, minlength=len(visits))),
        first,
        np.diff(np.append(first, n_rows)),
        visits.item[first],
        visits.ts[first],
        visit,
    )


def _matching(occ: _Occurrences, rows: BoolArray) -> BoolArray:
    """Occurrences with at least one matching row."""
    if not len(occ.first):
        return np.zeros(0, dtype=bool)
    out: BoolArray = np.logical_or.reduceat(rows, occ.first)
    return out


def _sequences(occ: _Occurrences, query: JourneyQuery) -> tuple[_Sequences, int | None]:
    lo, hi = occ.offsets[:-1], occ.offsets[1:] - 1  # first and last occurrence per visit
    has_any = hi >= lo
    if query.start is None and query.end is None:
        visit = np.flatnonzero(has_any)
        return _Sequences(visit, lo[visit], hi[visit], 1), None
    if query.start is None:
        assert query.end is not None
        b = np.flatnonzero(_matching(occ, query.end))
        last = np.full(len(lo), -1, dtype=np.int64)
        last[occ.visit[b]] = b  # ascending: the last write, the visit's last B, wins
        visit = np.flatnonzero(last >= 0)
        return _Sequences(visit, lo[visit], last[visit], -1), None
    if query.end is None:
        a = np.flatnonzero(_matching(occ, query.start))
        first = np.full(len(lo), -1, dtype=np.int64)
        first[occ.visit[a[::-1]]] = a[::-1]  # descending order: the first A wins
        visit = np.flatnonzero(first >= 0)
        return _Sequences(visit, first[visit], hi[visit], 1), None
    visit, a, b = first_after(occ, query.start, query.end)
    reached = b >= 0
    return _Sequences(visit[reached], a[reached], b[reached], 1), int((~reached).sum())


def first_after(
    occ: _Occurrences, start: BoolArray, end: BoolArray
) -> tuple[IntArray, IntArray, IntArray]:
    """Per visit with an occurrence matching A (rows `start`): the visit, its first A
    occurrence, and the first occurrence matching B (rows `end`) after it, or -1."""
    a = np.flatnonzero(_matching(occ, start))
    first = np.full(len(occ.offsets) - 1, -1, dtype=np.int64)
    first[occ.visit[a[::-1]]] = a[::-1]  # descending order: the first A wins
    visit = np.flatnonzero(first >= 0)
    b = np.flatnonzero(_matching(occ, end))
    found = np.append(b, -1)[np.searchsorted(b, first[visit], side="right")]
    found[(found >= 0) & (found >= occ.offsets[visit + 1])] = -1  # in a later visit
    return visit, first[visit], found


def _last_goal_row(visits: Visits, goal: BoolArray | None) -> IntArray | None:
    """Per visit, its last goal row (-1 when none)."""
    if goal is None:
        return None
    out = np.full(len(visits), -1, dtype=np.int64)
    rows = np.flatnonzero(goal)
    row_visit = np.searchsorted(visits.offsets, rows, side="right") - 1
    out[row_visit] = rows  # ascending: the last write is the last goal row
    return out


def _top_items(item: npt.NDArray[np.int32], alpha: IntArray, rows: int) -> IntArray:
    """The `rows` items with the most visits, ties by label A to Z."""
    counts = np.bincount(item, minlength=len(alpha))
    seen = np.flatnonzero(counts)
    order = np.lexsort((alpha[seen], -counts[seen]))
    out: IntArray = seen[order[:rows]]
    return out


def _edges(
    before: IntArray,
    after: IntArray,
    goal: BoolArray | None,
    before_ids: list[str],
    after_ids: list[str],
) -> list[JourneyEdge]:
    """Edges between two columns: visits per (node before, node after) pair, and of those the
    visits that reached the goal at or after the node before."""
    width = len(after_ids)
    pair = before * width + after
    counts = np.bincount(pair, minlength=len(before_ids) * width)
    goals = None if goal is None else np.bincount(pair[goal], minlength=len(counts))
    return [
        JourneyEdge(
            before_ids[k // width],
            after_ids[k % width],
            int(counts[k]),
            None if goals is None else int(goals[k]),
        )
        for k in np.flatnonzero(counts).tolist()
    ]

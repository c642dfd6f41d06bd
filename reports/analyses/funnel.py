"""The ordered funnel engine: pure NumPy over rows grouped by unit, with no sort and no loop over
units or rows.

Semantics. Every event matching step 1 whose time falls in [start_ms, end_ms) begins an attempt
(a later step-1 event begins a new one). An attempt reaches step k when events matching steps
2..k follow, each strictly after the previous one (so identical consecutive steps need distinct
events; ties in time keep their recorded order), all within `window_ms` of the step-1 event.
Later steps may fall after end_ms. In strict mode a page view in between breaks the chain, unless
it matches the step just reached (a reload); custom events never break it. Each unit (session or
visitor) counts its best attempt, the earliest one among equals. A unit that has not converted
and still has an attempt whose window is open at `now_ms` is in progress, not abandoned.

For one attempt the earliest next match is the best one: the window is measured from step 1, so
taking a later event can never help. That is what makes the pass a series of searchsorted calls.
"""

from __future__ import annotations

import itertools
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from reports.sessions.layout import IntArray, SessionTable, offsets_of

BoolArray = npt.NDArray[np.bool_]
MAX_THREADS = 4
PARALLEL_ROWS = 500_000  # below this, threads cost more than they save


@dataclass(frozen=True)
class Units:
    """Rows grouped by unit and in time order within each; attributes are per unit."""

    offsets: IntArray
    ts: IntArray
    item: npt.NDArray[np.int32]
    band: npt.NDArray[np.uint8]
    source: npt.NDArray[np.int32]
    # rows -> session index in the table (to find clicks); None when the units are the sessions
    session: npt.NDArray[np.int32] | None = None
    row: IntArray | None = None  # rows -> row in the table; None when the units are the sessions

    def session_of(self, rows: IntArray) -> IntArray:
        if self.session is None:
            found: IntArray = np.searchsorted(self.offsets, rows, side="right") - 1
            return found
        return self.session[rows].astype(np.int64)

    def table_row(self, rows: IntArray) -> IntArray:
        return rows if self.row is None else self.row[rows]


@dataclass(frozen=True)
class Outcome:
    """The best attempt of every unit that entered the funnel, in unit order."""

    unit: IntArray  # unit index
    level: npt.NDArray[np.int8]  # steps reached, 1..n
    rows: IntArray  # n_steps x units: row of each step's event in the best attempt, -1 beyond
    open: BoolArray  # in progress: not converted, and a window still open at now_ms

    def __len__(self) -> int:
        return len(self.unit)


def session_units(table: SessionTable) -> Units:
    return Units(table.offsets, table.ts, table.item, table.band, table.source)


def visitor_units(table: SessionTable) -> Units:
    """One unit per visitor id (sessions without one stay on their own), rows in time order."""
    lone = table.visitor == 0
    key = np.where(lone, np.arange(len(table), dtype=np.uint64), table.visitor)
    key = np.where(lone, key, key | np.uint64(1 << 63))  # lone sessions never meet a visitor
    _, unit_of_session = np.unique(key, return_inverse=True)
    session = np.repeat(np.arange(len(table), dtype=np.int32), np.diff(table.offsets))
    order = np.lexsort((table.ts, unit_of_session[session]))
    n_units = int(unit_of_session.max()) + 1 if len(table) else 0
    counts = np.bincount(unit_of_session[session], minlength=n_units)
    first = np.full(n_units, -1, dtype=np.int64)
    by_start = np.argsort(table.start, kind="stable")[::-1]
    first[unit_of_session[by_start]] = by_start  # reversed: the earliest session wins
    return Units(
        offsets_of(counts),
        table.ts[order],
        table.item[order],
        table.band[first],
        table.source[first],
        session[order],
        order,
    )


def match_steps(
    units: Units,
    matrix: BoolArray,
    is_page: BoolArray,
    window_ms: int,
    start_ms: int,
    end_ms: int,
    now_ms: int,
    strict: bool = False,
    threads: int | None = None,
) -> Outcome:
    """`matrix` is steps x vocabulary (reports.analyses.steps.step_matrix), `is_page` per
    vocabulary item.

    Units are independent, so large inputs are cut at unit boundaries and run on several
    threads (NumPy releases the GIL): about 1.7x on this 2-core machine."""
    threads = threads or min(MAX_THREADS, os.cpu_count() or 1)
    parts = _split(units, threads) if units.ts.size >= PARALLEL_ROWS else [(0, units)]
    args = (matrix, is_page, window_ms, start_ms, end_ms, now_ms, strict)
    if len(parts) == 1:
        return _run(units, *args)
    with ThreadPoolExecutor(len(parts)) as pool:
        outcomes = list(pool.map(lambda part: _run(part[1], *args), parts))
    first_row = [int(units.offsets[first]) for first, _ in parts]
    return Outcome(
        np.concatenate([o.unit + first for (first, _), o in zip(parts, outcomes, strict=True)]),
        np.concatenate([o.level for o in outcomes]),
        np.concatenate(
            [
                np.where(o.rows >= 0, o.rows + r, -1)
                for r, o in zip(first_row, outcomes, strict=True)
            ],
            axis=1,
        ),
        np.concatenate([o.open for o in outcomes]),
    )


def _split(units: Units, parts: int) -> list[tuple[int, Units]]:
    """(first unit, the units from it) in `parts` slices of about equal rows."""
    cuts = np.searchsorted(units.offsets, np.linspace(0, units.ts.size, parts + 1)[1:-1])
    bounds = [0, *sorted(set(cuts.tolist()) - {0, len(units.offsets) - 1}), len(units.offsets) - 1]
    out = []
    for first, last in itertools.pairwise(bounds):
        lo, hi = int(units.offsets[first]), int(units.offsets[last])
        out.append(
            (
                first,
                Units(
                    units.offsets[first : last + 1] - lo,
                    units.ts[lo:hi],
                    units.item[lo:hi],
                    units.band[first:last],
                    units.source[first:last],
                    None if units.session is None else units.session[lo:hi],
                    None if units.row is None else units.row[lo:hi],
                ),
            )
        )
    return out


def _run(
    units: Units,
    matrix: BoolArray,
    is_page: BoolArray,
    window_ms: int,
    start_ms: int,
    end_ms: int,
    now_ms: int,
    strict: bool,
) -> Outcome:
    n_steps = matrix.shape[0]
    ts, item = units.ts, units.item
    steps = _StepRows(matrix, item)
    starts = steps.rows(0)
    start_ts = ts[starts]
    in_range = (start_ts >= start_ms) & (start_ts < end_ms)
    if not in_range.all():
        starts, start_ts = starts[in_range], start_ts[in_range]
    # The unit of each row, gathered: a binary search per start costs 8x more at 10M rows.
    unit_of_row = np.repeat(
        np.arange(len(units.offsets) - 1, dtype=np.int32), np.diff(units.offsets)
    )
    unit = unit_of_row[starts].astype(np.int64)
    unit_end = units.offsets[unit + 1]
    deadline = start_ts + window_ms
    rows = np.full((n_steps, len(starts)), -1, dtype=np.int64)
    rows[0] = starts
    level = np.ones(len(starts), dtype=np.int8)
    alive = np.arange(len(starts))  # attempts still climbing
    row_is_page = is_page[item] if strict else None
    for k in range(1, n_steps):
        at = steps.rows(k)
        if not len(at) or not len(alive):
            break
        current = rows[k - 1, alive]
        j = np.searchsorted(at, current, side="right")
        nxt = at[np.minimum(j, len(at) - 1)]
        ok = (j < len(at)) & (nxt < unit_end[alive]) & (ts[nxt] <= deadline[alive])
        if row_is_page is not None:
            ok &= nxt <= _next_break(row_is_page & ~matrix[k - 1][item], current)
        alive = alive[ok]
        rows[k, alive] = nxt[ok]
        level[alive] += 1
    return _best_per_unit(unit, level, rows, deadline > now_ms)


class _StepRows:
    """Rows matching each step. When no item matches two steps (the usual case), one gather of
    step codes serves every step instead of one gather per step."""

    def __init__(self, matrix: BoolArray, item: npt.NDArray[np.int32]) -> None:
        self.matrix, self.item = matrix, item
        self.code: npt.NDArray[np.int8] | None = None
        if matrix.shape[1] and matrix.sum(axis=0).max() <= 1:
            codes = (np.argmax(matrix, axis=0) + 1) * matrix.any(axis=0)
            self.code = codes.astype(np.int8)[item]

    def rows(self, k: int) -> IntArray:
        if self.code is not None:
            return np.flatnonzero(self.code == k + 1)
        return np.flatnonzero(self.matrix[k][self.item])


def _next_break(breaking: BoolArray, after: IntArray) -> IntArray:
    """Row of the first breaking page view after each row (past the end when none)."""
    at = np.append(np.flatnonzero(breaking), np.iinfo(np.int64).max)  # a sentinel past the end
    found: IntArray = at[np.searchsorted(at, after, side="right")]
    return found


def _best_per_unit(
    unit: IntArray, level: npt.NDArray[np.int8], rows: IntArray, window_open: BoolArray
) -> Outcome:
    n_steps = rows.shape[0]
    if not len(unit):
        return Outcome(unit, level, rows, np.zeros(0, dtype=bool))
    first = np.ones(len(unit), dtype=bool)
    first[1:] = unit[1:] != unit[:-1]
    group_start = np.flatnonzero(first)
    # One max per unit over (level, earliest attempt first): the best level and its attempt.
    index_bits = 40
    earliest = (1 << index_bits) - 1 - np.arange(len(unit), dtype=np.int64)
    key = (level.astype(np.int64) << index_bits) | earliest
    best_key = np.maximum.reduceat(key, group_start)
    best = (best_key >> index_bits).astype(np.int8)
    chosen = (1 << index_bits) - 1 - (best_key & ((1 << index_bits) - 1))
    still_open = np.logical_or.reduceat(window_open & (level < n_steps), group_start)
    return Outcome(unit[group_start], best, rows[:, chosen], still_open & (best < n_steps))

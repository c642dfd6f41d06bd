"""Stored sessions to journey visits: each row mapped to its item (a page template, or
`event:NAME` when events count) and cleared of excluded rows.

Matching runs once per vocabulary entry, never per row: an anchor, the goal or `--exclude` is a
step (reports.analyses.steps) looked up through the row's entry. Funnels and journeys match raw
paths; the items a map shows are templates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from collector.pages import PageTemplates
from reports.analyses.journeys import EVENT_PREFIX, BoolArray, Visits
from reports.analyses.steps import PAGE, Step, page_mask, step_matrix
from reports.sessions.layout import IntArray, SessionTable, concat_ranges, offsets_of


@dataclass(frozen=True)
class VisitRows:
    """Journey visits and where they came from in the table."""

    visits: Visits
    sessions: IntArray  # per visit: its session in the table
    rows: IntArray  # per visit row: its row in the table
    all_rows: IntArray  # every row of those sessions, kept or not, in order
    carry: IntArray  # per entry of all_rows: the visit row at or before it in its visit, or -1

    def matching(self, table: SessionTable, step: Step) -> BoolArray:
        """Per visit row: does its entry match the step (an anchor)."""
        entry: BoolArray = step_matrix([step], table.vocab)[0]
        out: BoolArray = entry[table.item[self.rows]]
        return out

    def reached(self, table: SessionTable, step: Step) -> BoolArray:
        """Per visit row: is a row matching the step (kept or not: the goal) at or after it, up
        to the next visit row. A goal event counted without --events lands on the page view
        before it, so "reached the goal at or after this occurrence" holds for that page."""
        entry = step_matrix([step], table.vocab)[0]
        hit = entry[table.item[self.all_rows]] & (self.carry >= 0)
        out = np.zeros(len(self.rows), dtype=bool)
        out[self.carry[hit]] = True
        return out


def item_labels(vocab: Sequence[str], templates: PageTemplates) -> list[str]:
    """What each vocabulary entry is on a journey map: its page template or `event:NAME`."""
    return [
        templates.template(entry[2:]) if entry.startswith(PAGE) else EVENT_PREFIX + entry[2:]
        for entry in vocab
    ]


def visits_from_table(
    table: SessionTable,
    templates: PageTemplates,
    sessions: IntArray,
    *,
    events: bool = False,
    exclude: Sequence[Step] = (),
) -> VisitRows:
    """The chosen sessions as journey visits (in the order given); rows of custom events (unless
    `events`) and rows matching any `exclude` step are left out. A visit may have no rows."""
    pages = page_mask(table.vocab)
    kept_entry = pages | events
    if exclude:
        kept_entry &= ~step_matrix(exclude, table.vocab).any(axis=0)
    lengths = np.diff(table.offsets)[sessions]
    all_rows = concat_ranges(table.offsets[sessions], table.offsets[sessions + 1])
    owner = np.repeat(np.arange(len(sessions), dtype=np.int64), lengths)
    kept = kept_entry[table.item[all_rows]]
    rows = all_rows[kept]
    offsets = offsets_of(np.bincount(owner[kept], minlength=len(sessions)))
    # The visit row at or before each row: the last kept one, if it is of the same visit.
    carry = np.cumsum(kept) - 1
    carry[(carry < 0) | (carry < offsets[owner])] = -1
    labels = item_labels(table.vocab, templates)
    names = sorted(set(labels))
    index = {name: i for i, name in enumerate(names)}
    entry_item = np.array([index[label] for label in labels], dtype=np.int32)
    entry_path = np.where(pages, np.arange(len(table.vocab)), -1).astype(np.int32)
    entries = table.item[rows]
    visits = Visits(
        offsets=offsets,
        item=entry_item[entries] if len(entry_item) else np.zeros(0, np.int32),
        path=entry_path[entries] if len(entry_path) else np.zeros(0, np.int32),
        ts=table.ts[rows],
        open=table.open[sessions],
        items=names,
    )
    return VisitRows(visits, sessions, rows, all_rows, carry)

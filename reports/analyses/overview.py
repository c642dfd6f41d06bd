"""The traffic overview's engine: totals, a series and the top lists of a set of visits, from
their rollups (reports.sessions.rollup_reader.VisitTable). Pure: loading and the JSON around it
are in overview_request.

A visit counts once wherever it is counted: in one channel (its entry touch's), one source, one
device; a page counts the visits that viewed it and its page views; an event the visits that
had it and how often. Visitors are daily visitor hashes, distinct per day of the time zone and
summed over the days (a person coming back another day counts again: the hash changes daily).
A visit without a hash (none was derived) counts as its own visitor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from collector.pages import BANDS
from reports.analyses.channel_names import Channel
from reports.sessions.layout import concat_ranges
from reports.sessions.rollup import parse_property
from reports.sessions.rollup_reader import PAGE_PREFIX, VisitTable
from reports.sessions.touches import Touch, parse_entry

EVENT_PREFIX = "e:"
NOT_SET = "(not set)"  # what a visit without a browser, system, country or host counts as
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
Ranked = list[tuple[str, int]]


@dataclass(frozen=True)
class Totals:
    visitors: int
    visits: int
    pageviews: int
    bounces: int
    median_duration_s: float | None
    conversions: int | None  # None: no goal asked

    @property
    def pages_per_visit(self) -> float | None:
        return rate(self.pageviews, self.visits)

    @property
    def bounce_rate(self) -> float | None:
        return rate(self.bounces, self.visits)

    @property
    def conversion_rate(self) -> float | None:
        return None if self.conversions is None else rate(self.conversions, self.visits)


@dataclass(frozen=True)
class Visits:
    """The visits an overview counts: rows of the table, the channel slug of each vocabulary
    id (a visit's channel is its touch's), and which converted (None: no goal). What several
    lists read is worked out once, on first use."""

    table: VisitTable
    rows: Ints
    slugs: npt.NDArray[np.str_]
    converted: Bools | None

    def __len__(self) -> int:
        return len(self.rows)

    @cached_property
    def chosen(self) -> npt.NDArray[np.void]:
        """The VISIT_ROWs of the chosen visits (gathered as opaque records: faster)."""
        visits = self.table.visits
        records = np.dtype((np.void, visits.dtype.itemsize))
        return visits.view(records)[self.rows].view(visits.dtype)

    @cached_property
    def touch(self) -> Ints:
        touch: Ints = self.chosen["touch"].astype(np.int64)
        return touch

    @cached_property
    def per_touch(self) -> Ints:
        """Visits per vocabulary id of their touch."""
        found: Ints = np.bincount(self.touch, minlength=len(self.table.vocab))
        return found

    @cached_property
    def touches(self) -> list[tuple[Touch, int]]:
        """Each distinct touch of the visits, parsed once, and its visits."""
        vocab = self.table.vocab
        found = self.per_touch
        return [
            (parse_entry(vocab[i]) if i < len(vocab) else Touch(), int(found[i]))
            for i in np.flatnonzero(found).tolist()
        ]


def rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def totals(visits: Visits, day_of: Callable[[Ints], Ints]) -> Totals:
    rows = visits.chosen
    views = rows["views"].astype(np.int64)
    duration = rows["duration_s"]
    return Totals(
        visitors=_visitors(rows, day_of),
        visits=len(rows),
        pageviews=int(views.sum()),
        bounces=int((views == 1).sum()),
        median_duration_s=float(np.median(duration)) if len(duration) else None,
        conversions=None if visits.converted is None else int(visits.converted.sum()),
    )


def _visitors(rows: npt.NDArray[np.void], day_of: Callable[[Ints], Ints]) -> int:
    """Distinct (day, visitor hash) pairs; a visit without a hash is its own visitor. Counted
    day by day: sorting each day's hashes is several times faster than np.unique of pairs."""
    visitor = rows["visitor"]
    hashed = visitor != 0
    day = day_of(rows["start"][hashed])
    order = np.argsort(day, kind="stable")
    day, visitor = day[order], visitor[hashed][order]
    cuts = np.flatnonzero(day[1:] != day[:-1]) + 1
    distinct = 0
    for part in np.split(visitor, cuts):
        part.sort()
        distinct += int(np.count_nonzero(part[1:] != part[:-1])) + 1 if len(part) else 0
    return distinct + int((~hashed).sum())


def series(visits: Visits, edges: Ints) -> tuple[Ints, Ints]:
    """Visits and page views per bucket [edges[k], edges[k + 1]) of start time."""
    rows = visits.chosen
    bucket = np.searchsorted(edges, rows["start"], side="right") - 1
    n = len(edges) - 1
    inside = (bucket >= 0) & (bucket < n)
    count = np.bincount(bucket[inside], minlength=n)
    views = np.bincount(bucket[inside], weights=rows["views"][inside], minlength=n)
    return count.astype(np.int64), views.astype(np.int64)


@dataclass(frozen=True)
class ItemCounts:
    """Per vocabulary entry: visits that had it and how often it happened (page views of a
    page, occurrences of an event or property value), over the chosen visits."""

    visits: Ints
    count: Ints


def item_counts(visits: Visits) -> ItemCounts:
    table = visits.table
    size = len(table.vocab)
    starts, ends = table.item_offsets[visits.rows], table.item_offsets[visits.rows + 1]
    picked = concat_ranges(starts, ends)
    items = table.items[picked]
    return ItemCounts(
        np.bincount(items["item"], minlength=size).astype(np.int64),
        np.bincount(items["item"], weights=items["count"], minlength=size).astype(np.int64),
    )


def reached(visits: VisitTable, rows: Ints, matches: Bools) -> Bools:
    """Per chosen visit: did any of its items match (a goal's step matrix row). Hits are
    summed over every item row once, then read per visit: cheaper than gathering its rows."""
    if not len(rows):
        return np.zeros(0, bool)
    hits = np.zeros(len(visits.items) + 1, np.int64)
    np.cumsum(matches[visits.items["item"]], out=hits[1:])
    reached: Bools = hits[visits.item_offsets[rows + 1]] > hits[visits.item_offsets[rows]]
    return reached


def pages(visits: Visits, counts: ItemCounts) -> list[tuple[str, int, int]]:
    """(path, visits, page views) of every page viewed, most visited first."""
    vocab = visits.table.vocab
    out = [
        (vocab[i][len(PAGE_PREFIX) :], int(counts.visits[i]), int(counts.count[i]))
        for i in np.flatnonzero(counts.visits).tolist()
        if vocab[i].startswith(PAGE_PREFIX)
    ]
    out.sort(key=lambda row: (-row[1], -row[2], row[0]))
    return out


def landing(visits: Visits, field: str) -> Ranked:
    """Visits per entry or exit page ("entry" or "exit")."""
    rows = visits.chosen
    ids = rows[field][rows["views"] > 0]
    found = np.bincount(ids, minlength=len(visits.table.vocab))
    vocab = visits.table.vocab
    return _ranked((vocab[i][len(PAGE_PREFIX) :], int(found[i])) for i in np.flatnonzero(found))


def events(visits: Visits, counts: ItemCounts) -> list[tuple[str, int, int]]:
    """(name, visits, count) of every custom event, most visits first."""
    vocab = visits.table.vocab
    out = [
        (vocab[i][len(EVENT_PREFIX) :], int(counts.visits[i]), int(counts.count[i]))
        for i in np.flatnonzero(counts.visits).tolist()
        if vocab[i].startswith(EVENT_PREFIX)
    ]
    out.sort(key=lambda row: (-row[1], -row[2], row[0]))
    return out


def properties(visits: Visits, counts: ItemCounts) -> dict[str, list[tuple[str, str, int, int]]]:
    """Per event name: (property, value, visits, count) of its property values."""
    out: dict[str, list[tuple[str, str, int, int]]] = {}
    vocab = visits.table.vocab
    for i in np.flatnonzero(counts.visits).tolist():
        parsed = parse_property(vocab[i])
        if parsed is not None:
            event, name, value = parsed
            out.setdefault(event, []).append(
                (name, value, int(counts.visits[i]), int(counts.count[i]))
            )
    for rows in out.values():
        rows.sort(key=lambda row: (row[0], -row[2], -row[3], row[1]))
    return out


def by_touch(visits: Visits, name: Callable[[Touch], str], unset: str = "") -> Ranked:
    """Visits per value a touch gives (its source, browser, country...); a visit without one
    counts as `unset`, left out when that is ""."""
    named: dict[str, int] = {}
    for touch, n in visits.touches:
        value = name(touch) or unset
        if value:
            named[value] = named.get(value, 0) + n
    return _ranked(named.items())


def by_channel(visits: Visits) -> list[tuple[str, int, int | None]]:
    """(slug, visits, conversions) per channel, most visits first: summed over the distinct
    touches."""
    touch, found = visits.touch, visits.per_touch
    ids = np.flatnonzero(found)
    slugs = visits.slugs[ids].tolist()
    converted = None
    if visits.converted is not None:
        converted = np.bincount(touch, weights=visits.converted, minlength=len(found))[ids]
    per_slug: dict[str, list[int]] = {}
    for k, slug in enumerate(slugs):
        row = per_slug.setdefault(str(slug), [0, 0])
        row[0] += int(found[ids[k]])
        row[1] += 0 if converted is None else int(converted[k])
    out = [
        (slug, n, None if visits.converted is None else conversions)
        for slug, (n, conversions) in per_slug.items()
    ]
    out.sort(key=lambda row: (-row[1], row[0]))
    return out


def by_band(visits: Visits) -> Ranked:
    band = visits.table.visits["band"][visits.rows]
    found = np.bincount(band, minlength=len(BANDS))
    return _ranked((BANDS[b], int(found[b])) for b in range(len(BANDS)) if b < len(found))


def _ranked(pairs: Any) -> Ranked:
    out = [(name, n) for name, n in pairs if n]
    out.sort(key=lambda row: (-row[1], row[0]))
    return out


def channel_label(slug: str) -> str:
    return Channel(slug).label


def top(rows: Sequence[Any], limit: int) -> list[Any]:
    return list(rows[:limit]) if limit else list(rows)

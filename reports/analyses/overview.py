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
    """The visits an overview counts, with what is known of each: rows of the table, the
    channel slug of each, and which converted (None: no goal)."""

    table: VisitTable
    rows: Ints
    channels: npt.NDArray[np.str_]
    converted: Bools | None

    def __len__(self) -> int:
        return len(self.rows)


def rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def totals(visits: Visits, day_of: Callable[[Ints], Ints]) -> Totals:
    rows = visits.table.visits[visits.rows]
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
    """Distinct (day, visitor hash) pairs; a visit without a hash is its own visitor."""
    visitor = rows["visitor"]
    hashed = visitor != 0
    pairs = np.stack([day_of(rows["start"][hashed]).astype(np.uint64), visitor[hashed]], axis=1)
    return (
        int(len(np.unique(pairs, axis=0)) + (~hashed).sum()) if len(pairs) else int((~hashed).sum())
    )


def series(visits: Visits, edges: Ints) -> tuple[Ints, Ints]:
    """Visits and page views per bucket [edges[k], edges[k + 1]) of start time."""
    rows = visits.table.visits[visits.rows]
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
    """Per chosen visit: did any of its items match (a goal's step matrix row)."""
    if not len(rows):
        return np.zeros(0, bool)
    starts, ends = visits.item_offsets[rows], visits.item_offsets[rows + 1]
    picked = concat_ranges(starts, ends)
    hit = matches[visits.items["item"][picked]].astype(np.int64)
    owner = np.repeat(np.arange(len(rows)), ends - starts)
    return np.bincount(owner, weights=hit, minlength=len(rows)) > 0


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
    rows = visits.table.visits[visits.rows]
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


def by_touch(visits: Visits, name: Callable[[Touch], str]) -> Ranked:
    """Visits per value a touch gives (its source, browser, country...); "" values left out."""
    touch = visits.table.visits["touch"][visits.rows]
    ids, found = np.unique(touch, return_counts=True)
    vocab = visits.table.vocab
    named: dict[str, int] = {}
    for i, n in zip(ids.tolist(), found.tolist(), strict=True):
        value = name(parse_entry(vocab[i]) if 0 <= i < len(vocab) else Touch())
        if value:
            named[value] = named.get(value, 0) + n
    return _ranked(named.items())


def by_channel(visits: Visits) -> list[tuple[str, int, int | None]]:
    """(slug, visits, conversions) per channel, most visits first."""
    slugs, found = np.unique(visits.channels, return_counts=True)
    out = []
    for slug, n in zip(slugs.tolist(), found.tolist(), strict=True):
        conversions = None
        if visits.converted is not None:
            conversions = int(visits.converted[visits.channels == slug].sum())
        out.append((str(slug), int(n), conversions))
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

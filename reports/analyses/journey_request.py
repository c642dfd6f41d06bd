"""Journeys and A-to-B over a site's stored sessions: the one entry point for the CLI, the API and
the report, as `run_funnel` is for funnels.

A `JourneyRequest` or `PathsRequest` is what a person asks for, in days of a time zone. Visits
are the sessions that started in [first day's midnight, the midnight after the last day), then
kept by band, entry source and (with a goal) whether they converted. Anchors, the goal and
exclusions take the page syntax of funnels (reports.analyses.steps) and match raw paths.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import redis

from collector.days import parse_zone
from collector.pages import PageTemplates, band_index
from collector.sites import Site
from reports.analyses.channel_rules import ChannelRule
from reports.analyses.funnel_request import day_range_ms
from reports.analyses.journey_result import (
    JourneyResult,
    PathsResult,
    between_json,
    detours_json,
    map_json,
    paths_json,
    time_json,
)
from reports.analyses.journey_visits import VisitRows, visits_from_table
from reports.analyses.journeys import BoolArray, JourneyQuery, map_journeys
from reports.analyses.paths import find_paths
from reports.analyses.steps import EVENT, Step, parse_step, step_matrix
from reports.analyses.visit_channels import entry_channels
from reports.sessions.layout import SESSION_GAP_MS, SESSION_MAX_MS, IntArray, SessionTable
from reports.sessions.reader import load_sessions


class JourneyError(ValueError):
    """A request that cannot be answered, naming the parameter at fault."""

    def __init__(self, parameter: str, problem: str) -> None:
        super().__init__(f"{parameter}: {problem}")
        self.parameter = parameter
        self.problem = problem


@dataclass(frozen=True)
class VisitFilter:
    """Which visits count: the days they started on, and optional filters."""

    first: date
    last: date
    zone: str = "UTC"
    band: str | None = None  # None: every band
    source: str | None = None  # the entry source: "(direct)", a referrer host or a UTM source
    templates: tuple[str, ...] = ()
    channel: str | None = None  # a channel slug (reports.analyses.channel_names)
    channel_rules: tuple[ChannelRule, ...] = ()  # [channels] of clicktrail.toml


@dataclass(frozen=True)
class JourneyRequest:
    visits: VisitFilter
    start: str | None = None
    end: str | None = None
    steps: int = 5
    rows: int = 5
    goal: str | None = None
    converted: bool | None = None  # with a goal: only visits that reached it, or did not
    events: bool = False
    exclude: tuple[str, ...] = ()
    merge_templates: bool = False


@dataclass(frozen=True)
class PathsRequest:
    visits: VisitFilter
    start: str
    end: str


@dataclass(frozen=True)
class LoadedVisits:
    table: SessionTable
    sessions: IntArray  # the sessions that count
    templates: PageTemplates
    as_of: str


def run_journeys(
    client: redis.Redis,
    site: Site,
    request: JourneyRequest,
    now_ms: int | None = None,
    gap_ms: int = SESSION_GAP_MS,
    max_ms: int = SESSION_MAX_MS,
) -> JourneyResult:
    steps = _parse(request)  # before loading: a bad parameter costs no I/O
    loaded = load_visits(client, site, request.visits, now_ms, gap_ms, max_ms)
    return _map(site.name, loaded.table, loaded.sessions, request, steps, loaded.as_of)


def journeys_of(
    site: str,
    table: SessionTable,
    sessions: IntArray,
    request: JourneyRequest,
    now_ms: int,
    anchors: IntArray | None = None,
) -> JourneyResult:
    """The journey map of chosen sessions of a table already loaded (the report's, from its
    funnel). The caller chose the sessions: the request's days and zone only name the period in
    the answer; its band and source still apply. `anchors` (table rows), when given, are the
    only rows the start or end anchor may match: the report starts each visit at its funnel
    step's own event, not at the first page view like it."""
    steps = _parse(request)
    chosen = request.visits
    kept = sessions[_band_and_source(table, chosen, chosen_band(chosen))[sessions]]
    zone = zone_of(chosen.zone)
    as_of = datetime.fromtimestamp(now_ms / 1000, zone).isoformat(timespec="seconds")
    return _map(site, table, kept, request, steps, as_of, anchors)


@dataclass(frozen=True)
class _Steps:
    start: Step | None
    end: Step | None
    goal: Step | None
    exclude: list[Step]


def _parse(request: JourneyRequest) -> _Steps:
    """The request's anchors, goal and exclusions as steps; JourneyError for what is wrong."""
    templates = PageTemplates(request.visits.templates)
    start, end, goal = (
        _step(name, pattern, templates)
        for name, pattern in (
            ("start", request.start),
            ("end", request.end),
            ("goal", request.goal),
        )
    )
    exclude = [
        _page_step("exclude", pattern, templates, events=True) for pattern in request.exclude
    ]
    if request.converted is not None and goal is None:
        raise JourneyError("converted", "needs a goal to say who converted")
    probe = JourneyQuery(
        request.steps,
        request.rows,
        start=None if start is None else np.zeros(0, bool),
        end=None if end is None else np.zeros(0, bool),
    )
    try:
        probe.check()
    except ValueError as exc:
        raise JourneyError(str(exc).partition(" ")[0], str(exc)) from None
    return _Steps(start, end, goal, exclude)


def _map(
    site: str,
    table: SessionTable,
    sessions: IntArray,
    request: JourneyRequest,
    steps: _Steps,
    as_of: str,
    anchors: IntArray | None = None,
) -> JourneyResult:
    start, end, goal = steps.start, steps.end, steps.goal
    if goal is not None and request.converted is not None:
        sessions = sessions[_sessions_reaching(table, sessions, goal) == request.converted]
    rows = visits_from_table(
        table,
        PageTemplates(request.visits.templates),
        sessions,
        events=request.events,
        exclude=steps.exclude,
    )
    warnings = [
        *_anchor_warnings(table, rows, {"start": start, "end": end}, request.events),
        *_unmatched(
            table, rows.all_rows, [("goal", goal), *(("exclude", s) for s in steps.exclude)]
        ),
    ]
    allowed = None if anchors is None else np.isin(rows.rows, anchors)
    query = JourneyQuery(
        request.steps,
        request.rows,
        request.merge_templates,
        None if start is None else _anchored(rows.matching(table, start), allowed),
        None if end is None else _anchored(rows.matching(table, end), allowed),
        None if goal is None else rows.reached(table, goal),
    )
    journeys = map_journeys(rows.visits, query)
    columns, edges = map_json(journeys)
    return {
        "site": site,
        "from": request.visits.first.isoformat(),
        "to": request.visits.last.isoformat(),
        "time_zone": request.visits.zone,
        "as_of": as_of,
        "mode": journeys.mode,
        "direction": journeys.direction,
        "start": request.start,
        "end": request.end,
        "goal": request.goal,
        "visits": journeys.visits,
        "never_reached": journeys.never_reached,
        "warnings": warnings,
        "columns": columns,
        "edges": edges,
    }


def _anchored(matches: BoolArray, allowed: BoolArray | None) -> BoolArray:
    return matches if allowed is None else matches & allowed


def run_paths(
    client: redis.Redis,
    site: Site,
    request: PathsRequest,
    now_ms: int | None = None,
    gap_ms: int = SESSION_GAP_MS,
    max_ms: int = SESSION_MAX_MS,
) -> PathsResult:
    templates = PageTemplates(request.visits.templates)
    start = _page_step("start", request.start, templates)
    end = _page_step("end", request.end, templates)
    loaded = load_visits(client, site, request.visits, now_ms, gap_ms, max_ms)
    table = loaded.table
    rows = visits_from_table(table, loaded.templates, loaded.sessions)
    found = find_paths(rows.visits, rows.matching(table, start), rows.matching(table, end))
    return {
        "site": site.name,
        "start": request.start,
        "end": request.end,
        "from": request.visits.first.isoformat(),
        "to": request.visits.last.isoformat(),
        "time_zone": request.visits.zone,
        "as_of": loaded.as_of,
        "visits_with_start": found.visits_with_start,
        "reached_end": found.reached_end,
        "never_reached": found.never_reached,
        "in_progress": found.in_progress,
        "direct_share": found.direct_share,
        "warnings": _anchor_warnings(table, rows, {"start": start, "end": end}, False),
        "between": between_json(found),
        "time_s": time_json(found),
        "detours": detours_json(found),
        "paths": paths_json(found),
    }


def _step(parameter: str, pattern: str | None, templates: PageTemplates) -> Step | None:
    if pattern is None:
        return None
    try:
        return parse_step(pattern, templates)
    except ValueError as exc:
        raise JourneyError(parameter, str(exc)) from None


def _page_step(
    parameter: str, pattern: str, templates: PageTemplates, events: bool = False
) -> Step:
    step = _step(parameter, pattern, templates)
    assert step is not None
    if step.kind == EVENT and not events:
        raise JourneyError(parameter, f"{pattern!r}: A to B runs between pages, not events")
    return step


def load_visits(
    client: redis.Redis,
    site: Site,
    chosen: VisitFilter,
    now_ms: int | None,
    gap_ms: int,
    max_ms: int,
) -> LoadedVisits:
    """The table of sessions around the range and the ones that count."""
    zone = zone_of(chosen.zone)
    try:
        start_ms, end_ms = day_range_ms(chosen.first, chosen.last, zone)
    except ValueError as exc:
        raise JourneyError("from", str(exc)) from None
    band = chosen_band(chosen)
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    table = load_sessions(client, site, start_ms, end_ms, 0, gap_ms, max_ms, now_ms)
    in_range = (table.start >= start_ms) & (table.start < end_ms)
    keep = in_range & _band_and_source(table, chosen, band, site.origins)
    as_of = datetime.fromtimestamp(now_ms / 1000, zone).isoformat(timespec="seconds")
    return LoadedVisits(table, np.flatnonzero(keep), PageTemplates(chosen.templates), as_of)


def zone_of(name: str) -> ZoneInfo:
    try:
        return parse_zone(name)
    except ValueError as exc:
        raise JourneyError("tz", str(exc)) from None


def chosen_band(chosen: VisitFilter) -> int | None:
    try:
        return None if chosen.band is None else band_index(chosen.band)
    except ValueError as exc:
        raise JourneyError("band", str(exc)) from None


def _band_and_source(
    table: SessionTable, chosen: VisitFilter, band: int | None, site_hosts: Sequence[str] = ()
) -> BoolArray:
    """Per session of the table: is it of the chosen band, entry source and channel (whose
    Internal needs the site's hosts)."""
    keep = np.ones(len(table), dtype=bool)
    if band is not None:
        keep &= table.band == band
    if chosen.source is not None:
        wanted = np.array([name == chosen.source for name in table.sources], dtype=bool)
        keep &= wanted[table.source] if len(wanted) else False
    if chosen.channel is not None:
        slugs = entry_channels(table.vocab, site_hosts, chosen.channel_rules)
        wanted = np.array([slug == chosen.channel for slug in slugs], dtype=bool)
        keep &= wanted[table.source] if len(wanted) else False
    return keep


def _sessions_reaching(table: SessionTable, sessions: IntArray, goal: Step) -> np.ndarray:
    """Per chosen session: does any of its rows match the goal."""
    entry = step_matrix([goal], table.vocab)[0]
    hits = np.flatnonzero(entry[table.item]) if len(entry) else np.zeros(0, np.int64)
    owner = np.searchsorted(table.offsets, hits, side="right") - 1
    reached = np.zeros(len(table), dtype=bool)
    reached[owner] = True
    out: np.ndarray = reached[sessions]
    return out


def _anchor_warnings(
    table: SessionTable, rows: VisitRows, anchors: dict[str, Step | None], events: bool
) -> list[str]:
    out = []
    for name, step in anchors.items():
        if step is not None and step.kind == EVENT and not events:
            out.append(f"{name} ({step.pattern}) is a custom event: add events to count them")
        elif step is not None and not rows.matching(table, step).any():
            out.append(f"{name} ({step.pattern}) matched no {_what(step)} in this range")
    return out


def _unmatched(
    table: SessionTable, all_rows: IntArray, steps: list[tuple[str, Step | None]]
) -> list[str]:
    """A warning for each step no row of the visits matches, whether it is kept or not."""
    out = []
    for name, step in steps:
        if step is None:
            continue
        entry = step_matrix([step], table.vocab)[0]
        if not (entry[table.item[all_rows]].any() if len(all_rows) else False):
            out.append(f"{name} ({step.pattern}) matched no {_what(step)} in this range")
    return out


def _what(step: Step) -> str:
    return "event" if step.kind == EVENT else "page view"

"""The traffic overview of a site: the one entry point for `clicktrail overview`, GET
/api/sites/{site}/overview and the dashboard, with the JSON they all print.

The period is whole days of a time zone; the previous period is as many days right before it.
The series is hourly for periods of up to two days, else daily. Referrer spam is left out of
every figure and counted apart (`spam_visits`). Goals are pages or events (the page syntax of
funnels, reports.analyses.steps), named in [goals] of clicktrail.toml or written out.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import redis

from collector.pages import PageTemplates
from collector.sites import Site
from reports.analyses import overview as o
from reports.analyses.channel_names import Channel
from reports.analyses.funnel_request import day_range_ms, midnight_ms
from reports.analyses.goals import goal_step
from reports.analyses.journey_request import JourneyError, VisitFilter, chosen_band, zone_of
from reports.analyses.overview_result import PeriodJson, overview_json
from reports.analyses.steps import Step, step_matrix
from reports.analyses.visit_channels import entry_channels
from reports.sessions.layout import SESSION_GAP_MS, SESSION_MAX_MS
from reports.sessions.rollup_reader import VisitTable, load_visits_rolled
from reports.sessions.touches import SOURCE_PREFIX, TOUCH_PREFIX, parse_entry

HOURLY_UP_TO_DAYS = 2
HOUR_MS = 3_600_000
DEFAULT_LIMIT = 10
MAX_LIMIT = 100_000  # rows per list: "show all" in the dashboard


@dataclass(frozen=True)
class OverviewRequest:
    visits: VisitFilter
    goal: str | None = None  # a goal's name in [goals], or a page or event pattern
    goals: Mapping[str, str] = field(default_factory=dict)  # [goals] of clicktrail.toml
    limit: int = DEFAULT_LIMIT  # rows per list; 0: all


@dataclass(frozen=True)
class Period:
    first: date
    last: date
    start_ms: int
    end_ms: int
    zone: ZoneInfo

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def before(self) -> Period:
        """The period of as many days right before this one."""
        first, last = self.first - timedelta(self.days), self.first - timedelta(1)
        return Period(first, last, *day_range_ms(first, last, self.zone), self.zone)

    def edges(self) -> o.Ints:
        """Bucket edges of the series: every hour for short periods, else every midnight."""
        if self.days <= HOURLY_UP_TO_DAYS:
            return np.arange(self.start_ms, self.end_ms + 1, HOUR_MS, dtype=np.int64)
        return self.midnights()

    def midnights(self) -> o.Ints:
        days = [self.first + timedelta(d) for d in range(self.days + 1)]
        return np.array([midnight_ms(d, self.zone) for d in days], dtype=np.int64)

    def day_of(self, start: o.Ints) -> o.Ints:
        """The day (index from the period's first) each start time falls on in the zone."""
        return np.searchsorted(self.midnights(), start, side="right") - 1


def run_overview(
    client: redis.Redis,
    site: Site,
    request: OverviewRequest,
    now_ms: int | None = None,
    gap_ms: int = SESSION_GAP_MS,
    max_ms: int = SESSION_MAX_MS,
) -> dict[str, Any]:
    chosen = request.visits
    zone = zone_of(chosen.zone)
    band = chosen_band(chosen)
    templates = PageTemplates(chosen.templates)
    goals = {name: goal_step(name, request.goals, templates, name) for name in request.goals}
    goal = None if request.goal is None else goal_step(request.goal, request.goals, templates)
    if not 0 <= request.limit <= MAX_LIMIT:
        raise JourneyError("limit", f"from 0 (all) to {MAX_LIMIT}")
    try:
        bounds = day_range_ms(chosen.first, chosen.last, zone)
    except ValueError as exc:
        raise JourneyError("from", str(exc)) from None
    current = Period(chosen.first, chosen.last, *bounds, zone)
    previous = current.before()
    table = load_visits_rolled(client, site, previous.start_ms, current.end_ms, gap_ms, max_ms)
    slugs = np.asarray(entry_channels(table.vocab, site.origins, chosen.channel_rules) or [""])
    touch = table.visits["touch"]
    is_spam = (slugs == Channel.SPAM.value)[touch]  # per vocabulary id first: no string per visit
    keep = ~is_spam
    if band is not None:
        keep &= table.visits["band"] == band
    if chosen.channel is not None:
        keep &= (slugs == chosen.channel)[touch]
    if chosen.source is not None:
        keep &= _of_source(table, chosen.source)[touch]
    start = table.visits["start"]
    now = datetime.fromtimestamp((time.time() * 1000 if now_ms is None else now_ms) / 1000, zone)
    warnings = []
    spam = int((is_spam & (start >= current.start_ms)).sum())

    def chosen_visits(period: Period, goal_step: Step | None) -> o.Visits:
        rows = np.flatnonzero(keep & (start >= period.start_ms) & (start < period.end_ms))
        converted = None
        if goal_step is not None:
            converted = o.reached(table, rows, _matches(goal_step, table))
        return o.Visits(table, rows, slugs, converted)

    now_visits = chosen_visits(current, goal)
    if goal is not None and now_visits.converted is not None and not now_visits.converted.any():
        warnings.append(f"goal ({goal.pattern}) was reached by no visit in this range")
    goal_results = {
        name: (request.goals[name], chosen_visits(current, step)) for name, step in goals.items()
    }
    return overview_json(
        site=site.name,
        chosen=chosen,
        goal=request.goal,
        limit=request.limit,
        as_of=now.isoformat(timespec="seconds"),
        warnings=warnings,
        spam_visits=spam,
        current=_period(now_visits, current),
        previous=_period(chosen_visits(previous, goal), previous),
        previous_range=(previous.first.isoformat(), previous.last.isoformat()),
        lists=now_visits,
        goals=goal_results,
    )


def _period(visits: o.Visits, period: Period) -> PeriodJson:
    edges = period.edges()
    counts, views = o.series(visits, edges)
    return PeriodJson(
        totals=o.totals(visits, period.day_of),
        edges=edges,
        visits=counts,
        pageviews=views,
        zone=period.zone,
    )


def _matches(step: Step, table: VisitTable) -> o.Bools:
    matches: o.Bools = step_matrix([step], table.vocab)[0]
    return matches


def _of_source(table: VisitTable, source: str) -> o.Bools:
    """Per vocabulary entry: is it a touch of this entry source (funnels' `--by source` name)."""
    return np.array(
        [
            entry[:2] in (SOURCE_PREFIX, TOUCH_PREFIX) and parse_entry(entry).source_name == source
            for entry in table.vocab
        ],
        dtype=bool,
    )

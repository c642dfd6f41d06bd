"""A funnel over a site's stored sessions: the one entry point for the CLI, the API and reports.

One name per stage: a `FunnelDefinition` (reports.scheduled.config) is a configured funnel; a
`FunnelRequest` is what to compute, in days of a time zone; `run_funnel` resolves it into a
`FunnelQuery` (ms, reports.analyses.funnel_table), parses its steps once with the site's page
templates, and answers with a `FunnelRun`: the typed `FunnelResult` and what it was counted from.

Dates are whole days in a time zone; the range selects step-1 events from the first day's
midnight to the midnight after the last day."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import redis

from collector.days import check_range, parse_zone
from collector.pages import PageTemplates
from collector.sites import Site
from reports.analyses.channel_rules import ChannelRule
from reports.analyses.funnel import Outcome, Units
from reports.analyses.funnel_result import FunnelResult
from reports.analyses.funnel_table import FunnelQuery, compute_funnel
from reports.analyses.steps import PAGE, Step, parse_steps, step_matrix
from reports.analyses.visit_channels import entry_channels
from reports.sessions.layout import SESSION_GAP_MS, SESSION_MAX_MS, SessionTable
from reports.sessions.reader import load_sessions

DEFAULT_WINDOW_MS = 3_600_000


def day_range_ms(first: date, last: date, zone: ZoneInfo) -> tuple[int, int]:
    """[midnight of first, midnight after last) in `zone`, as ms."""
    check_range(first, last)
    return midnight_ms(first, zone), midnight_ms(last + timedelta(days=1), zone)


def midnight_ms(day: date, zone: ZoneInfo) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=zone).timestamp() * 1000)


@dataclass(frozen=True)
class FunnelRequest:
    """A funnel as a person asks for it: steps, days, and how to count."""

    steps: list[str]
    first: date
    last: date
    window_ms: int = DEFAULT_WINDOW_MS
    strict: bool = False
    unit: str = "session"
    breakdown: str | None = None
    zone: str = "UTC"
    templates: tuple[str, ...] = field(default=())
    channel_rules: tuple[ChannelRule, ...] = field(default=())  # [channels] of clicktrail.toml


@dataclass(frozen=True)
class FunnelRun:
    """A request's answer, with the sessions, units and outcome it came from (the report reads
    where the abandoning units clicked) and its steps, parsed once with the page templates."""

    result: FunnelResult  # JSON-ready
    table: SessionTable
    units: Units
    outcome: Outcome
    steps: list[Step]


def run_funnel(
    client: redis.Redis,
    site: Site,
    request: FunnelRequest,
    now_ms: int | None = None,
    gap_ms: int = SESSION_GAP_MS,
    max_ms: int = SESSION_MAX_MS,
) -> FunnelRun:
    zone = parse_zone(request.zone)
    start_ms, end_ms = day_range_ms(request.first, request.last, zone)
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    query = FunnelQuery(
        patterns=request.steps,
        window_ms=request.window_ms,
        start_ms=start_ms,
        end_ms=end_ms,
        now_ms=now_ms,
        strict=request.strict,
        unit=request.unit,
        breakdown=request.breakdown,
    )
    templates = PageTemplates(request.templates)
    steps = parse_steps(request.steps, templates)
    table = load_sessions(client, site, start_ms, end_ms, request.window_ms, gap_ms, max_ms)
    if request.breakdown == "channel":
        channels = entry_channels(table.vocab, site.origins, request.channel_rules)
        query = replace(query, channels=channels)
    numbers, units, outcome = compute_funnel(table, query, templates, steps)
    result: FunnelResult = {
        "site": site.name,
        "window_s": request.window_ms / 1000,
        "strict": request.strict,
        "unit": request.unit,
        "from": request.first.isoformat(),
        "to": request.last.isoformat(),
        "time_zone": request.zone,
        "as_of": datetime.fromtimestamp(now_ms / 1000, zone).isoformat(timespec="seconds"),
        "overall": numbers["overall"],
        "steps": numbers["steps"],
        "warnings": unmatched_steps(steps, table, start_ms, end_ms + request.window_ms),
    }
    if "breakdown" in numbers:
        result["breakdown"] = numbers["breakdown"]
    return FunnelRun(result, table, units, outcome, steps)


def unmatched_steps(
    steps: list[Step], table: SessionTable, start_ms: int, end_ms: int
) -> list[str]:
    """A warning for each step that no page view or event of [start_ms, end_ms) matches."""
    present = np.zeros(len(table.vocab), dtype=bool)
    present[table.item[(table.ts >= start_ms) & (table.ts < end_ms)]] = True
    matched = [bool(row.any()) for row in step_matrix(steps, table.vocab) & present]
    return [
        f"step {k + 1} ({step.pattern}) matched no "
        f"{'page view' if step.kind == PAGE else 'event'} in this range"
        for k, step in enumerate(steps)
        if not matched[k]
    ]

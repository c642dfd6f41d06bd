"""The abandonment report's numbers: a funnel over a period and the one before it, the daily
conversion, whether the change is real, where the abandoning sessions clicked before they left
each step's page, the journeys into the funnel and out of it where they dropped, and the
conversion by entry channel."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
import redis
from PIL import Image

from collector.days import parse_zone
from collector.pages import BANDS, PageTemplates
from collector.sites import Site
from heatmap.grid import GRID_COLUMNS, grid_from_cells
from heatmap.screenshots import load_screenshot
from reports.analyses.channel_rules import ChannelRule
from reports.analyses.funnel_request import (
    FunnelRun,
    midnight_ms,
    run_funnel,
)
from reports.analyses.funnel_result import FunnelResult
from reports.analyses.stats import compare
from reports.analyses.steps import labels, step_matrix
from reports.scheduled.channels import report_channels
from reports.scheduled.config import FunnelDefinition
from reports.scheduled.journeys import report_journeys
from reports.scheduled.numbers import (
    ConversionChange,
    DayConversion,
    HeatSummary,
    Period,
    ReportNumbers,
)
from reports.scheduled.periods import covers
from reports.sessions.layout import CLICK_RAGE, concat_ranges

FloatGrid = npt.NDArray[np.float64]
MIN_ROWS = 900 // 16  # a laptop viewport, in 16 px grid rows
MARGIN_ROWS = 8


@dataclass(frozen=True)
class AbandonedClicks:
    """Clicks of the units that dropped at one step, on that step's page, after arriving."""

    step: int  # 1-based
    pattern: str
    band: str  # the band most of them used; the grid holds that band's clicks only
    sessions: int
    clicks: int
    rage: int
    grid: FloatGrid
    page: str = ""  # the page template most of their clicks were on: its picture goes under
    background: Image.Image | None = field(default=None, compare=False)


@dataclass(frozen=True)
class ReportData:
    data: ReportNumbers  # JSON-ready: every number in the report
    current: FunnelRun
    previous: FunnelRun
    daily: list[tuple[date, int, int]]
    previous_daily: list[tuple[date, int, int]]
    heat: list[AbandonedClicks]


def build_report(
    client: redis.Redis,
    site: Site,
    funnel: FunnelDefinition,
    first: date,
    last: date,
    zone: str = "UTC",
    templates: tuple[str, ...] = (),
    now_ms: int | None = None,
    session_ms: tuple[int, int] | None = None,
    channel_rules: tuple[ChannelRule, ...] = (),
) -> ReportData:
    days = (last - first).days + 1
    before = (first - timedelta(days=days), first - timedelta(days=1))
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    gap_max = {"gap_ms": session_ms[0], "max_ms": session_ms[1]} if session_ms else {}
    runs = []
    for span in ((first, last), before):
        request = funnel.request(*span, breakdown="band", zone=zone, templates=templates)
        runs.append(run_funnel(client, site, request, now_ms, **gap_max))
    current, previous = runs
    daily = daily_conversion(current, first, last, zone)
    previous_daily = daily_conversion(previous, *before, zone)
    heat = [
        _with_picture(client, site, abandoned_clicks(current, k, templates))
        for k in range(len(funnel.steps) - 1)
    ]
    period: Period = {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "time_zone": zone,
        "covers": covers(first, last, zone),
    }
    change = _change(current.result, previous.result)
    channels = report_channels(
        client, site, current, ((first, last), before), zone, templates, channel_rules,
        now_ms, **gap_max,
    )  # fmt: skip
    data: ReportNumbers = {
        "site": site.name,
        "funnel": {"name": funnel.name, "steps": list(funnel.steps)},
        "period": period,
        "previous_period": {"from": before[0].isoformat(), "to": before[1].isoformat()},
        "current": current.result,
        "previous": previous.result,
        "change": change,
        "daily": [_day(d) for d in daily],
        "previous_daily": [_day(d) for d in previous_daily],
        "abandonment_heatmaps": [_heat_summary(h) for h in heat if h.sessions],
        "journeys": report_journeys(current, first, last, zone, templates, now_ms),
        "channels": channels,
        "headline": headline(current.result, period, change),
    }
    return ReportData(data, current, previous, daily, previous_daily, heat)


def daily_conversion(
    run: FunnelRun, first: date, last: date, zone: str
) -> list[tuple[date, int, int]]:
    """(day, entered, converted) per day of the best attempt's step-1 event."""
    tz = parse_zone(zone)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    edges = np.array([midnight_ms(d, tz) for d in [*days, last + timedelta(days=1)]])
    starts = run.units.ts[run.outcome.rows[0]] if len(run.outcome) else np.zeros(0, np.int64)
    day = np.searchsorted(edges, starts, side="right") - 1
    converted = run.outcome.level == len(run.outcome.rows)
    entered_n = np.bincount(day, minlength=len(days))[: len(days)]
    converted_n = np.bincount(day[converted], minlength=len(days))[: len(days)]
    return [(d, int(e), int(c)) for d, e, c in zip(days, entered_n, converted_n, strict=True)]


def _with_picture(client: redis.Redis, site: Site, heat: AbandonedClicks) -> AbandonedClicks:
    """The heatmap of a step over the page's stored picture (`clicktrail screenshot`)."""
    if not heat.page:
        return heat
    return replace(heat, background=load_screenshot(client, site.name, heat.band, heat.page))


def abandoned_clicks(run: FunnelRun, k: int, templates: tuple[str, ...] = ()) -> AbandonedClicks:
    """Where the units that dropped at step k + 1 clicked on that step's page before leaving."""
    outcome, units, table = run.outcome, run.units, run.table
    dropped = (outcome.level == k + 1) & ~outcome.open
    step_rows = outcome.rows[k, dropped]
    sessions = units.session_of(step_rows)
    arrived = units.ts[step_rows]
    band = (
        BANDS[int(np.bincount(table.band[sessions], minlength=3).argmax())]
        if len(sessions)
        else "desktop"
    )
    on_page = step_matrix(run.steps, table.vocab)[k]
    counts = np.diff(table.click_offsets)[sessions]
    click_rows = concat_ranges(table.click_offsets[sessions], table.click_offsets[sessions + 1])
    owner = np.repeat(np.arange(len(sessions)), counts)
    clicks = table.clicks[click_rows]
    keep = on_page[clicks["item"]] & (clicks["ts"] >= arrived[owner])
    keep &= table.band[sessions][owner] == BANDS.index(band)
    clicks = clicks[keep]
    cells = clicks["row"].astype(np.int64) * GRID_COLUMNS + clicks["col"]
    # At least a viewport deep, and past the lowest click by the kernel: nothing cut off.
    rows = max(MIN_ROWS, int(clicks["row"].max()) + 1 + MARGIN_ROWS if len(clicks) else 0)
    grid = grid_from_cells(cells, rows=rows)
    rage = int(((clicks["flags"] & CLICK_RAGE) > 0).sum())
    page = ""
    if len(clicks):
        names = labels(table.vocab, PageTemplates(templates))
        page = names[int(np.bincount(clicks["item"]).argmax())]
    return AbandonedClicks(
        k + 1, run.steps[k].pattern, band, len(sessions), len(clicks), rage, grid, page
    )


def _change(current: FunnelResult, previous: FunnelResult) -> ConversionChange:
    now, before = current["overall"], previous["overall"]
    change = compare((now["converted"], now["entered"]), (before["converted"], before["entered"]))
    return {
        "metric": "conversion rate, step 1 to the last step",
        "current": change.current,
        "previous": change.previous,
        "difference": change.difference,
        "ci95_low": change.low,
        "ci95_high": change.high,
        "significant": change.significant,
    }


def headline(current: FunnelResult, period: Period, change: ConversionChange) -> str:
    """One sentence with the key number, and whether it changed for real."""
    overall, steps = current["overall"], current["steps"]
    if not overall["entered"]:
        return f"No sessions reached {steps[0]['pattern']} from {period['from']} to {period['to']}."
    worst = max(steps[:-1], key=lambda s: (s["drop_off_rate"] or 0, -s["step"]))
    rate = overall["conversion_rate"] or 0.0  # not None: someone entered
    sentence = (
        f"{100 * rate:.1f}% of {overall['entered']:,} sessions that reached "
        f"{steps[0]['pattern']} went on to {steps[-1]['pattern']}; the biggest loss was after "
        f"{worst['pattern']} ({100 * (worst['drop_off_rate'] or 0):.0f}% left)"
    )
    difference, low, high = change["difference"], change["ci95_low"], change["ci95_high"]
    if difference is None or low is None or high is None:  # all None together: no rate before
        return sentence + "."
    points = 100 * difference
    span = f"95% CI {100 * low:+.1f} to {100 * high:+.1f} points"
    if change["significant"]:
        direction = "up" if points > 0 else "down"
        verdict = f"{direction} {abs(points):.1f} points on the previous period ({span})"
    else:
        verdict = f"no real change on the previous period ({points:+.1f} points, {span})"
    return f"{sentence}; {verdict}."


def _day(day: tuple[date, int, int]) -> DayConversion:
    d, entered, converted = day
    rate = round(converted / entered, 6) if entered else None
    return {
        "day": d.isoformat(),
        "entered": entered,
        "converted": converted,
        "conversion_rate": rate,
    }


def _heat_summary(heat: AbandonedClicks) -> HeatSummary:
    return {
        "step": heat.step,
        "pattern": heat.pattern,
        "band": heat.band,
        "abandoning_sessions": heat.sessions,
        "clicks": heat.clicks,
        "rage_clicks": heat.rage,
    }

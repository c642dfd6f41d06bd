"""The report's conversion by entry channel: for the report's days, the visits each channel
brought and how many reached the funnel's last step, beside the same for the previous period.

The numbers are `run_channels`' with the funnel's last step as the goal, so the report,
`clicktrail channels --goal` and GET /api/sites/{site}/channels agree. A conversion here is a
visit that reached that step at all, in any order: not the funnel's conversion, which needs
every step in order within its window. Referrer spam is left out, as in every channel list.
"""

from __future__ import annotations

from datetime import date

import redis

from collector.sites import Site
from reports.analyses.channel_names import Channel
from reports.analyses.channel_report import (
    ChannelRow,
    ChannelsRequest,
    run_channels,
)
from reports.analyses.channel_rules import ChannelRule
from reports.analyses.funnel_request import FunnelRun
from reports.analyses.journey_request import VisitFilter
from reports.analyses.stats import compare
from reports.scheduled.numbers import ChannelConversion, ChannelFigures
from reports.sessions.layout import SESSION_GAP_MS, SESSION_MAX_MS

NO_NUMBER = "—"  # a rate or change whose denominator is 0
TEXT_COLUMNS = ("Channel", "Visits", "Conversions", "Rate", "Before", "Change")


def report_channels(
    client: redis.Redis,
    site: Site,
    run: FunnelRun,
    periods: tuple[tuple[date, date], tuple[date, date]],
    zone: str,
    templates: tuple[str, ...] = (),
    channel_rules: tuple[ChannelRule, ...] = (),
    now_ms: int | None = None,
    gap_ms: int = SESSION_GAP_MS,
    max_ms: int = SESSION_MAX_MS,
) -> list[ChannelConversion]:
    """Per channel of either period, its visits and conversions to the funnel's last step now
    and in the period before; most visits now first."""
    goal = run.steps[-1].pattern  # as journeys.py anchors on the run's own parsed steps
    by_period = []
    for first, last in periods:
        visits = VisitFilter(first, last, zone, templates=templates, channel_rules=channel_rules)
        result = run_channels(client, site, ChannelsRequest(visits, goal), now_ms, gap_ms, max_ms)
        by_period.append({row["channel"]: row for row in result["channels"]})
    current, previous = by_period
    rows = [
        _conversion(slug, current.get(slug), previous.get(slug))
        for slug in current.keys() | previous.keys()
    ]
    rows.sort(key=lambda r: (-r["visits"], -r["previous"]["visits"], r["channel"]))
    return rows


def _conversion(slug: str, now: ChannelRow | None, before: ChannelRow | None) -> ChannelConversion:
    figures, previous = _figures(now), _figures(before)
    change = compare(
        (figures["conversions"], figures["visits"]), (previous["conversions"], previous["visits"])
    )
    return {
        "channel": slug,
        **figures,
        "previous": previous,
        "difference": change.difference,
        "significant": change.significant,
    }


def _figures(row: ChannelRow | None) -> ChannelFigures:
    """A channel's numbers in one period; zeros when nobody came from it then."""
    if row is None:
        return {"visits": 0, "conversions": 0, "conversion_rate": None}
    return {
        "visits": row["visits"],
        "conversions": row["conversions"] or 0,  # never None: the request has a goal
        "conversion_rate": row["conversion_rate"],
    }


def channel_name(slug: str) -> str:
    return Channel(slug).label


def rate_text(rate: float | None) -> str:
    return NO_NUMBER if rate is None else f"{100 * rate:.1f}%"


def points_text(difference: float | None) -> str:
    return NO_NUMBER if difference is None else f"{100 * difference:+.1f} pts"


def change_class(row: ChannelConversion) -> str:
    """Coloured like the report's headline change: only a change that is not noise."""
    difference = row["difference"]
    if difference is None or not row["significant"]:
        return "flat"
    return "up" if difference > 0 else "down"


def channels_text(rows: list[ChannelConversion], goal: str) -> str:
    """The table as plain text, for the e-mail's text part."""
    title = f"Conversion by entry channel (visits that reached {goal})"
    if not rows:
        return f"{title}: no visits in this period."
    table = [TEXT_COLUMNS] + [
        (
            channel_name(r["channel"]),
            f"{r['visits']:,}",
            f"{r['conversions']:,}",
            rate_text(r["conversion_rate"]),
            rate_text(r["previous"]["conversion_rate"]),
            points_text(r["difference"]),
        )
        for r in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(TEXT_COLUMNS))]
    lines = [
        "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(line, widths, strict=True))
        )
        for line in table
    ]
    return "\n".join([title, *lines])

"""The traffic overview as JSON: what `clicktrail overview --json` prints and the API answers.
Rates are between 0 and 1, null when their denominator is 0."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict
from zoneinfo import ZoneInfo

from reports.analyses import overview as o
from reports.analyses.channel_names import Channel
from reports.analyses.journey_request import VisitFilter

HOUR_MS = 3_600_000


class Point(TypedDict):
    t: str  # the bucket's start: a local date, or a local time for hourly series
    visits: int
    pageviews: int


class PeriodTotals(TypedDict):
    visitors: int
    visits: int
    pageviews: int
    pages_per_visit: float | None
    bounce_rate: float | None
    median_duration_s: float | None
    conversions: int | None
    conversion_rate: float | None


PreviousJson = TypedDict(
    "PreviousJson",
    {
        "from": str,
        "to": str,
        "visitors": int,
        "visits": int,
        "pageviews": int,
        "pages_per_visit": float | None,
        "bounce_rate": float | None,
        "median_duration_s": float | None,
        "conversions": int | None,
        "conversion_rate": float | None,
        "series": list[Point],
    },
)


@dataclass(frozen=True)
class PeriodJson:
    """One period's totals and series, ready to print."""

    totals: o.Totals
    edges: o.Ints
    visits: o.Ints
    pageviews: o.Ints
    zone: ZoneInfo

    def totals_json(self) -> PeriodTotals:
        t = self.totals
        return {
            "visitors": t.visitors,
            "visits": t.visits,
            "pageviews": t.pageviews,
            "pages_per_visit": t.pages_per_visit,
            "bounce_rate": t.bounce_rate,
            "median_duration_s": t.median_duration_s,
            "conversions": t.conversions,
            "conversion_rate": t.conversion_rate,
        }

    def series_json(self) -> list[Point]:
        hourly = len(self.edges) > 1 and int(self.edges[1] - self.edges[0]) == HOUR_MS
        out = []
        for at, visits, views in zip(
            self.edges[:-1].tolist(), self.visits.tolist(), self.pageviews.tolist(), strict=True
        ):
            local = datetime.fromtimestamp(at / 1000, self.zone)
            label = local.isoformat(timespec="minutes") if hourly else local.date().isoformat()
            out.append(Point(t=label, visits=visits, pageviews=views))
        return out


def overview_json(
    *,
    site: str,
    chosen: VisitFilter,
    goal: str | None,
    limit: int,
    as_of: str,
    warnings: list[str],
    spam_visits: int,
    current: PeriodJson,
    previous: PeriodJson,
    previous_range: tuple[str, str],
    lists: o.Visits,
    goals: Mapping[str, tuple[str, o.Visits]],
) -> dict[str, Any]:
    """The overview's JSON; `lists` are the current period's visits, `goals` each configured
    goal's pattern and visits (with who converted)."""
    counts = o.item_counts(lists)
    pages = o.pages(lists, counts)
    views_of = {page: views for page, _, views in pages}
    properties = o.properties(lists, counts)
    visits = current.totals.visits
    return {
        "site": site,
        "from": chosen.first.isoformat(),
        "to": chosen.last.isoformat(),
        "time_zone": chosen.zone,
        "as_of": as_of,
        "band": chosen.band,
        "channel": chosen.channel,
        "goal": goal,
        "warnings": warnings,
        **current.totals_json(),
        "spam_visits": spam_visits,
        "series": current.series_json(),
        "previous": {
            "from": previous_range[0],
            "to": previous_range[1],
            **previous.totals_json(),
            "series": previous.series_json(),
        },
        "pages": [
            {"page": page, "visits": n, "pageviews": views}
            for page, n, views in o.top(pages, limit)
        ],
        "entry_pages": [
            {"page": page, "visits": n} for page, n in o.top(o.landing(lists, "entry"), limit)
        ],
        "exit_pages": [
            {"page": page, "exits": n, "exit_rate": o.rate(n, views_of.get(page, 0))}
            for page, n in o.top(o.landing(lists, "exit"), limit)
        ],
        "channels": [
            {
                "channel": slug,
                "name": Channel(slug).label,
                "visits": n,
                "conversions": conversions,
                "conversion_rate": None if conversions is None else o.rate(conversions, n),
            }
            for slug, n, conversions in o.top(o.by_channel(lists), limit)
        ],
        **{
            key: [
                {field: name, "visits": n} for name, n in o.top(o.by_touch(lists, of, unset), limit)
            ]
            for key, field, of, unset in _TOUCH_LISTS
        },
        "devices": [{"band": band, "visits": n} for band, n in o.by_band(lists)],
        "events": [
            {
                "name": name,
                "visits": n,
                "count": count,
                "conversion_rate": o.rate(n, visits),
                "properties": [
                    {"property": prop, "value": value, "visits": pn, "count": pc}
                    for prop, value, pn, pc in o.top(properties.get(name, []), limit)
                ],
            }
            for name, n, count in o.top(o.events(lists, counts), limit)
        ],
        "goals": [
            _goal_json(name, pattern, goal_visits, limit)
            for name, (pattern, goal_visits) in goals.items()
        ],
    }


def _goal_json(name: str, pattern: str, visits: o.Visits, limit: int) -> dict[str, Any]:
    converted = 0 if visits.converted is None else int(visits.converted.sum())
    return {
        "name": name,
        "pattern": pattern,
        "conversions": converted,
        "conversion_rate": o.rate(converted, len(visits)),
        "channels": [
            {"channel": slug, "visits": n, "conversions": c}
            for slug, n, c in o.top(o.by_channel(visits), limit)
        ],
    }


# Lists of what every visit has (a browser, a system, a country, a host) count the visits that
# lack it as NOT_SET, so that they add up to the visits; campaigns, terms and contents only
# list the tagged ones.
_TOUCH_LISTS = (
    ("sources", "source", lambda t: t.source_name, ""),
    ("campaigns", "campaign", lambda t: t.campaign, ""),
    ("terms", "term", lambda t: t.term, ""),
    ("contents", "content", lambda t: t.content, ""),
    ("browsers", "browser", lambda t: t.browser, o.NOT_SET),
    ("os", "os", lambda t: t.os, o.NOT_SET),
    ("countries", "country", lambda t: t.country, o.NOT_SET),
    ("hostnames", "hostname", lambda t: t.host, o.NOT_SET),
)

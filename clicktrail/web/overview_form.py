"""The dashboard's overview form: a period preset (or a custom range), band, channel and goal,
read as the API reads them. What it yields is the query the page asks the API for, and the
filters the site's other pages carry (period and channel), so their links agree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from starlette.datastructures import QueryParams

from clicktrail.web import params as p
from clicktrail.web.overview_reads import OVERVIEW_PARAMS
from collector.days import OVERVIEW_PERIOD_DAYS
from reports.analyses.channel_names import Channel

# (value, label, days up to today); "custom" takes the from and to boxes as typed.
PRESETS = (("today", "Today", 1), ("7d", "Last 7 days", 7), ("30d", "Last 30 days", 30))
DEFAULT_PRESET = "30d"
CHANNEL_NAMES = {c.value: c.label for c in Channel if c is not Channel.SPAM}
FILTERS = ("from", "to", "band", "channel", "goal")
_PERIOD = p.Param("period", "", {}, p.one_of(*(v for v, _, _ in PRESETS), "custom"))
_SPECS = (_PERIOD, *(s for s in OVERVIEW_PARAMS if s.name in FILTERS))


@dataclass(frozen=True)
class OverviewForm:
    values: dict[str, Any]  # parsed; the defaults alone after an error
    period: str  # a preset's value or "custom"
    first: date
    last: date
    error: str | None

    def field(self, name: str) -> str:
        return str(self.values.get(name) or "")

    def api_query(self) -> str:
        """The overview's API query: the range and the filters chosen."""
        chosen = [("from", self.first.isoformat()), ("to", self.last.isoformat())]
        chosen += [(k, self.field(k)) for k in ("band", "channel", "goal") if self.field(k)]
        return urlencode(chosen)


def overview_form(query: QueryParams, zone: str) -> OverviewForm:
    """The form for `query`; presets count back from today in the site's time zone `zone`."""
    cleaned = QueryParams([(k, v.strip()) for k, v in query.multi_items() if v.strip()])
    try:
        values = p.read_params(cleaned, _SPECS)
        error = None
    except p.ParamError as exc:
        values, error = {}, f"{exc.name}: {exc.problem}"
    typed = "from" in values or "to" in values
    period = values.get("period") or ("custom" if typed else DEFAULT_PRESET)
    days = next((n for v, _, n in PRESETS if v == period), None)
    if days is not None:
        last = datetime.now(ZoneInfo(zone)).date()
        return OverviewForm(values, period, last - timedelta(days=days - 1), last, error)
    try:
        first, last = p.period(values, OVERVIEW_PERIOD_DAYS)
    except p.ParamError as exc:
        error = error or f"{exc.name}: {exc.problem}"
        first, last = p.period({}, OVERVIEW_PERIOD_DAYS)
    return OverviewForm(values, period, first, last, error)


def carried(query: QueryParams) -> str:
    """The period and channel a site page was opened with, for the links to the others: a
    query string ("" for none), each value as it came (the page it leads to checks it)."""
    kept = [(k, query[k].strip()) for k in ("from", "to", "channel") if query.get(k, "").strip()]
    return urlencode(kept)

"""Visits by entry channel: how many, how many bounced, how many converted, and the sources in
each; the JSON `clicktrail channels --json` and GET /api/sites/{site}/channels print.

Counted over the stored sessions that started in the range (reports.analyses.journey_request's
VisitFilter), each classified once by its touch at query time. A bounce is a visit with one page
view, whatever clicks or events it had. Referrer spam is counted apart (`spam_visits`), not as a
channel. Rates are between 0 and 1, null when nobody came.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypedDict

import numpy as np
import redis

from collector.pages import PageTemplates
from collector.sites import Site
from reports.analyses.channel_names import Channel
from reports.analyses.goals import goal_step
from reports.analyses.journey_request import VisitFilter, load_visits
from reports.analyses.steps import PAGE, step_matrix
from reports.analyses.visit_channels import entry_channels
from reports.sessions.layout import SESSION_GAP_MS, SESSION_MAX_MS

TOP_SOURCES = 10


class SourceRow(TypedDict):
    source: str
    visits: int


class ChannelRow(TypedDict):
    channel: str
    name: str
    visits: int
    bounce_rate: float | None
    conversions: int | None
    conversion_rate: float | None
    sources: list[SourceRow]


ChannelsResult = TypedDict(
    "ChannelsResult",
    {
        "site": str,
        "from": str,
        "to": str,
        "time_zone": str,
        "as_of": str,
        "goal": str | None,
        "visits": int,
        "spam_visits": int,
        "warnings": list[str],
        "channels": list[ChannelRow],
    },
)


@dataclass(frozen=True)
class ChannelsRequest:
    visits: VisitFilter
    goal: str | None = None  # a goal's name in `goals`, or a page or event pattern
    goals: Mapping[str, str] = field(default_factory=dict)  # [goals] of clicktrail.toml


def run_channels(
    client: redis.Redis,
    site: Site,
    request: ChannelsRequest,
    now_ms: int | None = None,
    gap_ms: int = SESSION_GAP_MS,
    max_ms: int = SESSION_MAX_MS,
) -> ChannelsResult:
    goal = None
    if request.goal is not None:
        templates = PageTemplates(request.visits.templates)
        goal = goal_step(request.goal, request.goals, templates)
    loaded = load_visits(client, site, request.visits, now_ms, gap_ms, max_ms)
    table, sessions = loaded.table, loaded.sessions
    slugs = np.asarray(entry_channels(table.vocab, site.origins, request.visits.channel_rules))
    channel = slugs[table.source[sessions]] if len(slugs) else np.zeros(0, dtype=str)
    row_session = np.repeat(np.arange(len(table)), np.diff(table.offsets))
    is_page = np.array([entry.startswith(PAGE) for entry in table.vocab], dtype=bool)
    views = np.bincount(row_session[is_page[table.item]], minlength=len(table))[sessions]
    converted = None
    warnings: list[str] = []
    if goal is not None:
        hits = step_matrix([goal], table.vocab)[0][table.item]
        reached = np.bincount(row_session[hits], minlength=len(table))[sessions] > 0
        converted = reached
        if not reached.any():
            what = "page view" if goal.kind == PAGE else "event"
            warnings.append(f"goal ({goal.pattern}) matched no {what} in this range")
    sources = np.asarray(table.sources, dtype=object)[table.source[sessions]]
    rows = []
    for slug in sorted(set(channel.tolist()) - {Channel.SPAM.value}):
        mine = channel == slug
        visits = int(mine.sum())
        conversions = None if converted is None else int(converted[mine].sum())
        rows.append(
            ChannelRow(
                channel=slug,
                name=Channel(slug).label,
                visits=visits,
                bounce_rate=_rate(int((views[mine] == 1).sum()), visits),
                conversions=conversions,
                conversion_rate=None if conversions is None else _rate(conversions, visits),
                sources=_top_sources(sources[mine]),
            )
        )
    rows.sort(key=lambda row: (-row["visits"], row["channel"]))
    spam = int((channel == Channel.SPAM.value).sum())
    chosen = request.visits
    return {
        "site": site.name,
        "from": chosen.first.isoformat(),
        "to": chosen.last.isoformat(),
        "time_zone": chosen.zone,
        "as_of": loaded.as_of,
        "goal": request.goal,
        "visits": len(sessions) - spam,
        "spam_visits": spam,
        "warnings": warnings,
        "channels": rows,
    }


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _top_sources(names: np.ndarray) -> list[SourceRow]:
    counts = Counter(names.tolist())
    ranked = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))[:TOP_SOURCES]
    return [SourceRow(source=name, visits=n) for name, n in ranked]

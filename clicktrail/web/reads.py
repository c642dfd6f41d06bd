"""The reads the API handlers and the dashboard share: their state (Redis and the settings), a
site as JSON, and a funnel from parsed query values. api.py and dashboard.py are siblings over
this module; neither imports the other."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis

from clicktrail.web import params as p
from collector.days import FUNNEL_PERIOD_DAYS, day_names
from collector.pages import PageTemplates
from collector.settings import Settings
from collector.sites import Site
from collector.snippet import script_tag
from heatmap.live import load_live
from heatmap.totals import load_pages
from reports.analyses.channel_rules import ChannelRule
from reports.analyses.funnel_request import FunnelRequest, run_funnel
from reports.analyses.funnel_result import FunnelResult
from reports.scheduled.config import ReportConfig


def no_config() -> ReportConfig:
    return ReportConfig({}, {})


@dataclass(frozen=True)
class ApiState:
    """What every read needs: the Redis client, the settings and what clicktrail.toml says of
    channels and goals (read when asked: the file may change while the app runs)."""

    client: redis.Redis
    settings: Settings
    config: Callable[[], ReportConfig] = no_config

    def channel_rules(self) -> tuple[ChannelRule, ...]:
        return self.config().channel_rules

    def goals(self) -> Mapping[str, str]:
        return self.config().goals

    @property
    def templates(self) -> PageTemplates:
        return PageTemplates(self.settings.page_templates)


def installed(api: ApiState, site: Site) -> bool:
    """Has any event of the site arrived: in the last hour, or on the last 30 days' pages."""
    if load_live(api.client, site, 60, int(time.time() * 1000)).events:
        return True
    return bool(load_pages(api.client, site, day_names(*p.period({}, 30))))


def site_json(api: ApiState, site: Site) -> dict[str, Any]:
    return {
        "name": site.name,
        "key": site.key,
        "origins": list(site.origins),
        "shards": site.shards,
        "time_zone": site.time_zone,
        "created": iso_time(site.created_ms),
        "snippet": script_tag(api.settings.collector_url, site.key),
        "installed": installed(api, site),
    }


def get_funnel_result(api: ApiState, site: Site, values: dict[str, Any]) -> FunnelResult:
    """The funnel's JSON, as `clicktrail funnel --json` prints it."""
    first, last = p.period(values, FUNNEL_PERIOD_DAYS)
    request = FunnelRequest(
        steps=values["step"],
        first=first,
        last=last,
        window_ms=values.get("window") or p.WINDOW.default,
        strict=bool(values.get("strict")),
        unit=values.get("unit") or "session",
        breakdown=values.get("by"),
        zone=values.get("tz") or site.time_zone,
        templates=api.settings.page_templates,
        channel_rules=api.channel_rules() if values.get("by") == "channel" else (),
    )
    gap_ms, max_ms = api.settings.session_ms
    return run_funnel(api.client, site, request, gap_ms=gap_ms, max_ms=max_ms).result


def iso_time(ms: int) -> str:
    """A time in ms since the epoch as ISO 8601 in UTC, to the second."""
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds")

"""The traffic overview for the read API (and the dashboard): its query parameters, declared
once, and the read that answers them with the JSON `clicktrail overview --json` prints."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from clicktrail.web import params as p
from clicktrail.web.journey_reads import BAND, CHANNEL, GOAL, SOURCE, TO, visit_filter
from clicktrail.web.reads import ApiState
from collector.days import OVERVIEW_PERIOD_DAYS
from collector.sites import Site
from reports.analyses.journey_request import JourneyError
from reports.analyses.overview_request import MAX_LIMIT, OverviewRequest, run_overview

OVERVIEW_PARAMS = (
    p.Param(
        "from",
        f"First day. Default: {OVERVIEW_PERIOD_DAYS} days before `to`.",
        p.DATE,
        p.iso_day,
    ),
    TO,
    p.ZONE,
    BAND,
    SOURCE,
    CHANNEL,
    GOAL,
    p.Param(
        "limit",
        f"Rows per list; 0 for all (at most {MAX_LIMIT}). Default 10.",
        {"type": "integer", "minimum": 0, "maximum": MAX_LIMIT},
        p.int_between(0, MAX_LIMIT),
        default=10,
    ),
)


def get_overview_result(api: ApiState, site: Site, values: dict[str, Any]) -> dict[str, Any]:
    # Every visit's channel is counted: the rules are always read.
    chosen = replace(
        visit_filter(api, site, values, OVERVIEW_PERIOD_DAYS), channel_rules=api.channel_rules()
    )
    request = OverviewRequest(chosen, values.get("goal"), api.goals(), values["limit"])
    gap_ms, max_ms = api.settings.session_ms
    try:
        return run_overview(api.client, site, request, gap_ms=gap_ms, max_ms=max_ms)
    except JourneyError as exc:
        raise p.ParamError(exc.parameter, exc.problem) from None

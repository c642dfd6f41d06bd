"""The journey map and A-to-B for the read API (and the dashboard): their query parameters,
declared once, and the reads that answer them with the JSON `clicktrail journeys --json` and
`clicktrail paths --json` print."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from clicktrail.web import params as p
from clicktrail.web.reads import ApiState
from collector.days import JOURNEY_PERIOD_DAYS
from collector.pages import BANDS
from collector.sites import Site
from reports.analyses.channel_report import ChannelsRequest, ChannelsResult, run_channels
from reports.analyses.journey_request import (
    JourneyError,
    JourneyRequest,
    PathsRequest,
    VisitFilter,
    run_journeys,
    run_paths,
)
from reports.analyses.journey_result import JourneyResult, PathsResult
from reports.analyses.journeys import MAX_ANCHORED_STEPS, MAX_ROWS, MIN_ROWS, MIN_STEPS
from reports.analyses.visit_channels import CHANNEL_SLUGS

MAX_EXCLUDED = 20
MAX_SOURCE_CHARS = 256
_PAGE_SYNTAX = (
    "a page path or template (/cart, /product/:id), a glob (/product/*) or a regular expression "
    "in RE2 syntax (re:^/p/\\d+$), matched against raw paths"
)
_PATTERN = {"type": "string", "minLength": 1, "maxLength": p.MAX_PATH_CHARS}


def _pattern(name: str, description: str, required: bool = False) -> p.Param:
    return p.Param(name, description, _PATTERN, p.step, required=required)


def _source(raw: str) -> str:
    if len(raw) > MAX_SOURCE_CHARS or not raw.isprintable():
        raise ValueError(f"expected a source name of at most {MAX_SOURCE_CHARS} characters")
    return raw


FROM = p.Param(
    "from", f"First day. Default: {JOURNEY_PERIOD_DAYS} days before `to`.", p.DATE, p.iso_day
)
TO = p.Param(
    "to", "Last day, included: visits that started from `from` to `to`.", p.DATE, p.iso_day
)
BAND = p.Param(
    "band",
    "Only visits on this device band. Default: every band.",
    {"type": "string", "enum": list(BANDS)},
    p.one_of(*BANDS),
)
SOURCE = p.Param(
    "source",
    "Only visits from this entry source: (direct), a referrer host or a UTM source.",
    {"type": "string", "maxLength": MAX_SOURCE_CHARS},
    _source,
)
CHANNEL = p.Param(
    "channel",
    "Only visits of this channel (classified when asked, with [channels] of clicktrail.toml).",
    {"type": "string", "enum": list(CHANNEL_SLUGS)},
    p.one_of(*CHANNEL_SLUGS),
)
VISITS = (FROM, TO, p.ZONE, BAND, SOURCE, CHANNEL)

JOURNEY_PARAMS = (
    _pattern("start", f"Start each visit's journey at its first occurrence of A: {_PAGE_SYNTAX}."),
    _pattern(
        "end",
        "Follow each visit backward from its last occurrence of B (with `start`: "
        "from the first A to the first B after it).",
    ),
    p.Param(
        "steps",
        "Columns: 2 to 10, up to 20 with `start` or `end`. Default 5.",
        {"type": "integer", "minimum": MIN_STEPS, "maximum": MAX_ANCHORED_STEPS},
        p.int_between(MIN_STEPS, MAX_ANCHORED_STEPS),
        default=5,
    ),
    p.Param(
        "rows",
        "Items per column before Other. Default 5.",
        {"type": "integer", "minimum": MIN_ROWS, "maximum": MAX_ROWS},
        p.int_between(MIN_ROWS, MAX_ROWS),
        default=5,
    ),
    _pattern("goal", "A page or custom event (event:signup) that counts as converting."),
    p.Param(
        "converted",
        "With `goal`: only visits that reached it (true) or only those that did not (false).",
        {"type": "boolean"},
        p.flag,
    ),
    p.Param("events", "Custom events are steps too.", {"type": "boolean"}, p.flag, default=False),
    p.Param(
        "exclude",
        "Leave these pages out of every visit (repeatable).",
        _PATTERN,
        p.step,
        many=(0, MAX_EXCLUDED),
    ),
    p.Param(
        "merge_templates",
        "Consecutive pages of one template are one step (/product/1 then /product/2).",
        {"type": "boolean"},
        p.flag,
        default=False,
    ),
    *VISITS,
)
PATHS_PARAMS = (
    _pattern("start", f"A: {_PAGE_SYNTAX}.", required=True),
    _pattern("end", "B, in the same syntax.", required=True),
    *VISITS,
)


def visit_filter(
    api: ApiState, site: Site, values: dict[str, Any], default_days: int = JOURNEY_PERIOD_DAYS
) -> VisitFilter:
    """The visits a read asks for; the channel rules are read only when a channel is asked."""
    first, last = p.period(values, default_days)
    return VisitFilter(
        first=first,
        last=last,
        zone=values.get("tz") or site.time_zone,
        band=values.get("band"),
        source=values.get("source"),
        templates=api.settings.page_templates,
        channel=values.get("channel"),
        channel_rules=api.channel_rules() if values.get("channel") else (),
    )


def get_journeys_result(api: ApiState, site: Site, values: dict[str, Any]) -> JourneyResult:
    request = JourneyRequest(
        visits=visit_filter(api, site, values),
        start=values.get("start"),
        end=values.get("end"),
        steps=values["steps"],
        rows=values["rows"],
        goal=values.get("goal"),
        converted=values.get("converted"),
        events=values["events"],
        exclude=tuple(values["exclude"]),
        merge_templates=values["merge_templates"],
    )
    gap_ms, max_ms = api.settings.session_ms
    try:
        return run_journeys(api.client, site, request, gap_ms=gap_ms, max_ms=max_ms)
    except JourneyError as exc:
        raise p.ParamError(exc.parameter, exc.problem) from None


def get_paths_result(api: ApiState, site: Site, values: dict[str, Any]) -> PathsResult:
    request = PathsRequest(visit_filter(api, site, values), values["start"], values["end"])
    gap_ms, max_ms = api.settings.session_ms
    try:
        return run_paths(api.client, site, request, gap_ms=gap_ms, max_ms=max_ms)
    except JourneyError as exc:
        raise p.ParamError(exc.parameter, exc.problem) from None


def _goal(raw: str) -> str:
    if len(raw) > p.MAX_PATH_CHARS or not raw.isprintable():
        raise ValueError(f"a goal's name or pattern of at most {p.MAX_PATH_CHARS} characters")
    return raw


GOAL = p.Param(
    "goal",
    "A goal's name in [goals] of clicktrail.toml, or a page or custom event (event:signup): "
    "conversions and conversion rates.",
    {"type": "string", "minLength": 1, "maxLength": p.MAX_PATH_CHARS},
    _goal,
)
CHANNELS_PARAMS = (GOAL, *VISITS)


def get_channels_result(api: ApiState, site: Site, values: dict[str, Any]) -> ChannelsResult:
    chosen = replace(visit_filter(api, site, values), channel_rules=api.channel_rules())
    request = ChannelsRequest(visits=chosen, goal=values.get("goal"), goals=api.goals())
    gap_ms, max_ms = api.settings.session_ms
    try:
        return run_channels(api.client, site, request, gap_ms=gap_ms, max_ms=max_ms)
    except JourneyError as exc:
        raise p.ParamError(exc.parameter, exc.problem) from None

"""The read API under /api: JSON and PNGs of what the workers computed, for the dashboard and
for scripts. Every route is declared once in ENDPOINTS (path, parameters, what it returns),
which also makes the OpenAPI document."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from clicktrail.web import params as p
from clicktrail.web.api_schemas import (
    CHANNELS,
    ELEMENT_ROW,
    FUNNEL,
    JOURNEYS,
    LIVE,
    OVERVIEW,
    PAGE_ROW,
    PATHS,
    PNG,
    SITE,
)
from clicktrail.web.auth import authenticate, visible_site
from clicktrail.web.journey_reads import (
    CHANNEL,
    CHANNELS_PARAMS,
    JOURNEY_PARAMS,
    PATHS_PARAMS,
    get_channels_result,
    get_journeys_result,
    get_paths_result,
)
from clicktrail.web.overview_reads import OVERVIEW_PARAMS, get_overview_result
from clicktrail.web.reads import ApiState, get_funnel_result, iso_time, site_json
from clicktrail.web.tokens import Token
from clicktrail.wiring import picture_rules
from collector.days import FUNNEL_PERIOD_DAYS, day_names
from collector.sites import Site, list_sites
from heatmap.live import load_live
from heatmap.page_selection import PageSelection
from heatmap.pictures import missing_picture_note
from heatmap.render import draw_note
from heatmap.totals import (
    StoredDataError,
    load_elements,
    load_page_views,
    load_pages,
)
from heatmap.view import MAP_KINDS, SCALES, heatmap_view, selected, selection_request
from reports.analyses.channel_clicks import ChannelMapError, channel_click_view

PNG_CACHE = "private, max-age=60"
WARNINGS_HEADER = "X-Clicktrail-Warnings"


@dataclass(frozen=True)
class Call:
    """One authenticated request, its parameters parsed."""

    api: ApiState
    token: Token
    values: dict[str, Any]
    found: Site | None = None  # the {site} of the path, for per-site routes

    @property
    def site(self) -> Site:
        assert self.found is not None, "a per-site route without its site"
        return self.found


Handler = Callable[[Call], Response]


@dataclass(frozen=True)
class Endpoint:
    path: str  # under /api
    summary: str
    params: tuple[p.Param, ...]
    handler: Handler
    returns: dict[str, Any]  # JSON schema of the 200 reply, or {"png": True}

    @property
    def per_site(self) -> bool:
        return "{site}" in self.path


def get_sites(call: Call) -> Response:
    sites = [s for s in list_sites(call.api.client) if call.token.can_see(s.name)]
    return JSONResponse([site_json(call.api, s) for s in sites])


def get_pages(call: Call) -> Response:
    pages = load_pages(call.api.client, call.site, day_names(*p.period(call.values)))
    return JSONResponse([asdict(page) for page in pages])


def _selection(api: ApiState, site: Site, values: dict[str, Any]) -> PageSelection:
    try:
        return selected(
            api.client, site, values["page"], day_names(*p.period(values)), api.templates
        )
    except ValueError as exc:
        raise p.ParamError("page", str(exc)) from None


def get_elements(call: Call) -> Response:
    api, site, values = call.api, call.site, call.values
    selection = _selection(api, site, values)
    days = day_names(*p.period(values))
    elements = load_elements(api.client, site, selection.templates, values["band"], days)
    views = load_page_views(api.client, site, selection.templates, values["band"], days)
    warnings = selection.warnings_for(views, values["band"])
    return JSONResponse(
        [asdict(e) for e in elements[: values["limit"]]], headers=warnings_header(warnings)
    )


def get_heatmap(call: Call) -> Response:
    return _png(call.api, call.site, call.values, call.values["kind"])


def get_scrollmap(call: Call) -> Response:
    return _png(call.api, call.site, call.values, "scroll")


def _png(api: ApiState, site: Site, values: dict[str, Any], kind: str) -> Response:
    selection = _selection(api, site, values)
    request = selection_request(
        api.client,
        site,
        selection,
        values["band"],
        kind,
        p.period(values),
        values["width"],
        values.get("scale") or "sqrt",
    )
    try:
        if values.get("channel"):
            gap_ms, max_ms = api.settings.session_ms
            view = channel_click_view(
                api.client,
                request,
                values["channel"],
                api.channel_rules(),
                api.settings.page_templates,
                gap_ms,
                max_ms,
            )
        else:
            view = heatmap_view(api.client, request)
    except ChannelMapError as exc:
        return error(400, str(exc), "channel")
    except StoredDataError as exc:  # not the client's mistake, nor a crash: the data's state
        return error(409, str(exc), None)
    warnings = view.warnings
    if request.background is None and view.views and selection.templates:  # on the ruler: why
        pictured = selection.templates[0]  # the template whose picture a map is drawn over
        note = missing_picture_note(
            api.client, site, pictured, picture_rules(api.settings), int(time.time() * 1000)
        )
        draw_note(view.image, note)
        warnings = [*warnings, note]
    out = io.BytesIO()
    view.image.save(out, "PNG", compress_level=6)
    headers = {
        "Cache-Control": PNG_CACHE,
        "X-Clicktrail-Events": str(view.events),
        "X-Clicktrail-Views": str(view.views),
        **warnings_header(warnings),
    }
    return Response(out.getvalue(), media_type="image/png", headers=headers)


def warnings_header(warnings: list[str]) -> dict[str, str]:
    """The warnings of a reply that is an array or a PNG, as a JSON list in a header (ASCII: a
    header takes no other text, and pages are strangers' strings)."""
    return {WARNINGS_HEADER: json.dumps(warnings)}


def get_funnel(call: Call) -> Response:
    return JSONResponse(get_funnel_result(call.api, call.site, call.values))


def get_journeys(call: Call) -> Response:
    return JSONResponse(get_journeys_result(call.api, call.site, call.values))


def get_paths(call: Call) -> Response:
    return JSONResponse(get_paths_result(call.api, call.site, call.values))


def get_channels(call: Call) -> Response:
    return JSONResponse(get_channels_result(call.api, call.site, call.values))


def get_overview(call: Call) -> Response:
    return JSONResponse(get_overview_result(call.api, call.site, call.values))


def get_live(call: Call) -> Response:
    now_ms = int(time.time() * 1000)
    live = load_live(call.api.client, call.site, call.values["minutes"], now_ms)
    last = live.last_event_ms
    return JSONResponse(
        {
            "minutes": live.minutes,
            "events": live.events,
            "batches": live.batches,
            "last_event_minute": iso_time(last) if last is not None else None,
            "by_type": live.by_type,
            "per_minute": [
                {"minute": iso_time(start), "events": n} for start, n in live.per_minute
            ],
            "pages": [{"page": page, "views": n} for page, n in live.pages],
        }
    )


def endpoint(api: ApiState, spec: Endpoint) -> Callable[[Request], Response]:
    """The route function: token, then site, then parameters, then the handler. A plain
    function, so Starlette runs it in its thread pool (Redis calls and rendering block)."""

    def answer(request: Request) -> Response:
        token = authenticate(api.client, request)
        if token is None:
            return error(401, "a valid token is needed: `clicktrail token create`", None)
        site = None
        if spec.per_site:
            site = visible_site(api.client, token, request.path_params["site"])
            if site is None:
                return error(404, "no such site", "site")
        try:
            values = p.read_params(request.query_params, spec.params)
            return spec.handler(Call(api, token, values, site))
        except p.ParamError as exc:
            return error(400, exc.problem, exc.name)

    return answer


def error(status: int, message: str, parameter: str | None) -> JSONResponse:
    body: dict[str, Any] = {"error": message}
    if parameter:
        body["parameter"] = parameter
    headers = {"WWW-Authenticate": 'Bearer realm="clicktrail"'} if status == 401 else None
    return JSONResponse(body, status, headers=headers)


def api_routes(api: ApiState) -> list[Route]:
    return [
        Route(f"/api{spec.path}", endpoint(api, spec), methods=["GET"], name=spec.path)
        for spec in ENDPOINTS
    ]


_DATES = (p.FROM, p.TO)
_KIND = p.Param(
    "kind",
    "What to draw.",
    {"type": "string", "enum": list(MAP_KINDS)},
    p.one_of(*MAP_KINDS),
    default="click",
)
_SCALE = p.Param(
    "scale",
    "How heat maps to colour.",
    {"type": "string", "enum": list(SCALES)},
    p.one_of(*SCALES),
    default="sqrt",
)
_CHANNEL = p.Param(
    "channel",
    "Only the clicks of visits of this channel, drawn from the sessions' click rows (click and "
    "rage maps).",
    CHANNEL.schema,
    CHANNEL.parse,
)
_STRICT = p.Param(
    "strict",
    "Any other page view between two steps breaks the chain.",
    {"type": "boolean"},
    p.flag,
    default=False,
)
_UNIT = p.Param(
    "unit", "What converts.", {"type": "string", "enum": ["session", "visitor"]},
    p.one_of("session", "visitor"), default="session",
)  # fmt: skip
BREAKDOWNS = ("band", "source", "channel")
_BY = p.Param(
    "by", "Break the numbers down by device band, entry source or channel.",
    {"type": "string", "enum": list(BREAKDOWNS)}, p.one_of(*BREAKDOWNS),
)  # fmt: skip
_FUNNEL_FROM = p.Param(
    "from", f"First day. Default: {FUNNEL_PERIOD_DAYS} days before `to`.", p.DATE, p.iso_day
)

ENDPOINTS = (
    Endpoint("/sites", "Sites this token may see", (), get_sites, {"type": "array", "items": SITE}),
    Endpoint(
        "/sites/{site}/pages",
        "Pages with page views, clicks, rage and dead clicks per band, most viewed first",
        _DATES,
        get_pages,
        {"type": "array", "items": PAGE_ROW},
    ),
    Endpoint(
        "/sites/{site}/elements",
        "The most clicked elements of a page",
        (p.PAGE, p.BAND, *_DATES, p.LIMIT),
        get_elements,
        {"type": "array", "items": ELEMENT_ROW},
    ),
    Endpoint(
        "/sites/{site}/heatmap.png",
        "Click, rage-click, dead-click or scroll map of a page, as a PNG",
        (p.PAGE, p.BAND, _KIND, *_DATES, p.WIDTH, _SCALE, _CHANNEL),
        get_heatmap,
        PNG,
    ),
    Endpoint(
        "/sites/{site}/scrollmap.png",
        "Scroll map of a page: the share of page views reaching each depth, as a PNG",
        (p.PAGE, p.BAND, *_DATES, p.WIDTH),
        get_scrollmap,
        PNG,
    ),
    Endpoint(
        "/sites/{site}/funnel",
        "A page-path funnel: the same JSON as `clicktrail funnel --json`",
        (p.STEP, p.WINDOW, _FUNNEL_FROM, p.TO, _STRICT, _UNIT, _BY, p.ZONE),
        get_funnel,
        FUNNEL,
    ),
    Endpoint(
        "/sites/{site}/journeys",
        "The journey map: which way visits go, step by step (`clicktrail journeys --json`)",
        JOURNEY_PARAMS,
        get_journeys,
        JOURNEYS,
    ),
    Endpoint(
        "/sites/{site}/paths",
        "From A to B: pages between, time, detours and common paths (`clicktrail paths --json`)",
        PATHS_PARAMS,
        get_paths,
        PATHS,
    ),
    Endpoint(
        "/sites/{site}/overview",
        "Traffic overview: visitors, visits, page views, bounce rate, duration, a series, the "
        "previous period, top pages, channels, sources, devices, countries, events and goals "
        "(`clicktrail overview --json`)",
        OVERVIEW_PARAMS,
        get_overview,
        OVERVIEW,
    ),
    Endpoint(
        "/sites/{site}/channels",
        "Visits by entry channel, with bounce and conversion rates (`clicktrail channels --json`)",
        CHANNELS_PARAMS,
        get_channels,
        CHANNELS,
    ),
    Endpoint(
        "/sites/{site}/live",
        "Events received in the last minutes, per minute, type and page",
        (p.MINUTES,),
        get_live,
        LIVE,
    ),
)

"""The dashboard: server-rendered pages (Jinja2) over the same reads as the API, with a little
plain JavaScript (clicktrail/web/static/dashboard.js) for copying, polling and small conveniences,
and the journey map drawn in the browser from the API's JSON (static/journeys.js)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

import jinja2
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from clicktrail.web import params as p
from clicktrail.web.auth import (
    arrived_from_elsewhere,
    authenticate,
    clear_login_cookies,
    same_origin,
    set_login_cookie,
    visible_site,
)
from clicktrail.web.funnel_form import funnel_form
from clicktrail.web.journey_form import JourneyForm, journey_form
from clicktrail.web.journey_reads import CHANNEL, get_paths_result
from clicktrail.web.overview_form import CHANNEL_NAMES, PRESETS, carried, overview_form
from clicktrail.web.reads import ApiState, get_funnel_result, site_json
from clicktrail.web.tokens import find_token
from collector.days import FUNNEL_PERIOD_DAYS, PAGES_PERIOD_DAYS, day_names
from collector.pages import BANDS
from collector.settings import Settings
from collector.sites import Site, list_sites
from heatmap.page_selection import select_pages
from heatmap.render import BAND_WIDTHS_PX
from heatmap.totals import PageStats, load_elements, load_page_views, load_pages
from heatmap.view import MAP_KINDS
from reports.analyses.channel_clicks import CHANNEL_KINDS
from reports.scheduled.config import ConfigError, ReportConfig

HERE = Path(__file__).parent
SendReport = Callable[[str], list[str]]


@dataclass(frozen=True)
class DashboardState:
    api: ApiState
    reports: Callable[[], ReportConfig]  # read clicktrail.toml again on each view
    send_report: SendReport  # report name -> one line per delivery


SiteView = Callable[[Request, Site], Response]


@dataclass(frozen=True)
class PageRow:
    """One page of the pages table: its counts over every band, and its page views per band
    (each links to the band's heatmap)."""

    template: str
    views: int
    clicks: int
    rage: int
    dead: int
    bands: tuple[tuple[str, int], ...]  # (band, page views), in BANDS order


def page_rows(stats: list[PageStats]) -> list[PageRow]:
    """One row per page, most viewed first (load_pages gives one per page and band)."""
    by_page: dict[str, list[PageStats]] = {}
    for row in stats:
        by_page.setdefault(row.template, []).append(row)
    rows = [
        PageRow(
            template,
            sum(r.views for r in group),
            sum(r.clicks for r in group),
            sum(r.rage for r in group),
            sum(r.dead for r in group),
            tuple((r.band, r.views) for r in sorted(group, key=lambda r: BANDS.index(r.band))),
        )
        for template, group in by_page.items()
    ]
    return sorted(rows, key=lambda r: (-r.views, -r.clicks, r.template))


class Dashboard:
    def __init__(self, state: DashboardState) -> None:
        self.state = state
        self.api = state.api
        # Autoescape on, whatever the templates are called: the pages show paths, selectors and
        # sources that strangers posted to /e (select_autoescape would skip `*.html.j2`).
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True
        )
        self.templates = Jinja2Templates(env=env)
        self.templates.env.globals |= {
            "bands": BANDS,
            "kinds": MAP_KINDS,
            "channel_names": CHANNEL_NAMES,
            "presets": PRESETS,
        }

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/", self.home),
            Route("/login", self.login, methods=["GET"]),
            Route("/login", self.login_post, methods=["POST"]),
            Route("/logout", self.logout, methods=["POST"]),
            Route("/sites/{site}", self.for_site(self.site_view)),
            Route("/sites/{site}/pages", self.for_site(self.pages_view)),
            Route("/sites/{site}/heatmap", self.for_site(self.heatmap_view)),
            Route("/sites/{site}/funnel", self.for_site(self.funnel_view)),
            Route("/sites/{site}/journeys", self.for_site(self.journeys_view)),
            Route("/sites/{site}/journeys/a-to-b", self.for_site(self.a_to_b_view)),
            Route(
                "/sites/{site}/reports/{name}/send",
                self.for_site(self.send_report),
                methods=["POST"],
            ),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ]

    def page(self, request: Request, name: str, status: int = 200, **context: Any) -> Response:
        """The template; its site nav's links carry the period and channel (`nav`, else the
        request's own)."""
        context.setdefault("nav", carried(request.query_params))
        return self.templates.TemplateResponse(request, name, context, status_code=status)

    def for_site(self, view: SiteView) -> Callable[[Request], Response]:
        """Logged in (else to the login page) and allowed to see the site (else 404)."""

        def guarded(request: Request) -> Response:
            token = authenticate(self.api.client, request)
            if token is None:
                return _to_login(request)
            site = visible_site(self.api.client, token, request.path_params["site"])
            if site is None:
                return self.page(request, "missing.html.j2", 404)
            return view(request, site)

        return guarded

    def home(self, request: Request) -> Response:
        token = authenticate(self.api.client, request)
        if token is None:
            return _to_login(request)
        sites = [
            site_json(self.api, s) for s in list_sites(self.api.client) if token.can_see(s.name)
        ]
        return self.page(request, "sites.html.j2", sites=sites, token=token)

    def login(self, request: Request) -> Response:
        target = _local(request.query_params.get("next"))
        return self.page(request, "login.html.j2", next=target,
                         resume=arrived_from_elsewhere(request))  # fmt: skip

    async def login_post(self, request: Request) -> Response:
        form = await _small_form(request)
        secret, target = form.get("token", "").strip(), _local(form.get("next"))
        if not same_origin(request):
            return self.page(request, "login.html.j2", 403, next=target, error="cross-site form")
        if find_token(self.api.client, secret) is None:
            error = "That token is not valid. `clicktrail token create` makes one."
            return self.page(request, "login.html.j2", 401, next=target, error=error)
        response = RedirectResponse(target, 303)
        set_login_cookie(response, request, secret)
        return response

    def logout(self, request: Request) -> Response:
        response = RedirectResponse("/login", 303)
        if same_origin(request):
            clear_login_cookies(response)
        return response

    def site_view(self, request: Request, site: Site) -> Response:
        """The overview's form; the cards, chart and lists are drawn in the browser
        (static/overview.js) from the API's JSON."""
        form = overview_form(request.query_params, site.time_zone)
        api = f"/api/sites/{site.name}/overview?{form.api_query()}"
        nav = urlencode({"from": form.first, "to": form.last} | _chosen(form.field("channel")))
        return self.page(request, "site.html.j2", 400 if form.error else 200,
                         site=site_json(self.api, site), form=form, api=api, nav=nav,
                         goals=sorted(self.api.goals()), error=form.error)  # fmt: skip

    def pages_view(self, request: Request, site: Site) -> Response:
        values, error = _read(request.query_params, (p.FROM, p.TO, CHANNEL))
        first, last = _period(values)
        pages = page_rows(load_pages(self.api.client, site, day_names(first, last)))
        return self.page(request, "pages.html.j2", 400 if error else 200,
                         site=site_json(self.api, site), pages=pages, first=first, last=last,
                         channel=values.get("channel"), error=error)  # fmt: skip

    def heatmap_view(self, request: Request, site: Site) -> Response:
        specs = (p.PAGE_OPTIONAL, p.BAND, _KIND, p.FROM, p.TO, CHANNEL)
        values, error = _read(request.query_params, specs)
        first, last = _period(values)
        days = day_names(first, last)
        views: Counter[str] = Counter()
        for row in load_pages(self.api.client, site, days):
            views[row.template] += row.views
        pages = sorted(views)
        # Unasked, the most viewed page: not the first by name, which anyone can pick by
        # posting a path like "/!".
        asked = values.get("page") or min(views, key=lambda t: (-views[t], t), default="/")
        selection = select_pages(asked, list(views.items()), self.api.templates)
        band, kind = values.get("band") or "desktop", values.get("kind") or "click"
        client = self.api.client
        elements = load_elements(client, site, selection.templates, band, days)[:15]
        shown = load_page_views(client, site, selection.templates, band, days)
        channel = values.get("channel")
        by_channel = channel if kind in CHANNEL_KINDS else None
        query = {"page": asked, "band": band, "kind": kind, "from": first, "to": last}
        png = f"/api/sites/{site.name}/heatmap.png?{urlencode(query | _only(channel=by_channel))}"
        return self.page(request, "heatmap.html.j2", 400 if error else 200,
                         site=site_json(self.api, site), pages=pages, page=asked,
                         label=selection.label, notes=selection.warnings_for(shown, band),
                         band=band, kind=kind, first=first, last=last, elements=elements,
                         png=png, channel=channel, map_channel=by_channel,
                         page_width=BAND_WIDTHS_PX[band],
                         error=error)  # fmt: skip

    def funnel_view(self, request: Request, site: Site) -> Response:
        # Unused step boxes of the form arrive empty: not steps.
        query = QueryParams([(k, v) for k, v in request.query_params.multi_items() if v.strip()])
        asked = "step" in query  # else the form only, with the configured steps or none
        specs = (p.STEP, p.WINDOW, p.FROM, p.TO, _STRICT_BOX, _SENT, _BY, CHANNEL)
        values, error = _read(query, specs if asked else specs[1:])
        configured = _configured_steps(self.state)
        form = funnel_form(request.query_params, configured)
        if error and asked:  # the rest of the form as asked, where it is valid
            rest = QueryParams([(k, v) for k, v in query.multi_items() if k != "step"])
            values = _read(rest, specs[1:])[0]
            error = form.first_problem or error
        asked = asked and not error
        first, last = _period(values, FUNNEL_PERIOD_DAYS)
        result = None
        # A channel carried from the overview: the funnel by channel, its row marked.
        by = values.get("by") or ("channel" if values.get("channel") else None)
        if asked:
            asked_for = values | {"from": first, "to": last, "by": by}
            result = get_funnel_result(self.api, site, asked_for)
        days = day_names(first, last)
        seen = _suggestions(load_pages(self.api.client, site, days), self.api.settings)
        reports, config_error = _reports(self.state, site)
        return self.page(request, "funnel.html.j2", 400 if error else 200,
                         site=site_json(self.api, site), form=form,
                         unconfigured=not configured,
                         strict=bool(values.get("strict")), first=first, last=last,
                         by=by, channel=values.get("channel"), result=result,
                         templates_seen=seen, reports=reports,
                         error=error or config_error,
                         sent=request.query_params.get("sent"))  # fmt: skip

    def journeys_view(self, request: Request, site: Site) -> Response:
        """The form; the map is drawn in the browser (static/journeys.js) from the API's JSON."""
        form = journey_form(request.query_params, "map")
        query = form.api_query("map")
        api = None if form.error else f"/api/sites/{site.name}/journeys" + (query and f"?{query}")
        return self._journeys_page(request, site, form, "map", api=api)

    def a_to_b_view(self, request: Request, site: Site) -> Response:
        form = journey_form(request.query_params, "a-to-b")
        anchored = bool(form.field("start") and form.field("end"))
        result = None
        if anchored and not form.error:
            try:
                result = get_paths_result(self.api, site, form.values)
            except p.ParamError as exc:
                form = replace(form, error=f"{exc.name}: {exc.problem}")
        return self._journeys_page(request, site, form, "a-to-b", result=result,
                                   anchored=anchored)  # fmt: skip

    def _journeys_page(
        self, request: Request, site: Site, form: JourneyForm, tab: str, **context: Any
    ) -> Response:
        days = day_names(form.first, form.last)
        seen = _suggestions(load_pages(self.api.client, site, days), self.api.settings)
        return self.page(request, "journeys.html.j2", 400 if form.error else 200,
                         site=site_json(self.api, site), form=form, tab=tab,
                         templates_seen=seen, error=form.error, **context)  # fmt: skip

    def send_report(self, request: Request, site: Site) -> Response:
        name = request.path_params["name"]
        reports, _ = _reports(self.state, site)
        if name not in {r.name for r in reports} or not same_origin(request):
            return self.page(request, "missing.html.j2", 404)
        lines = self.state.send_report(name)
        summary = "; ".join(lines) or "no delivery targets: files written"
        query = urlencode({"sent": f"{name}: {summary}"})
        return RedirectResponse(f"/sites/{site.name}/funnel?{query}", 303)


async def _small_form(request: Request, limit: int = 4096) -> dict[str, str]:
    """An urlencoded form of a few fields (the login form), read up to `limit` bytes."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return {}
    fields = parse_qs(body.decode("utf-8", "replace"), max_num_fields=10)
    return {name: values[0] for name, values in fields.items()}


def _to_login(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", 303)


_KIND = p.Param("kind", "", {}, p.one_of(*MAP_KINDS), default="click")
_SENT = p.Param("sent", "", {}, str)  # the outcome of "send now", shown once
_BY = p.Param("by", "", {}, p.one_of("band", "source", "channel"))
_STRICT_BOX = p.Param("strict", "", {}, lambda raw: raw in ("on", "true", "1"), default=False)


def _read(query: QueryParams, specs: tuple[p.Param, ...]) -> tuple[dict[str, Any], str | None]:
    """The form's values, or the defaults and a message naming the bad field."""
    try:
        return p.read_params(query, specs), None
    except p.ParamError as exc:
        return {}, f"{exc.name}: {exc.problem}"


def _chosen(channel: str) -> dict[str, str]:
    return {"channel": channel} if channel else {}


def _period(values: dict[str, Any], days: int = PAGES_PERIOD_DAYS) -> tuple[Any, Any]:
    try:
        return p.period(values, days)
    except p.ParamError:
        return p.period({}, days)


def _local(target: str | None) -> str:
    """Only a path on this server: never an open redirect to another host. Browsers drop tabs
    and newlines from URLs and read `\\` as `/`, so `/\t/evil.example` would leave the host."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    if "\\" in target or any(ord(c) <= 0x20 or ord(c) == 0x7F for c in target):
        return "/"
    return target


def _configured_steps(state: DashboardState) -> tuple[str, ...]:
    """The steps of the funnel clicktrail.toml configures; none when it names none (or several)."""
    try:
        return state.reports().funnel(None).steps
    except ConfigError:
        return ()


def _suggestions(pages: list[PageStats], settings: Settings) -> list[str]:
    """The site's pages, most viewed first, then the configured templates it has not seen."""
    views: Counter[str] = Counter()
    for row in pages:
        views[row.template] += row.views
    seen = sorted(views, key=lambda t: (-views[t], t))
    return seen + [t for t in settings.page_templates if t not in views]


def _reports(state: DashboardState, site: Site) -> tuple[list[Any], str | None]:
    try:
        config = state.reports()
    except ConfigError as exc:
        return [], f"clicktrail.toml: {exc}"
    return [r for r in config.reports.values() if r.site == site.name], None


def _only(**values: str | None) -> dict[str, str]:
    """The query parameters that are set."""
    return {name: value for name, value in values.items() if value}

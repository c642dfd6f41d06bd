"""The whole web app of `clicktrail serve` and `clicktrail demo`: the collector, plus the read
API, its OpenAPI document and the dashboard, all on one port."""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from clicktrail.web.api import api_routes
from clicktrail.web.dashboard import Dashboard, DashboardState
from clicktrail.web.headers import ForwardedScheme, SecurityHeaders
from clicktrail.web.openapi import openapi_document
from clicktrail.web.reads import ApiState, no_config
from clicktrail.wiring import report_config, report_sender
from collector.app import create_app
from collector.connections import close_client, sync_client
from collector.settings import Settings
from collector.sites import SiteError
from reports.scheduled.config import ConfigError, ReportConfig

log = logging.getLogger(__name__)


def read_routes(
    api: ApiState,
    config: Path | None,
    send_report: Callable[[str], list[str]],
) -> list[BaseRoute]:
    """The API, its OpenAPI document and the dashboard."""
    document = openapi_document(_version())

    async def openapi(request: Request) -> Response:
        return JSONResponse(document)

    def reports() -> ReportConfig:
        return report_config(config)

    dashboard = Dashboard(DashboardState(api, reports, send_report))
    return [Route("/api/openapi.json", openapi), *api_routes(api), *dashboard.routes()]


def create_web_app(
    settings: Settings,
    redis_url: str,
    config: Path | None,
    send_report: Callable[[str], list[str]],
) -> Starlette:
    def channels_and_goals() -> ReportConfig:
        try:
            return report_config(config)
        except ConfigError as exc:  # the dashboard's funnel page shows it; counted as none
            log.error("channel rules and goals not read: %s", exc)
            return no_config()

    api = ApiState(sync_client(redis_url), settings, channels_and_goals)
    routes = read_routes(api, config, send_report)
    app = create_app(settings, redis_url, routes, on_close=[lambda: close_client(api.client)])
    # Outermost first: the scheme is settled before any route or header sees the request.
    app.add_middleware(SecurityHeaders)
    app.add_middleware(ForwardedScheme, trusted=settings.trusted_proxies)
    return app


def web_app(settings: Settings, url: str, config: Path | None, dashboard: bool) -> Starlette:
    """The collector; with `dashboard`, also the read API and the dashboard."""
    if not dashboard:
        return create_app(settings, url)
    send = report_sender(settings, url, config)

    def send_now(name: str) -> list[str]:
        try:
            return send(name)
        except (ConfigError, SiteError) as exc:
            return [f"not sent: {exc}"]

    return create_web_app(settings, url, config, send_now)


def _version() -> str:
    try:
        return version("clicktrail")
    except PackageNotFoundError:
        return "0"

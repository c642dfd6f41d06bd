"""The collector's ASGI app: `POST /e`, `GET /t.js`, health, readiness and metrics."""

from __future__ import annotations

import contextlib
import hmac
import logging
from collections.abc import AsyncIterator, Callable, Sequence

import redis.exceptions
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from collector.batch_writer import REDIS_DOWN, BatchWriter
from collector.connections import async_client
from collector.geo import Countries
from collector.head_limit import HeadLimit
from collector.ingest import Collector, CollectRoute
from collector.metrics import Metrics
from collector.privacy import VisitorHasher
from collector.settings import Settings
from collector.sites import SiteDirectory
from collector.snippet import SnippetEndpoint
from tracker_js import SNIPPET_PATH

log = logging.getLogger(__name__)

PROMETHEUS_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def create_app(
    settings: Settings,
    redis_url: str,
    more_routes: Sequence[BaseRoute] = (),
    on_close: Sequence[Callable[[], object]] = (),
) -> Starlette:
    """The collector, storing into the Redis at `redis_url` (resolved by the caller).
    `more_routes` lets the composing layer serve the dashboard and API from the same app;
    `on_close` releases what those routes hold (their Redis connections) when the app stops."""
    client = async_client(redis_url)
    metrics = Metrics()
    sites = SiteDirectory(client)
    writer = BatchWriter(client, settings.buffer_max_events)
    countries = Countries(settings.geoip_file)
    collector = Collector(settings, sites, writer, VisitorHasher(client), metrics, countries)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        writer.start()
        with contextlib.suppress(*REDIS_DOWN):
            await sites.reload()
        try:
            yield
        finally:
            await writer.close()  # every batch taken is answered before we go
            await client.aclose()
            countries.close()
            for close in on_close:
                close()

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        try:
            await client.ping()
        except (*REDIS_DOWN, redis.exceptions.ResponseError) as exc:
            return JSONResponse({"status": "redis unreachable", "error": str(exc)}, 503)
        return JSONResponse({"status": "ready"})

    async def metrics_endpoint(request: Request) -> Response:
        if settings.metrics_token is None:
            # It names every site, which a site-limited API token must not learn.
            return JSONResponse({"error": "not found"}, 404)
        if not _bearer_matches(request, settings.metrics_token):
            return JSONResponse(
                {"error": "send Authorization: Bearer with the metrics token"},
                401,
                headers={"www-authenticate": "Bearer"},
            )
        try:
            await sites.reload()
            await metrics.refresh_streams(client, sites.sites())
        except REDIS_DOWN as exc:
            log.warning("metrics without stream gauges, Redis unreachable: %s", exc)
        return Response(metrics.render(), media_type=PROMETHEUS_TYPE)

    routes = [
        Route("/t.js", SnippetEndpoint(SNIPPET_PATH).serve, methods=["GET", "HEAD"]),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics_endpoint),
        *more_routes,
    ]
    # POST /e bypasses the router: it is the hot path (see collector/ingest.py).
    middleware = [
        Middleware(HeadLimit, max_bytes=settings.max_header_bytes),
        Middleware(CollectRoute, collector=collector),
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.redis = client
    app.state.collector = collector
    return app


def _bearer_matches(request: Request, token: str) -> bool:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )

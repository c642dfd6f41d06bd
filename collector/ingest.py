"""`POST /e`: take one batch, check it, and answer 202 only once its events are in Redis."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import msgspec
import redis.exceptions
from starlette.requests import Request
from starlette.responses import Response

from collector.metrics import Metrics
from collector.privacy import VisitorHasher, client_ip, is_bot, opted_out
from collector.ratelimit import RateLimiter
from collector.schema import SCHEMA_VERSION, BatchError, StoredHeader, decode_batch
from collector.settings import Settings
from collector.sites import SiteDirectory, SiteError, normalize_origin
from collector.store import BatchWriter, BufferFullError, prepare_batch

log = logging.getLogger(__name__)

ACCEPTED_TYPES = frozenset({"text/plain", "application/json"})
RETRY_UNREACHABLE_S = 2
RETRY_BUFFER_FULL_S = 10
REDIS_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


class BodyTooLarge(Exception):
    pass


@dataclass
class Collector:
    settings: Settings
    sites: SiteDirectory
    writer: BatchWriter
    hasher: VisitorHasher
    metrics: Metrics

    def __post_init__(self) -> None:
        self.ip_limiter = RateLimiter(self.settings.rate_ip_per_s)
        self.site_limiter = RateLimiter(self.settings.rate_site_per_s)

    async def collect(self, request: Request) -> Response:
        try:
            return await self._collect(request)
        except REDIS_DOWN as exc:
            log.warning("Redis unreachable: %s", exc)
            return self._reply(
                request,
                503,
                {"error": "storage unavailable, retry later"},
                retry_after=RETRY_UNREACHABLE_S,
            )

    async def _collect(self, request: Request) -> Response:
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type not in ACCEPTED_TYPES:
            return self._reply(
                request,
                415,
                {
                    "error": "send the batch as text/plain or application/json",
                    "field": "content-type",
                },
            )
        try:
            body = await self._read_body(request)
        except BodyTooLarge:
            return self._reply(
                request,
                413,
                {"error": f"body over {self.settings.max_body_bytes} bytes", "field": "$"},
            )
        try:
            batch = decode_batch(
                body, self.settings.max_events, self.settings.max_event_age_s * 1000
            )
        except BatchError as exc:
            return self._reply(request, 400, {"error": str(exc), "field": exc.field})
        site = await self.sites.lookup(batch.site)
        if site is None:
            return self._reply(request, 403, {"error": "unknown site key", "field": "$.site"})
        origin = request.headers.get("origin")
        if origin is not None and not _origin_allowed(site.allows, origin):
            return self._reply(
                request,
                403,
                {"error": f"origin {origin!r} is not allowed for this site", "field": "origin"},
            )
        ip = client_ip(
            request.client.host if request.client else None,
            request.headers.get("x-forwarded-for"),
            self.settings.trusted_proxies,
        )
        if not self.ip_limiter.allow(ip) or not self.site_limiter.allow(site.name):
            return self._reply(
                request,
                429,
                {"error": "too many requests"},
                retry_after=self.ip_limiter.retry_after_s(),
            )
        user_agent = request.headers.get("user-agent", "")
        n = len(batch.events)
        if is_bot(user_agent):
            return self._dropped(request, n, "bot")
        if opted_out(request.headers, self.settings.honor_dnt):
            return self._dropped(request, n, "opt_out")
        now_ms = int(time.time() * 1000)
        header = StoredHeader(
            v=SCHEMA_VERSION,
            site=site.name,
            sid=batch.sid,
            vid=await self.hasher.visitor_id(site.name, ip, user_agent),
            recv=now_ms,
            skew=now_ms - batch.sent_at,
        )
        prepared = prepare_batch(
            site, batch, header, self.settings.buffer_max_events, self.settings.max_event_age_s
        )
        try:
            stored = await self.writer.write(prepared)
        except BufferFullError:
            return self._reply(
                request, 503, {"error": "buffer full, retry later"}, retry_after=RETRY_BUFFER_FULL_S
            )
        self.metrics.accepted.inc(stored)
        if n > stored:
            self.metrics.dropped.labels("duplicate").inc(n - stored)
        return self._reply(
            request, 202, {"accepted": stored, "dropped": 0, "duplicates": n - stored}
        )

    async def preflight(self, request: Request) -> Response:
        headers = {
            "Access-Control-Allow-Methods": "POST",
            "Access-Control-Allow-Headers": "content-type",
            "Access-Control-Max-Age": "86400",
            "Vary": "Origin",
        }
        headers.update(await self._cors(request))
        return Response(status_code=204, headers=headers)

    async def _read_body(self, request: Request) -> bytes:
        limit = self.settings.max_body_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise BodyTooLarge
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge  # stop reading: the rest is never buffered
            chunks.append(chunk)
        return b"".join(chunks)

    def _dropped(self, request: Request, n: int, reason: str) -> Response:
        self.metrics.dropped.labels(reason).inc(n)
        return self._reply(request, 202, {"accepted": 0, "dropped": n, "duplicates": 0})

    def _reply(
        self, request: Request, status: int, body: dict[str, object], retry_after: int | None = None
    ) -> Response:
        self.metrics.requests.labels(str(status)).inc()
        headers = {"Vary": "Origin"}
        origin = request.headers.get("origin")
        if origin and _origin_allowed(self.sites.any_allows, origin):
            headers["Access-Control-Allow-Origin"] = origin
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        return Response(
            msgspec.json.encode(body),
            status_code=status,
            media_type="application/json",
            headers=headers,
        )

    async def _cors(self, request: Request) -> dict[str, str]:
        origin = request.headers.get("origin")
        if not origin:
            return {}
        if not self.sites.sites():
            await self.sites.reload()
        if _origin_allowed(self.sites.any_allows, origin):
            return {"Access-Control-Allow-Origin": origin}
        return {}


def _origin_allowed(check: Callable[[str], bool], origin: str) -> bool:
    try:
        normalized = normalize_origin(origin)
    except SiteError:
        return False
    return check(normalized)

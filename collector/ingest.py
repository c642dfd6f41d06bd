"""`POST /e`: take one batch, check it, and answer 202 only once its events are in Redis.

This is the hot path, so it is a plain ASGI app (mounted by `CollectRoute` ahead of Starlette's
router): no Request or Response objects, just the handful of headers it reads.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import msgspec
from starlette.types import ASGIApp, Receive, Scope, Send

from collector.bounds import clamp_batch
from collector.metrics import Metrics
from collector.privacy import VisitorHasher, client_ip, is_bot, opted_out
from collector.ratelimit import RateLimiter
from collector.schema import SCHEMA_VERSION, BatchError, StoredHeader, decode_batch
from collector.settings import Settings
from collector.sites import SiteDirectory, SiteError, normalize_origin
from collector.store import REDIS_DOWN, BatchWriter, BufferFullError, prepare_batch

log = logging.getLogger(__name__)

ACCEPTED_TYPES = frozenset({"text/plain", "application/json"})
RETRY_UNREACHABLE_S = 2
RETRY_BUFFER_FULL_S = 10
PREFLIGHT_HEADERS = [
    (b"access-control-allow-methods", b"POST"),
    (b"access-control-allow-headers", b"content-type"),
    (b"access-control-max-age", b"86400"),
    (b"vary", b"Origin"),
]

Reply = tuple[int, dict[str, Any], int | None]  # status, JSON body, Retry-After seconds
Headers = dict[str, str]
# The request headers this endpoint reads; the rest are never decoded.
READ_HEADERS = frozenset(
    {
        b"content-type",
        b"content-length",
        b"origin",
        b"user-agent",
        b"x-forwarded-for",
        b"sec-gpc",
        b"dnt",
    }
)


def read_headers(scope: Scope) -> Headers:
    return {
        name.decode(): value.decode("latin-1")
        for name, value in scope["headers"]
        if name in READ_HEADERS
    }


class BodyTooLarge(Exception):
    pass


class ClientGone(Exception):
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
        # User agents repeat endlessly: classify each once.
        self.is_bot = lru_cache(maxsize=4096)(is_bot)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = read_headers(scope)
        if scope["method"] == "OPTIONS":
            await self._preflight(headers, send)
            return
        if scope["method"] != "POST":
            reply: Reply = (405, {"error": "use POST"}, None)
        else:
            try:
                reply = await self._collect(scope, receive, headers)
            except ClientGone:
                return
            except REDIS_DOWN as exc:
                log.warning("Redis unreachable: %s", exc)
                reply = (503, {"error": "storage unavailable, retry later"}, RETRY_UNREACHABLE_S)
        await self._send(send, headers, *reply)

    async def _collect(self, scope: Scope, receive: Receive, headers: Headers) -> Reply:
        media_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type not in ACCEPTED_TYPES:
            return (
                415,
                {
                    "error": "send the batch as text/plain or application/json",
                    "field": "content-type",
                },
                None,
            )
        try:
            body = await self._read_body(receive, headers)
        except BodyTooLarge:
            return (
                413,
                {"error": f"body over {self.settings.max_body_bytes} bytes", "field": "$"},
                None,
            )
        try:
            batch = decode_batch(
                body, self.settings.max_events, self.settings.max_event_age_s * 1000
            )
        except BatchError as exc:
            return 400, {"error": str(exc), "field": exc.field}, None
        clamped = clamp_batch(batch)
        site = await self.sites.lookup(batch.site)
        if site is None:
            return 403, {"error": "unknown site key", "field": "$.site"}, None
        origin = headers.get("origin")
        if origin is not None and not _origin_allowed(site.allows, origin):
            return (
                403,
                {"error": f"origin {origin!r} is not allowed for this site", "field": "origin"},
                None,
            )
        peer = scope.get("client")
        ip = client_ip(
            peer[0] if peer else None, headers.get("x-forwarded-for"), self.settings.trusted_proxies
        )
        if not self.ip_limiter.allow(ip) or not self.site_limiter.allow(site.name):
            return 429, {"error": "too many requests"}, self.ip_limiter.retry_after_s()
        user_agent = headers.get("user-agent", "")
        n = len(batch.events)
        if self.is_bot(user_agent):
            return self._dropped(n, "bot")
        if opted_out(headers, self.settings.honor_dnt):
            return self._dropped(n, "opt_out")
        now_ms = int(time.time() * 1000)
        header = StoredHeader(
            v=SCHEMA_VERSION,
            site=site.name,
            sid=batch.sid,
            vid=await self.hasher.visitor_id(site.name, ip, user_agent),
            recv=now_ms,
            skew=now_ms - batch.sent_at,
        )
        prepared = prepare_batch(site, batch, header, self.settings.max_event_age_s)
        try:
            stored = await self.writer.write(prepared)
        except BufferFullError:
            return 503, {"error": "buffer full, retry later"}, RETRY_BUFFER_FULL_S
        self.metrics.accepted.inc(stored)
        if clamped:
            self.metrics.count_clamped(clamped)
        if n > stored:
            self.metrics.dropped.labels("duplicate").inc(n - stored)
        return 202, {"accepted": stored, "dropped": 0, "duplicates": n - stored}, None

    async def _read_body(self, receive: Receive, headers: Headers) -> bytes:
        limit = self.settings.max_body_bytes
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise BodyTooLarge
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientGone
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge  # stop reading: the rest is never buffered
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _dropped(self, n: int, reason: str) -> Reply:
        self.metrics.dropped.labels(reason).inc(n)
        return 202, {"accepted": 0, "dropped": n, "duplicates": 0}, None

    async def _send(
        self,
        send: Send,
        headers: Headers,
        status: int,
        body: dict[str, Any],
        retry_after: int | None,
    ) -> None:
        self.metrics.count_request(status)
        content = msgspec.json.encode(body)
        response_headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(content)).encode()),
            (b"vary", b"Origin"),
        ]
        origin = headers.get("origin")
        if origin and _origin_allowed(self.sites.any_allows, origin):
            response_headers.append((b"access-control-allow-origin", origin.encode()))
        if retry_after is not None:
            response_headers.append((b"retry-after", str(retry_after).encode()))
        await send({"type": "http.response.start", "status": status, "headers": response_headers})
        await send({"type": "http.response.body", "body": content})

    async def _preflight(self, headers: Headers, send: Send) -> None:
        response_headers = list(PREFLIGHT_HEADERS)
        origin = headers.get("origin")
        if origin:
            if not self.sites.sites():
                await self.sites.reload()
            if _origin_allowed(self.sites.any_allows, origin):
                response_headers.append((b"access-control-allow-origin", origin.encode()))
        await send({"type": "http.response.start", "status": 204, "headers": response_headers})
        await send({"type": "http.response.body", "body": b""})


class CollectRoute:
    """Plain ASGI middleware: `/e` goes straight to the collector, the rest to the app."""

    def __init__(self, app: ASGIApp, collector: Collector) -> None:
        self.app = app
        self.collector = collector

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/e":
            await self.collector(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def _origin_allowed(check: Callable[[str], bool], origin: str) -> bool:
    normalized = _normalized_origin(origin)
    return normalized is not None and check(normalized)


@lru_cache(maxsize=4096)
def _normalized_origin(origin: str) -> str | None:
    try:
        return normalize_origin(origin)
    except SiteError:
        return None

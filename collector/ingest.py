"""`POST /e`: take one batch, check it, and answer 202 only once its events are in Redis.

This is the hot path, so it is a plain ASGI app (mounted by `CollectRoute` ahead of Starlette's
router): no Request or Response objects, just the handful of headers it reads.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import msgspec
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from collector.agents import AgentParser
from collector.batch_writer import REDIS_DOWN, BatchWriter, BufferFullError, prepare_batch
from collector.bounds import clamp_batch
from collector.geo import Countries
from collector.head_limit import HEADER_VALUE_MAX_BYTES
from collector.labels import mask_labels
from collector.metrics import Metrics
from collector.privacy import VisitorHasher, client_ip, opted_out
from collector.ratelimit import RateLimiter
from collector.schema import SCHEMA_VERSION, Batch, BatchError, StoredHeader, decode_batch
from collector.settings import Settings
from collector.sites import SiteDirectory, SiteError, normalize_origin

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


# Stands for an Origin over the bound: never a valid origin, so never allowed.
OVERSIZED_ORIGIN = f"(over {HEADER_VALUE_MAX_BYTES} bytes)"


def read_headers(scope: Scope) -> Headers:
    """The headers this endpoint reads, each cut at HEADER_VALUE_MAX_BYTES before any cache or
    hash sees it."""
    return {
        name.decode(): value.decode("latin-1")
        if len(value) <= HEADER_VALUE_MAX_BYTES
        else _shortened(name, value)
        for name, value in scope["headers"]
        if name in READ_HEADERS
    }


def _shortened(name: bytes, value: bytes) -> str:
    if name == b"origin":
        return OVERSIZED_ORIGIN  # a cut origin could pass for another
    return value[:HEADER_VALUE_MAX_BYTES].decode("latin-1")


class BodyTooLarge(Exception):
    pass


class ClientGone(Exception):
    pass


class BodyTimeout(Exception):
    pass


@dataclass
class Collector:
    settings: Settings
    sites: SiteDirectory
    writer: BatchWriter
    hasher: VisitorHasher
    metrics: Metrics
    countries: Countries

    def __post_init__(self) -> None:
        self.ip_limiter = RateLimiter(self.settings.rate_ip_per_s)
        self.site_limiter = RateLimiter(self.settings.rate_site_per_s)
        # Refused requests cost a client tokens of its own bucket: probing keys, origins or
        # the parser gets a 429 long before it costs us much.
        self.invalid_limiter = RateLimiter(self.settings.rate_invalid_per_s)
        # User agents repeat endlessly: each is parsed once (collector.agents caches by hash).
        self.agents = AgentParser()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = read_headers(scope)
        if scope["method"] == "OPTIONS":
            await self._preflight(headers, send)
            return
        peer = scope.get("client")
        ip = client_ip(
            peer[0] if peer else None, headers.get("x-forwarded-for"), self.settings.trusted_proxies
        )
        if self.invalid_limiter.exhausted(ip):
            retry_s = self.invalid_limiter.retry_after_s()
            reply: Reply = (429, {"error": "too many refused requests"}, retry_s)
        elif scope["method"] != "POST":
            reply = (405, {"error": "use POST"}, None)
        else:
            try:
                reply = await self._collect(receive, headers, ip)
            except ClientGone:
                return
            except REDIS_DOWN as exc:
                log.warning("Redis unreachable: %s", exc)
                reply = (503, {"error": "storage unavailable, retry later"}, RETRY_UNREACHABLE_S)
        if 400 <= reply[0] < 500 and reply[0] != 429:
            self.invalid_limiter.allow(ip)  # spends one of the client's tokens
        await self._send(send, headers, *reply)

    async def _collect(self, receive: Receive, headers: Headers, ip: str) -> Reply:
        batch = await self._read_batch(receive, headers)
        if isinstance(batch, tuple):
            return batch  # refused before it decoded
        clamped = clamp_batch(batch)
        mask_labels(batch.events)  # the snippet masks them too, but not every client is the snippet
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
        if not self.ip_limiter.allow(ip) or not self.site_limiter.allow(site.name):
            return 429, {"error": "too many requests"}, self.ip_limiter.retry_after_s()
        user_agent = headers.get("user-agent", "")
        n = len(batch.events)
        agent = self.agents(user_agent)
        if agent.bot:
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
            browser=agent.browser,
            os=agent.os,
            country=self.countries(ip),
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

    async def _read_batch(self, receive: Receive, headers: Headers) -> Batch | Reply:
        """The decoded batch, or the reply refusing it (type, size, time or content)."""
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
        except BodyTimeout:
            seconds = self.settings.body_timeout_s
            return 408, {"error": f"body not received within {seconds:g} s", "field": "$"}, None
        try:
            batch = decode_batch(
                body, self.settings.max_events, self.settings.max_event_age_s * 1000
            )
        except BatchError as exc:
            return 400, {"error": str(exc), "field": exc.field}, None
        return batch

    async def _read_body(self, receive: Receive, headers: Headers) -> bytes:
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.settings.max_body_bytes:
            raise BodyTooLarge
        opened = asyncio.get_running_loop().time()
        # No timer for the first part: most bodies come whole with their head, and one that never
        # starts is cut off by the server's own deadline (clicktrail/http_protocol.py).
        message = await receive()
        first = self._chunk(message, 0)
        if not message.get("more_body", False):
            return first
        try:
            async with asyncio.timeout_at(opened + self.settings.body_timeout_s):
                return await self._rest_of_body(receive, first)
        except TimeoutError:
            raise BodyTimeout from None

    async def _rest_of_body(self, receive: Receive, first: bytes) -> bytes:
        chunks = [first]
        size = len(first)
        while True:
            message = await receive()
            chunk = self._chunk(message, size)
            size += len(chunk)
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _chunk(self, message: Message, size_before: int) -> bytes:
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk: bytes = message.get("body", b"")
        if size_before + len(chunk) > self.settings.max_body_bytes:
            raise BodyTooLarge  # stop reading: the rest is never buffered
        return chunk

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
        if status == 408:
            response_headers.append((b"connection", b"close"))  # the rest of the body may follow
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


@lru_cache(maxsize=4096)  # keys cut at HEADER_VALUE_MAX_BYTES: at most about 5 MB
def _normalized_origin(origin: str) -> str | None:
    try:
        return normalize_origin(origin)
    except SiteError:
        return None

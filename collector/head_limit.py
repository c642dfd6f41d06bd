"""Bounds on what a request's head may make us hold: the whole head, and each header we read."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

# User-Agent, Origin and X-Forwarded-For are read up to this many bytes: enough for any real
# one, and it bounds every cache and memo keyed by them.
HEADER_VALUE_MAX_BYTES = 1024
HEADER_LINE_OVERHEAD_BYTES = 4  # ": " and CRLF, counted as they were on the wire
TOO_LARGE_BODY = b'{"error":"request headers too large","field":"headers"}'


def head_size(scope: Scope) -> int:
    """Bytes of the request target and headers, close to what the client sent."""
    size = len(scope.get("raw_path") or b"") + len(scope.get("query_string", b""))
    for name, value in scope["headers"]:
        size += len(name) + len(value) + HEADER_LINE_OVERHEAD_BYTES
    return size


class HeadLimit:
    """Plain ASGI middleware: a request whose head is over `max_bytes` gets 431, on every route.

    uvicorn's httptools protocol has no such limit (its h11 one does not apply), so the app
    enforces it before any route reads a header."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or head_size(scope) <= self.max_bytes:
            await self.app(scope, receive, send)
            return
        await send(
            {
                "type": "http.response.start",
                "status": 431,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(TOO_LARGE_BODY)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": TOO_LARGE_BODY})

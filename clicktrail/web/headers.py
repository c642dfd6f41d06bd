"""Security headers for the dashboard, login and API, and the request's scheme behind a trusted
TLS-terminating proxy. Plain ASGI middleware: each passes through what it does not handle."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from collector.privacy import in_networks
from collector.setting_values import Network

# Everything the dashboard loads is its own: scripts and styles from /static, images from the
# API (heatmap PNGs) or inline data: (the favicon). No inline script or style can run, so a
# value a stranger managed to slip into a page still could not execute.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    )
)
SECURITY_HEADERS = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),  # frame-ancestors for browsers that predate it
    (b"referrer-policy", b"same-origin"),
)
# The collector's public routes are fetched cross-origin by the snippet on the site's pages:
# they keep their own headers (CORS on /e; /t.js is a script other origins load).
PUBLIC_PATHS = frozenset({"/e", "/t.js"})


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every response but the collector's public routes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                taken = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in SECURITY_HEADERS if k not in taken]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class ForwardedScheme:
    """Behind a trusted proxy that terminates TLS, the request's scheme is the one the proxy
    names in X-Forwarded-Proto, so the login's origin check and the cookie's Secure flag see
    https. From any other peer the header is ignored: a stranger cannot claim https."""

    def __init__(self, app: ASGIApp, trusted: Iterable[Network]) -> None:
        self.app = app
        self.trusted = tuple(trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.trusted:
            scheme = self._forwarded(scope)
            if scheme is not None:
                scope = {**scope, "scheme": scheme}
        await self.app(scope, receive, send)

    def _forwarded(self, scope: Scope) -> str | None:
        peer = scope.get("client")
        if not peer or not in_networks(peer[0], self.trusted):
            return None
        for name, value in scope["headers"]:
            if name == b"x-forwarded-proto":
                # A chain of proxies may list several: the first is the one the browser met.
                first = value.decode("latin-1").split(",")[0].strip().lower()
                return first if first in ("http", "https") else None
        return None

"""Who is asking: a read API token from `Authorization: Bearer ...` or the dashboard's login
cookie (which holds the same token; HttpOnly, SameSite=Lax so other sites' forms never carry
it, Secure over HTTPS)."""

from __future__ import annotations

import redis
from starlette.requests import Request
from starlette.responses import Response

from clicktrail.tokens import Token, find_token
from collector.sites import Site, SiteError, check_name, get_site

COOKIE = "clicktrail_token"
COOKIE_MAX_AGE_S = 30 * 86_400


def presented_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(COOKIE)


def authenticate(client: redis.Redis, request: Request) -> Token | None:
    secret = presented_token(request)
    return find_token(client, secret) if secret else None


def visible_site(client: redis.Redis, token: Token, name: str) -> Site | None:
    """The site `name` if it exists and the token may see it; None reads as 404 to the caller,
    so a token cannot tell another site's name from a name never registered."""
    try:
        check_name(name)
        site = get_site(client, name)
    except SiteError:
        return None
    return site if token.can_see(site.name) else None


def set_login_cookie(response: Response, request: Request, secret: str) -> None:
    response.set_cookie(
        COOKIE,
        secret,
        max_age=COOKIE_MAX_AGE_S,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


def same_origin(request: Request) -> bool:
    """A form post comes from our own pages (cross-site posts carry another Origin)."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None  # no Origin: not a browser form post from elsewhere
    return origin == f"{request.url.scheme}://{request.url.netloc}"

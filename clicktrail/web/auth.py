"""Who is asking: a read API token from `Authorization: Bearer ...` or the dashboard's login
cookie (which holds the same token; HttpOnly, SameSite=Strict so no request another site starts
carries it, Secure over HTTPS).

Strict means a link from elsewhere (the report's e-mail, a chat) arrives without the cookie. A
second cookie, `clicktrail_seen`, holds no secret and is Lax: it only tells the login page that
this browser has logged in, so the page goes on to the link's target itself, a navigation of our
own origin that carries the Strict cookie."""

from __future__ import annotations

import redis
from starlette.requests import Request
from starlette.responses import Response

from clicktrail.web.tokens import Token, find_token
from collector.sites import Site, SiteError, check_name, get_site

COOKIE = "clicktrail_token"
SEEN_COOKIE = "clicktrail_seen"
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
    secure = request.url.scheme == "https"  # behind a trusted proxy, its X-Forwarded-Proto
    response.set_cookie(
        COOKIE,
        secret,
        max_age=COOKIE_MAX_AGE_S,
        httponly=True,
        samesite="strict",
        secure=secure,
        path="/",
    )
    response.set_cookie(
        SEEN_COOKIE,
        "1",
        max_age=COOKIE_MAX_AGE_S,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )


def clear_login_cookies(response: Response) -> None:
    for name in (COOKIE, SEEN_COOKIE):
        response.delete_cookie(name, path="/")


def arrived_from_elsewhere(request: Request) -> bool:
    """A navigation another site started, by a browser that has logged in here: the Strict
    cookie stayed behind, but a navigation of our own will carry it."""
    return (
        request.headers.get("sec-fetch-site") == "cross-site"
        and SEEN_COOKIE in request.cookies
        and COOKIE not in request.cookies
    )


def same_origin(request: Request) -> bool:
    """A form post comes from our own pages (cross-site posts carry another Origin)."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None  # no Origin: not a browser form post from elsewhere
    return origin == f"{request.url.scheme}://{request.url.netloc}"

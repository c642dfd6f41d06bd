"""The dashboard's defences, in process: security headers on every route but the collector's
public ones, every value a page shows or echoes escaped (stored and reflected), and the scheme,
origin check and cookie behind a trusted TLS-terminating proxy. The same attacks run in
headless Chromium in test_hostile_pages.py."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
import redis
from starlette.testclient import TestClient

from clicktrail.web.app import create_web_app
from clicktrail.web.headers import CONTENT_SECURITY_POLICY
from clicktrail.web.tokens import create_token
from clicktrail.worker import Worker
from collector.pages import PageTemplates
from collector.settings import Settings
from collector.sites import Site
from heatmap.aggregate import Aggregator
from reports.sessions.builder import SessionBuilder
from tests.clicktrail.hostile import HOSTILE_PATHS, PAYLOADS, RAW_MARKUP, post_hostile_visits

REPORT = """
[funnels.cart]
steps = ["/product/*", "/cart", "/checkout", "/thanks"]

[reports.daily]
site = "shop"
funnel = "cart"
period = "yesterday"
schedule = "0 7 * * *"
deliver = [{type = "dir", path = "sent"}]
"""
# Each dashboard page with the parameters it reads (the reflected attacks' table).
DASHBOARD_PARAMS = {
    "/": (),
    "/login": ("next",),
    "/sites/shop": ("period", "from", "to", "band", "channel", "goal"),
    "/sites/shop/pages": ("from", "to", "channel"),
    "/sites/shop/heatmap": ("page", "band", "kind", "from", "to", "channel"),
    "/sites/shop/funnel": ("step", "window", "from", "to", "strict", "sent", "by", "channel"),
    "/sites/shop/journeys": ("start", "end", "goal", "converted", "steps", "rows", "events",
                             "exclude", "merge_templates", "from", "to", "band", "source",
                             "channel"),
    "/sites/shop/journeys/a-to-b": ("start", "end", "from", "to", "band", "source", "channel"),
}  # fmt: skip
API_ROUTES = ("/api/sites", "/api/sites/shop/pages", "/api/openapi.json")
PROXY = "10.0.0.5"


def make_web(redis_url: str, tmp_path: Path, peer: str = "203.0.113.7") -> TestClient:
    (tmp_path / "clicktrail.toml").write_text(REPORT)
    settings = Settings(data_dir=tmp_path, trusted_proxies=(ipaddress.ip_network("10.0.0.0/8"),))
    app = create_web_app(settings, redis_url, tmp_path / "clicktrail.toml", lambda name: ["ok"])
    return TestClient(app, client=(peer, 50000), base_url="http://ct.example")


@pytest.fixture
def web(redis_url: str, site: Site, tmp_path: Path) -> Iterator[TestClient]:
    with make_web(redis_url, tmp_path) as client:
        yield client


@pytest.fixture
def token(redis_client: redis.Redis) -> str:
    secret, _ = create_token(redis_client, "tests")
    return secret


@pytest.fixture
def hostile_site(
    make_client: Callable[..., TestClient], redis_client: redis.Redis, site: Site
) -> Site:
    post_hostile_visits(make_client(rate_ip_per_s=1e6), site)
    Worker(redis_client, [Aggregator(PageTemplates(), 90), SessionBuilder(redis_client)]).run(
        burst=True
    )
    return site


def assert_no_markup(html: str, where: str) -> None:
    for raw in RAW_MARKUP:
        assert raw not in html, f"{where} shows {raw!r} unescaped"


def test_every_dashboard_login_and_api_route_sends_the_security_headers(
    web: TestClient, token: str
) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    for path in [*DASHBOARD_PARAMS, *API_ROUTES, "/static/dashboard.js", "/sites/nope"]:
        response = web.get(path, headers=auth, follow_redirects=False)
        assert response.status_code < 500, path
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY, path
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["x-frame-options"] == "DENY", path
        assert response.headers["referrer-policy"] == "same-origin", path
    anonymous = web.get("/sites/shop", follow_redirects=False)
    assert anonymous.status_code == 303
    assert "frame-ancestors 'none'" in anonymous.headers["content-security-policy"]


def test_the_policy_allows_only_the_dashboards_own_scripts_styles_and_images() -> None:
    directives = dict(d.split(" ", 1) for d in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"  # no 'unsafe-inline', no 'unsafe-eval'
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert directives["form-action"] == "'self'"


def test_the_collectors_public_routes_keep_what_cross_origin_pages_need(web: TestClient) -> None:
    snippet = web.get("/t.js")
    assert snippet.status_code == 200
    assert "content-security-policy" not in snippet.headers
    preflight = web.options("/e", headers={"Origin": "https://shop.example"})
    assert preflight.headers["access-control-allow-origin"] == "https://shop.example"
    assert "content-security-policy" not in preflight.headers


def test_no_template_carries_an_inline_script_or_style() -> None:
    templates = sorted(
        (Path(__file__).parents[3] / "clicktrail" / "web" / "templates").glob("*.j2")
    )
    assert len(templates) >= 5, "the dashboard's templates were not found"
    for template in templates:
        text = template.read_text()
        assert "style=" not in text and "<style" not in text, template.name
        assert "<script>" not in text and " on" + "click=" not in text, template.name


@pytest.mark.parametrize("payload", PAYLOADS)
def test_values_echoed_from_the_request_are_escaped(
    web: TestClient, token: str, payload: str
) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    for path, names in DASHBOARD_PARAMS.items():
        for name in (*names, payload):  # each parameter, and a hostile parameter's name
            value = "/" + payload if name in ("next", "page", "step") else payload
            response = web.get(path, params={name: value}, headers=auth)
            assert response.status_code < 500, (path, name)
            assert_no_markup(response.text, f"{path}?{name}=")
    login = web.get("/login", params={"next": "/" + payload})
    assert login.status_code == 200
    assert_no_markup(login.text, "/login?next=")


def test_values_strangers_posted_are_escaped_on_every_page(
    hostile_site: Site, web: TestClient, token: str
) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    pages = [
        "/",
        "/sites/shop",
        "/sites/shop/pages",
        *(f"/sites/shop/heatmap?band={b}&kind={k}" for b in ("mobile", "tablet", "desktop")
          for k in ("click", "rage", "dead", "scroll")),
    ]  # fmt: skip
    for path in HOSTILE_PATHS:
        pages.append(f"/sites/shop/heatmap?{_query(page=path)}")
    pages.append(f"/sites/shop/funnel?{_query(step=['/', '/cart', HOSTILE_PATHS[0]])}")
    shown = ""
    for url in pages:
        response = web.get(url, headers=auth)
        assert response.status_code == 200, url
        assert_no_markup(response.text, url)
        shown += response.text
    # The hostile values were there to be shown: escaped, not missing.
    assert "/&lt;img src=x onerror=" in shown
    assert "&lt;svg onload=window.__xss=2&gt;" in shown  # a selector on the heatmap page


def test_behind_a_trusted_proxy_the_login_is_https_with_a_secure_strict_cookie(
    redis_url: str, site: Site, token: str, tmp_path: Path
) -> None:
    with make_web(redis_url, tmp_path, peer=PROXY) as web:
        response = web.post(
            "/login",
            data={"token": token, "next": "/sites/shop"},
            headers={"Origin": "https://ct.example", "X-Forwarded-Proto": "https"},
            follow_redirects=False,
        )
        assert response.status_code == 303
        cookie = next(c for c in response.headers.get_list("set-cookie")
                      if c.startswith("clicktrail_token="))  # fmt: skip
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
        sent = web.post(
            "/sites/shop/reports/daily/send",
            headers={"Origin": "https://ct.example", "X-Forwarded-Proto": "https",
                     "Authorization": f"Bearer {token}"},
            follow_redirects=False,
        )  # fmt: skip
        assert sent.status_code == 303, "Send now answers behind the proxy"
        assert "sent=daily" in sent.headers["location"]


def test_a_stranger_cannot_claim_https_with_the_proxys_header(web: TestClient, token: str) -> None:
    response = web.post(
        "/login",
        data={"token": token},
        headers={"Origin": "https://ct.example", "X-Forwarded-Proto": "https"},
        follow_redirects=False,
    )
    assert response.status_code == 403  # its scheme is http: the https origin is another site


def test_over_plain_http_the_cookie_is_strict_and_httponly_but_not_secure(
    web: TestClient, token: str
) -> None:
    response = web.post(
        "/login", data={"token": token}, headers={"Origin": "http://ct.example"},
        follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 303
    cookie = next(c for c in response.headers.get_list("set-cookie")
                  if c.startswith("clicktrail_token="))  # fmt: skip
    assert "SameSite=strict" in cookie and "HttpOnly" in cookie and "Secure" not in cookie


@pytest.mark.parametrize(
    "target",
    ["//evil.example", "/\\evil.example", "https://evil.example", "/\t/evil.example", " /x"],
)
def test_the_login_never_sends_anyone_to_another_host(web: TestClient, target: str) -> None:
    page = web.get("/login", params={"next": target})
    assert 'name="next" value="/"' in page.text


def _query(**params: str | list[str]) -> str:
    return urlencode(params, doseq=True)

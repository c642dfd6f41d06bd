"""The read API: every route with and without a token, another site's id, bad parameters, and
the numbers it returns for shop traffic posted through POST /e."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx2 as httpx
import numpy as np
import pytest
import redis
from PIL import Image
from starlette.testclient import TestClient

from clicktrail.cli.main import main
from clicktrail.web.api import ENDPOINTS
from clicktrail.web.app import create_web_app
from clicktrail.web.tokens import create_token
from clicktrail.worker import Worker
from collector import sites
from collector.pages import PageTemplates
from collector.settings import Settings
from collector.sites import Site, set_time_zone
from heatmap import keys
from heatmap.aggregate import Aggregator
from heatmap.render import LEGEND_PX
from tests.clicktrail.answers import pop_as_of
from tests.clicktrail.conftest import CART_BUTTON
from tests.factories import batch, click

FUNNEL = "step=/product/*&step=/cart&step=/checkout&step=/thanks"
# One working request per route: the table the token and site checks run over.
ROUTES = {
    "/api/sites": "",
    "/api/sites/{site}/pages": "",
    "/api/sites/{site}/elements": "page=/cart",
    "/api/sites/{site}/heatmap.png": "page=/cart",
    "/api/sites/{site}/scrollmap.png": "page=/cart",
    "/api/sites/{site}/funnel": FUNNEL,
    "/api/sites/{site}/journeys": "",
    "/api/sites/{site}/paths": "start=/product/*&end=/thanks",
    "/api/sites/{site}/channels": "goal=/thanks",
    "/api/sites/{site}/overview": "goal=/thanks&limit=0",
    "/api/sites/{site}/live": "",
}


@pytest.fixture
def web(redis_url: str, redis_client: redis.Redis, tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path, public_url="https://ct.example")
    app = create_web_app(settings, redis_url, tmp_path / "none.toml", lambda name: [])
    with TestClient(app) as client:
        yield client


@pytest.fixture
def token(redis_client: redis.Redis) -> str:
    secret, _ = create_token(redis_client, "tests")
    return secret


def get(web: TestClient, url: str, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return web.get(url, headers=headers)


def test_the_openapi_document_lists_exactly_the_routes(web: TestClient) -> None:
    document = web.get("/api/openapi.json").json()
    assert set(document["paths"]) == set(ROUTES) == {f"/api{e.path}" for e in ENDPOINTS}
    heatmap = document["paths"]["/api/sites/{site}/heatmap.png"]["get"]
    names = [p["name"] for p in heatmap["parameters"]]
    assert names == ["site", "page", "band", "kind", "from", "to", "width", "scale", "channel"]
    assert set(heatmap["responses"]) == {"200", "400", "401", "404", "409", "431"}


@pytest.mark.parametrize("route", ROUTES)
def test_every_route_wants_a_token(web: TestClient, shop: Site, route: str) -> None:
    url = route.format(site="shop") + "?" + ROUTES[route]
    for presented in (None, "ctt_not-a-token", "Basic abc"):
        response = web.get(url, headers={"Authorization": presented} if presented else {})
        assert response.status_code == 401, presented
        assert response.json()["error"].startswith("a valid token is needed")
        assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("route", ROUTES)
def test_every_route_answers_with_a_token(
    web: TestClient, shop: Site, token: str, route: str
) -> None:
    response = web.get(
        route.format(site="shop") + "?" + ROUTES[route],
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    expected = "image/png" if route.endswith(".png") else "application/json"
    assert response.headers["content-type"] == expected


@pytest.mark.parametrize("route", [r for r in ROUTES if "{site}" in r])
def test_another_sites_data_is_not_found(
    web: TestClient, shop: Site, redis_client: redis.Redis, route: str
) -> None:
    sites.add_site(redis_client, sites.new_site("blog", ["https://blog.example"]))
    only_blog, _ = create_token(redis_client, "blog only", ("blog",))
    headers = {"Authorization": f"Bearer {only_blog}"}
    for name in ("shop", "never-registered", "Bad Name!"):
        response = web.get(route.format(site=name) + "?" + ROUTES[route], headers=headers)
        assert response.status_code == 404, name
        assert response.json() == {"error": "no such site", "parameter": "site"}
    listed = web.get("/api/sites", headers=headers).json()
    assert [s["name"] for s in listed] == ["blog"]


@pytest.mark.parametrize(
    ("url", "parameter", "message"),
    [
        ("/pages?from=2026-13-01", "from", "expected a date as YYYY-MM-DD"),
        ("/pages?from=2026-02-01&to=2026-01-01", "to", "the range ends"),
        ("/pages?from=2020-01-01&to=2026-01-01", "from", "at most 366 days"),
        ("/pages?colour=red", "colour", "unknown parameter (this route takes: from, to)"),
        ("/live?minutes=5&x=1", "x", "unknown parameter (this route takes: minutes)"),
        ("/elements", "page", "required"),
        ("/elements?page=cart", "page", "must start with '/' or 're:'"),
        ("/elements?page=/cart&band=watch", "band", "expected one of mobile, tablet, desktop"),
        ("/elements?page=/cart&limit=0", "limit", "from 1 to 500"),
        ("/elements?page=/cart&limit=1e3", "limit", "whole number"),
        ("/heatmap.png?page=/cart&kind=hover", "kind", "expected one of click"),
        ("/heatmap.png?page=/cart&width=99999", "width", "from 100 to 4000"),
        ("/heatmap.png?page=/cart&page=/", "page", "give it once"),
        ("/scrollmap.png?page=/cart&kind=click", "kind", "unknown parameter"),
        ("/funnel?step=/cart", "step", "2 to 20 times"),
        ("/funnel?step=/cart&step=re:(", "step", "is not a valid regex"),
        ("/funnel?" + FUNNEL + "&window=forever", "window", "expected a duration"),
        ("/funnel?" + FUNNEL + "&window=9d", "window", "from 1s to 7d"),
        ("/funnel?" + FUNNEL + "&tz=Mars/Olympus", "tz", "unknown time zone"),
        ("/funnel?" + FUNNEL + "&unit=household", "unit", "expected one of session, visitor"),
        ("/funnel?" + FUNNEL + "&strict=maybe", "strict", "expected true or false"),
        ("/live?minutes=1000", "minutes", "from 1 to 120"),
        ("/journeys?steps=11", "steps", "steps runs from 2 to 10 here, not 11"),
        ("/journeys?steps=21&start=/", "steps", "from 2 to 20"),
        ("/journeys?rows=11", "rows", "from 1 to 10"),
        ("/journeys?start=re:(", "start", "is not a valid regex"),
        ("/journeys?converted=true", "converted", "needs a goal"),
        ("/journeys?band=watch", "band", "expected one of mobile, tablet, desktop"),
        ("/journeys?exclude=cart", "exclude", "must start with '/'"),
        ("/journeys?from=2020-01-01&to=2026-01-01", "from", "at most 366 days"),
        ("/paths?start=/", "end", "required"),
        ("/paths?start=event:add&end=/", "start", "A to B runs between pages"),
        ("/channels?channel=tv", "channel", "expected one of direct, organic_search"),
        ("/channels?goal=re:(", "goal", "is not a valid regex"),
        ("/funnel?" + FUNNEL + "&by=moon", "by", "expected one of band, source, channel"),
    ],
)
def test_bad_parameters_get_a_400_naming_them(
    web: TestClient, shop: Site, token: str, url: str, parameter: str, message: str
) -> None:
    response = web.get(f"/api/sites/shop{url}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 400
    assert response.json()["parameter"] == parameter
    assert message in response.json()["error"]


def test_the_funnel_is_the_same_json_as_the_command(
    web: TestClient,
    shop: Site,
    token: str,
    redis_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    response = web.get(
        f"/api/sites/shop/funnel?{FUNNEL}&window=1h&by=band",
        headers={"Authorization": f"Bearer {token}"},
    )
    steps = [a for s in ("/product/*", "/cart", "/checkout", "/thanks") for a in ("--step", s)]
    argv = ["funnel", "--site", "shop", *steps, "--window", "1h", "--by", "band", "--json"]
    assert main([*argv, "--redis-url", redis_url]) == 0
    from_cli = json.loads(capsys.readouterr().out)
    from_api = response.json()
    pop_as_of(from_api, from_cli)
    assert from_api == from_cli
    assert [s["entered"] for s in from_api["steps"]] == [30, 25, 18, 10]


def test_pages_and_elements_count_the_posted_traffic(
    web: TestClient, shop: Site, token: str
) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    pages = {
        (p["template"], p["band"]): p for p in web.get("/api/sites/shop/pages", headers=auth).json()
    }
    # Sessions 3, 6, 9, ... are on a phone: 10 of 30 sessions, 8 of the 25 that reach /cart.
    assert pages[("/cart", "desktop")] | {} == {
        "template": "/cart", "band": "desktop", "views": 17, "clicks": 17, "rage": 0, "dead": 0
    }  # fmt: skip
    assert pages[("/cart", "mobile")]["views"] == 8
    assert (
        pages[("/product/:id", "desktop")]["views"] + pages[("/product/:id", "mobile")]["views"]
        == 30
    )
    elements = web.get("/api/sites/shop/elements?page=/cart&band=mobile", headers=auth).json()
    # 1100 px of 1280 at 375 px: column 85; 640 px: row 40. No label: the shop's clicks sent none.
    box = {"x0": 85, "y0": 40, "x1": 85, "y1": 40}
    assert elements == [
        {"selector": "#checkout", "label": "", "clicks": 8, "rage": 0, "dead": 0, "box": box}
    ]


def test_elements_name_each_element_by_its_most_frequent_label(
    web: TestClient, site: Site, token: str, client: TestClient, redis_client: redis.Redis
) -> None:
    shirt = [click(p="/shop", x=640, y=y, sel="a.product", label="Blue shirt") for y in (80, 96)]
    other = click(p="/shop", x=960, y=112, sel="a.product", label="Order 123456 of ann@x.org")
    assert client.post("/e", json=batch(site.key, [*shirt, other])).status_code == 202
    Worker(redis_client, [Aggregator(PageTemplates(), 90)]).run(burst=True)
    auth = {"Authorization": f"Bearer {token}"}
    [element] = web.get("/api/sites/shop/elements?page=/shop", headers=auth).json()
    box = {"x0": 50, "y0": 5, "x1": 75, "y1": 7}  # cells: 1 % of the width, 16 px rows
    assert element == {
        "selector": "a.product", "label": "Blue shirt", "clicks": 3, "rage": 0, "dead": 0,
        "box": box,
    }  # fmt: skip


def test_the_heatmap_png_is_hottest_where_the_clicks_were(
    web: TestClient, shop: Site, token: str
) -> None:
    response = web.get(
        "/api/sites/shop/heatmap.png?page=/cart&band=desktop",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.headers["x-clicktrail-events"] == "17"
    assert response.headers["x-clicktrail-views"] == "17"
    image = Image.open(io.BytesIO(response.content)).convert("RGB")
    assert image.width == 1280
    page = np.asarray(image)[LEGEND_PX:].astype(int)
    redness = page[..., 0] - page[..., 1]  # the ramp's red end: red high, green low
    ys, xs = np.nonzero(redness == redness.max())
    x, y = CART_BUTTON
    assert abs(xs.mean() - x) <= 20 and abs(ys.mean() - y) <= 20


def test_live_counts_what_happened_lately_not_history_received_lately(
    web: TestClient, shop_live: Site, token: str
) -> None:
    live = web.get("/api/sites/shop/live?minutes=5", headers={"Authorization": f"Bearer {token}"})
    data = live.json()
    # The shop's 30 sessions, received just now but three hours old, are history; the one
    # visit of / and /about (clicking there) happened just now.
    assert (data["events"], data["batches"]) == (3, 1)
    assert data["by_type"] == {"pageview": 2, "click": 1}
    assert sorted(data["pages"], key=str) == [
        {"page": "/", "views": 1},
        {"page": "/about", "views": 1},
    ]
    listed = web.get("/api/sites", headers={"Authorization": f"Bearer {token}"}).json()
    assert listed[0]["installed"] is True
    assert listed[0]["snippet"] == (
        f'<script defer src="https://ct.example/t.js" data-site="{shop_live.key}"></script>'
    )


def test_a_revoked_token_stops_working(
    web: TestClient, shop: Site, redis_client: redis.Redis, capsys: pytest.CaptureFixture[str],
    redis_url: str,
) -> None:  # fmt: skip
    assert main(["token", "create", "--name", "ci", "--redis-url", redis_url]) == 0
    out = capsys.readouterr().out
    secret = next(line for line in out.splitlines() if line.startswith("ctt_"))
    assert secret not in str(redis_client.hgetall("ct:{tokens}"))  # only its hash is stored
    auth = {"Authorization": f"Bearer {secret}"}
    assert web.get("/api/sites", headers=auth).status_code == 200
    token_id = out.split()[1]
    assert main(["token", "revoke", token_id, "--redis-url", redis_url]) == 0
    assert web.get("/api/sites", headers=auth).status_code == 401


def test_a_scroll_map_over_broken_stored_data_is_refused_with_a_409_not_a_500(
    web: TestClient, site: Site, token: str, redis_client: redis.Redis
) -> None:
    # As an older version left it: a page view's count moved off a bucket that never held it.
    day = datetime.now(UTC).strftime("%Y%m%d")
    depths = keys.scroll_depths("shop", 0, day, "desktop", "/cart")
    redis_client.hset(depths, mapping={"5": -1, "20": 1, "60": 1, "views": 1, "fold": 800})

    response = get(web, "/api/sites/shop/scrollmap.png?page=/cart", token)

    assert response.status_code == 409
    assert "scroll depths of /cart (desktop) are inconsistent" in response.json()["error"]


@pytest.mark.parametrize("route", ["/api/sites", "/api/openapi.json", "/login", "/"])
def test_a_head_over_32_kb_gets_431_from_the_api_and_the_dashboard_too(
    web: TestClient, route: str
) -> None:
    response = web.get(route, headers={"cookie": "session=" + "x" * 33_000})
    assert response.status_code == 431
    assert response.json()["error"] == "request headers too large"


def test_a_page_or_step_that_matches_nothing_is_answered_with_warnings(
    web: TestClient, shop: Site, token: str
) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    funnel = web.get("/api/sites/shop/funnel?step=/cart&step=/chekout", headers=auth)
    assert funnel.status_code == 200
    assert funnel.json()["warnings"] == ["step 2 (/chekout) matched no page view in this range"]
    assert funnel.json()["steps"][0]["entered"] == 25
    nowhere = ["page /nowhere matched no desktop page view in this range"]
    for route in ("elements", "heatmap.png", "scrollmap.png"):
        response = web.get(f"/api/sites/shop/{route}?page=/nowhere", headers=auth)
        assert response.status_code == 200
        assert json.loads(response.headers["x-clicktrail-warnings"]) == nowhere, route
        seen = web.get(f"/api/sites/shop/{route}?page=/cart", headers=auth)
        said = json.loads(seen.headers["x-clicktrail-warnings"])
        assert [w for w in said if not w.startswith("no picture")] == [], route
    assert web.get(f"/api/sites/shop/funnel?{FUNNEL}", headers=auth).json()["warnings"] == []


def test_the_sites_time_zone_is_shown_and_is_the_funnels_default(
    web: TestClient, shop: Site, token: str, redis_client: redis.Redis
) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    assert web.get("/api/sites", headers=auth).json()[0]["time_zone"] == "UTC"
    set_time_zone(redis_client, "shop", "Europe/Paris")
    assert web.get("/api/sites", headers=auth).json()[0]["time_zone"] == "Europe/Paris"
    funnel = web.get(f"/api/sites/shop/funnel?{FUNNEL}", headers=auth).json()
    assert funnel["time_zone"] == "Europe/Paris"
    asked = web.get(f"/api/sites/shop/funnel?{FUNNEL}&tz=Asia/Tokyo", headers=auth).json()
    assert asked["time_zone"] == "Asia/Tokyo"

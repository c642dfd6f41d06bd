"""Heatmaps take the one page syntax (issue 20): `clicktrail heatmap --page '/product/*'` draws
the sum of the templates it selects and names them, the API and the dashboard alike; an exact
path is shown as its template, saying so; a pattern matching nothing warns and exits 0."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
from starlette.testclient import TestClient

from clicktrail.cli.main import main
from clicktrail.web.app import create_web_app
from clicktrail.web.tokens import create_token
from clicktrail.worker import Worker
from collector.pages import PageTemplates
from collector.settings import Settings
from collector.sites import Site
from heatmap.aggregate import Aggregator
from tests.factories import batch, click, event, pageview

# path -> (page views, clicks): two templates under /product/*, and /cart
PAGES = {"/product/1": (3, 4), "/product/2": (2, 3), "/product/1/reviews": (2, 5), "/cart": (1, 9)}


@pytest.fixture
def clicked(make_client: Callable[..., TestClient], redis_client: redis.Redis, site: Site) -> Site:
    client = make_client(rate_ip_per_s=1e6)
    for n, (path, (views, clicks)) in enumerate(PAGES.items()):
        pvs = [f"pv{n}x{k}" for k in range(views)]
        events = [pageview(p=path, pv=pv, vw=1280) for pv in pvs]
        events += [click(p=path, pv=pvs[0], x=300, y=400) for _ in range(clicks)]
        events += [
            event("scroll", p=path, pv=pv, depth=1500, dh=3000, vh=800, vw=1280) for pv in pvs
        ]
        assert client.post("/e", json=batch(site.key, events)).status_code == 202
    Worker(redis_client, [Aggregator(PageTemplates(), 90)]).run(burst=True)
    return site


def run(capsys: pytest.CaptureFixture[str], redis_url: str, *argv: str) -> tuple[int, str, str]:
    code = main([*argv, "--site", "shop", "--redis-url", redis_url])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_glob_draws_the_sum_of_its_templates_and_names_them(
    clicked: Site, redis_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    png = str(tmp_path / "products.png")
    code, out, err = run(capsys, redis_url, "heatmap", "--page", "/product/*", "-o", png)
    assert code == 0
    assert "/product/* (/product/:id, /product/:id/reviews), desktop" in out
    assert "12 click events, 7 page views" in out  # 4 + 3 + 5 clicks, 3 + 2 + 2 views
    assert "matched no" not in err and "shown as its template" not in err
    code, out, _ = run(capsys, redis_url, "heatmap", "--page", "re:^/product/:id$", "-o", png)
    assert "7 click events, 5 page views" in out
    code, out, _ = run(capsys, redis_url, "heatmap", "--page", "/product/*", "--kind", "scroll",
                       "-o", png)  # fmt: skip
    assert "7 scroll events, 7 page views" in out


def test_an_exact_path_is_its_template_and_the_command_says_so(
    clicked: Site, redis_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    png = str(tmp_path / "one.png")
    code, out, err = run(capsys, redis_url, "heatmap", "--page", "/product/1", "-o", png)
    assert code == 0
    assert "/product/:id, desktop" in out and "7 click events, 5 page views" in out
    assert "/product/1 is shown as its template /product/:id" in err


def test_a_pattern_matching_nothing_warns_and_exits_0(
    clicked: Site, redis_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    png = tmp_path / "none.png"
    code, out, err = run(capsys, redis_url, "heatmap", "--page", "/checkout/*", "-o", str(png))
    assert code == 0 and png.stat().st_size > 0
    assert "0 click events, 0 page views" in out
    assert "page /checkout/* matched no page template in this range" in err
    code, out, err = run(capsys, redis_url, "elements", "--page", "/checkout/*", "--json")
    assert (code, json.loads(out)) == (0, [])
    assert "matched no page template" in err


def test_elements_of_a_glob_are_summed(
    clicked: Site, redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, redis_url, "elements", "--page", "/product/*", "--json")
    assert code == 0
    assert [(e["selector"], e["clicks"]) for e in json.loads(out)] == [("button.buy", 12)]


def test_a_bad_pattern_is_one_line_and_exit_2(
    clicked: Site, redis_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    png = str(tmp_path / "x.png")
    code, _, err = run(capsys, redis_url, "heatmap", "--page", "re:(", "-o", png)
    assert code == 2
    assert err.count("\n") == 1 and "--page" in err and "Traceback" not in err


def test_the_api_and_the_dashboard_take_the_same_syntax(
    clicked: Site, redis_url: str, redis_client: redis.Redis, tmp_path: Path
) -> None:
    app = create_web_app(Settings(data_dir=tmp_path), redis_url, None, lambda name: [])
    secret, _ = create_token(redis_client, "tests")
    auth = {"Authorization": f"Bearer {secret}"}
    with TestClient(app) as web:
        drawn = web.get("/api/sites/shop/heatmap.png?page=/product/*", headers=auth)
        nothing = web.get("/api/sites/shop/heatmap.png?page=/checkout/*", headers=auth)
        bad = web.get("/api/sites/shop/heatmap.png?page=re:(", headers=auth)
        page = web.get("/sites/shop/heatmap?page=/product/*", headers=auth)
    assert drawn.status_code == 200
    assert (drawn.headers["x-clicktrail-events"], drawn.headers["x-clicktrail-views"]) == (
        "12",
        "7",
    )
    assert json.loads(nothing.headers["x-clicktrail-warnings"]) == [
        "page /checkout/* matched no page template in this range"
    ]
    assert bad.status_code == 400 and bad.json()["parameter"] == "page"
    assert page.status_code == 200
    assert 'Heatmap <span class="path">/product/* (/product/:id, /product/:id/reviews)' in (
        page.text
    )
    assert 'value="/product/*"' in page.text  # the field keeps what was asked, not "/"
    assert "page%3D%2Fproduct%2F%2A" in page.text or "page=%2Fproduct%2F%2A" in page.text

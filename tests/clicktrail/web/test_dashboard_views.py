"""Dashboard pages rendered in process over shop traffic: what each opens on when nothing is
asked for."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import redis
from starlette.testclient import TestClient

from clicktrail.web.app import create_web_app
from clicktrail.web.tokens import create_token
from clicktrail.worker import Worker
from collector.pages import PageTemplates
from collector.settings import Settings
from collector.sites import Site
from heatmap.aggregate import Aggregator
from tests.factories import batch, now_ms, pageview


def test_the_heatmap_page_opens_on_the_most_viewed_page_not_the_first_by_name(
    make_client: Callable[..., TestClient],
    redis_url: str,
    redis_client: redis.Redis,
    site: Site,
    tmp_path: Path,
) -> None:
    collector = make_client(rate_ip_per_s=1e6)
    t0 = now_ms() - 3_600_000
    views = [pageview(p="/!", ts=t0)] + [pageview(p="/cart", ts=t0 + i) for i in range(1, 4)]
    assert collector.post("/e", json=batch(site.key, views)).status_code == 202
    Worker(redis_client, [Aggregator(PageTemplates(), 90)]).run(burst=True)
    secret, _ = create_token(redis_client, "tests")
    app = create_web_app(Settings(data_dir=tmp_path), redis_url, None, lambda name: [])
    with TestClient(app) as web:
        page = web.get("/sites/shop/heatmap", headers={"Authorization": f"Bearer {secret}"})
    assert page.status_code == 200
    assert "<title>Heatmap /cart · shop · clicktrail</title>" in page.text
    assert '<option value="/!"></option>' in page.text  # still offered


def test_the_funnel_page_of_a_site_without_a_funnel_suggests_its_own_pages(
    shop: Site, redis_url: str, redis_client: redis.Redis, tmp_path: Path
) -> None:
    secret, _ = create_token(redis_client, "tests")
    settings = Settings(data_dir=tmp_path, page_templates=("/blog/:slug",))
    app = create_web_app(settings, redis_url, None, lambda name: [])
    with TestClient(app) as web:
        page = web.get("/sites/shop/funnel", headers={"Authorization": f"Bearer {secret}"})
    assert page.status_code == 200
    steps = re.findall(r'<input id="step-\d+" name="step" value="([^"]*)"', page.text)
    assert steps == ["", ""]  # not the demo shop's cart funnel
    assert "No funnel is configured for this site" in page.text
    datalist = re.search(r'<datalist id="templates">(.*?)</datalist>', page.text)
    assert datalist is not None
    offered = re.findall(r'<option value="([^"]*)">', datalist[1])
    # Most viewed first, then the configured templates not yet seen.
    assert offered == [
        "/product/:id", "/cart", "/checkout", "/", "/thanks", "/shipping", "/about", "/blog/:slug"
    ]  # fmt: skip


def test_the_funnel_page_opens_on_the_configured_funnel(
    shop: Site, redis_url: str, redis_client: redis.Redis, tmp_path: Path
) -> None:
    config = tmp_path / "clicktrail.toml"
    config.write_text('[funnels.signup]\nsteps = ["/", "/about"]\n')
    secret, _ = create_token(redis_client, "tests")
    app = create_web_app(Settings(data_dir=tmp_path), redis_url, config, lambda name: [])
    with TestClient(app) as web:
        page = web.get("/sites/shop/funnel", headers={"Authorization": f"Bearer {secret}"})
    steps = re.findall(r'<input id="step-\d+" name="step" value="([^"]*)"', page.text)
    assert steps == ["/", "/about"] and "No funnel is configured" not in page.text


def test_the_funnel_page_says_which_step_matched_nothing(
    shop: Site, redis_url: str, redis_client: redis.Redis, tmp_path: Path
) -> None:
    secret, _ = create_token(redis_client, "tests")
    app = create_web_app(Settings(data_dir=tmp_path), redis_url, None, lambda name: [])
    with TestClient(app) as web:
        page = web.get(
            "/sites/shop/funnel?step=/cart&step=/chekout",
            headers={"Authorization": f"Bearer {secret}"},
        )
    assert page.status_code == 200 and "25 sessions entered" in page.text
    assert "step 2 (/chekout) matched no page view in this range" in page.text

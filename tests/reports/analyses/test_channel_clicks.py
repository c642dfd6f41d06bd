"""Click maps of one channel's visits, drawn from the sessions' click rows: the clicks of that
channel's visits on the page and band only, rage apart, over the API and the CLI; maps that
are not kept per visit are refused in one line."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
from starlette.testclient import TestClient

from clicktrail.cli.main import main
from clicktrail.web.app import create_web_app
from clicktrail.web.tokens import create_token
from clicktrail.worker import Processor, Worker
from collector.pages import PageTemplates
from collector.settings import Settings
from collector.sites import Site
from heatmap.aggregate import Aggregator
from heatmap.view import HeatmapRequest, heatmap_view
from reports.analyses.channel_clicks import ChannelMapError, channel_click_view
from reports.sessions.builder import SessionBuilder
from tests.factories import batch, click, event, now_ms, pageview

# (referrer, band width, clicks on /product/1, rage clicks there, clicks on /cart)
VISITS = [
    ("www.google.com", 1280, 3, 1, 2),
    ("www.bing.com", 1280, 2, 0, 0),
    ("www.google.com", 390, 4, 0, 0),  # mobile: not on the desktop map
    ("", 1280, 5, 2, 1),  # direct
    ("chatgpt.com", 1280, 1, 0, 0),
]


@pytest.fixture
def clicked(make_client: Callable[..., TestClient], redis_client: redis.Redis, site: Site) -> Site:
    client = make_client(rate_ip_per_s=1e6)
    t0 = now_ms() - 3_600_000
    for n, (ref, width, on_product, rage, on_cart) in enumerate(VISITS):
        at = t0 + n * 10_000
        events = [pageview(p="/product/1", ts=at, ref=ref, vw=width)]
        events += [click(p="/product/1", ts=at + 1 + i, vw=width) for i in range(on_product)]
        events += [
            event("rage", p="/product/1", ts=at + 100 + i, x=50, y=60, vw=width, vh=800,
                  sel="a", n=3)
            for i in range(rage)
        ]  # fmt: skip
        events.append(pageview(p="/cart", ts=at + 200, ref="/product/1", vw=width))
        events += [click(p="/cart", ts=at + 201 + i, vw=width) for i in range(on_cart)]
        assert client.post("/e", json=batch(site.key, events, sid=f"v{n}")).status_code == 202
    processors: list[Processor] = [Aggregator(PageTemplates(), 90), SessionBuilder(redis_client)]
    Worker(redis_client, processors).run(burst=True)
    return site


def request(site: Site, kind: str = "click") -> HeatmapRequest:
    today = datetime.now(UTC).date()
    return HeatmapRequest(site, "/product/:id", "desktop", kind, (today, today))


def test_a_channels_map_counts_only_its_visits_clicks_on_the_page_and_band(
    redis_client: redis.Redis, clicked: Site
) -> None:
    search = channel_click_view(redis_client, request(clicked), "organic_search")
    assert (search.events, search.views) == (3 + 2, 2)  # google and bing on desktop
    assert channel_click_view(redis_client, request(clicked), "direct").events == 5
    rage = channel_click_view(redis_client, request(clicked, "rage"), "direct")
    assert rage.events == 2
    # every channel's map adds up to the aggregated map of all visits
    everyone = heatmap_view(redis_client, request(clicked))
    slugs = ("organic_search", "direct", "ai_assistants")
    assert sum(channel_click_view(redis_client, request(clicked), s).events for s in slugs) == (
        everyone.events
    )
    assert channel_click_view(redis_client, request(clicked), "email").events == 0


def test_dead_click_and_scroll_maps_are_not_kept_per_visit(
    redis_client: redis.Redis, clicked: Site
) -> None:
    for kind in ("dead", "scroll"):
        with pytest.raises(ChannelMapError, match="not kept per visit"):
            channel_click_view(redis_client, request(clicked, kind), "direct")


def test_the_api_and_the_cli_draw_a_channels_map(
    redis_url: str,
    redis_client: redis.Redis,
    clicked: Site,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    app = create_web_app(Settings(data_dir=tmp_path), redis_url, None, lambda name: [])
    secret, _ = create_token(redis_client, "tests")
    auth = {"Authorization": f"Bearer {secret}"}
    url = "/api/sites/shop/heatmap.png?page=/product/1&band=desktop"
    with TestClient(app) as web:
        drawn = web.get(f"{url}&channel=organic_search", headers=auth)
        dead = web.get(f"{url}&channel=direct&kind=dead", headers=auth)
    assert drawn.status_code == 200
    assert drawn.headers["x-clicktrail-events"] == "5"
    assert dead.status_code == 400 and "not kept per visit" in dead.json()["error"]
    out = tmp_path / "map.png"
    argv = ["heatmap", "--site", "shop", "--page", "/product/1", "--channel", "direct"]
    assert main([*argv, "-o", str(out), "--redis-url", redis_url]) == 0
    assert "5 click events, 1 page views" in capsys.readouterr().out
    assert out.stat().st_size > 1000

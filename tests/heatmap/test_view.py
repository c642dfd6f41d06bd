"""A render is bounded in memory and time whatever is stored: old data, written before the clamp
at ingest, with a click or a scroll depth a million pixels down."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import pytest
import redis

from heatmap import keys
from heatmap.render import LEGEND_PX, MAX_DRAWN_HEIGHT_PX

TODAY = datetime.now(UTC).date()
DAY = TODAY.strftime("%Y%m%d")
# Renders in a fresh process, so that its peak RSS is this render's and no other test's.
RENDER = """
import json, resource, sys, time
from datetime import date
from collector.connections import sync_client
from collector.sites import get_site
from heatmap.view import HeatmapRequest, heatmap_view

client, kind = sync_client(sys.argv[1]), sys.argv[2]
site, day = get_site(client, "shop"), date.fromisoformat(sys.argv[3])
heatmap_view(client, HeatmapRequest(site, "/short", "desktop", kind, (day, day)))  # first arenas
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
view = heatmap_view(client, HeatmapRequest(site, "/feed", "desktop", kind, (day, day)))
seconds = time.perf_counter() - started
growth_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(json.dumps({"seconds": seconds, "growth_mb": growth_kb / 1024,
                  "height": view.image.height, "events": view.events}))
"""


def _render(redis_url: str, kind: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", RENDER, redis_url, kind, TODAY.isoformat()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result: dict[str, float] = json.loads(done.stdout)
    return result


def _store_click(client: redis.Redis, page: str, y: float, count: int = 1) -> None:
    cell = int(y // 16) * 100 + 50  # written straight into the aggregate: no clamp on the way
    client.hincrby(keys.grid("shop", 0, DAY, "desktop", "click", "doc", page), str(cell), count)
    client.hincrby(keys.page_counts("shop", 0, DAY), f"desktop|views|{page}", 1)


@pytest.mark.usefixtures("site")
def test_a_click_stored_a_million_px_down_renders_in_bounded_memory_and_time(
    redis_url: str, redis_client: redis.Redis
) -> None:
    _store_click(redis_client, "/short", 300)
    _store_click(redis_client, "/feed", 400, 3)
    _store_click(redis_client, "/feed", 1_000_000)

    rendered = _render(redis_url, "click")

    assert rendered["height"] == LEGEND_PX + MAX_DRAWN_HEIGHT_PX
    assert rendered["events"] == 4
    assert rendered["growth_mb"] < 400  # was 5,959 MB and a MemoryError; ~250 MB now
    assert rendered["seconds"] < 10  # about 0.6 s here; loose for a busy CI machine


@pytest.mark.usefixtures("site")
def test_a_scroll_depth_stored_a_million_px_down_renders_in_bounded_memory_and_time(
    redis_url: str, redis_client: redis.Redis
) -> None:
    for page, buckets in (("/short", {"4": 1}), ("/feed", {"10": 1, "20000": 1})):
        depths = keys.scroll_depths("shop", 0, DAY, "desktop", page)
        views = sum(buckets.values())
        fields: dict[Any, int] = {**buckets, "views": views, "fold": 800 * views}
        redis_client.hset(depths, mapping=fields)
        redis_client.hincrby(keys.page_counts("shop", 0, DAY), f"desktop|views|{page}", views)

    rendered = _render(redis_url, "scroll")

    assert rendered["height"] == LEGEND_PX + MAX_DRAWN_HEIGHT_PX
    assert rendered["events"] == 2
    assert rendered["growth_mb"] < 400
    assert rendered["seconds"] < 10

"""Past the documented maxima, coordinates, document sizes and scroll depths are clamped and
counted, not refused: the snippet drops a refused batch for good."""

from __future__ import annotations

from typing import Any, cast

import redis
from starlette.applications import Starlette
from starlette.testclient import TestClient

from collector.bounds import MAX_DOC_HEIGHT_PX, MAX_DOC_WIDTH_PX, clamp_batch
from collector.schema import Batch, Click, Event, PageView, RageClick, Scroll
from collector.sites import Site
from tests.factories import batch, click, decode_entry, event, now_ms, stored_entries

NOW = now_ms()


def test_values_past_the_maxima_are_clamped_in_place_and_counted_per_field() -> None:
    common: dict[str, Any] = {"ts": NOW, "p": "/feed", "pv": "pv"}
    tall = Click(id="click0001", x=-2e4, y=1e6, vw=1280, vh=800, dh=3e6, dw=2e4, oy=9e9, **common)
    rage = RageClick(id="rage00001", x=5.0, y=-7e4, vw=1280, vh=800, n=3, **common)
    deep = Scroll(id="scroll001", depth=1e6, dh=1e6, vh=800, vw=1280, **common)
    fine = Click(id="click0002", x=10.0, y=49_999.0, vw=1280, vh=800, dh=50_000.0, **common)
    view = PageView(id="view00001", **common)
    events: list[Event] = [tall, rage, deep, fine, view]

    clamped = clamp_batch(Batch(site="k", sent_at=NOW, sid="s", events=list(events)))

    assert clamped == {"x": 1, "y": 2, "oy": 1, "dw": 1, "dh": 2, "depth": 1}
    assert (tall.x, tall.y, tall.oy, tall.dw, tall.dh) == (
        -MAX_DOC_WIDTH_PX, MAX_DOC_HEIGHT_PX, MAX_DOC_HEIGHT_PX, MAX_DOC_WIDTH_PX,
        MAX_DOC_HEIGHT_PX,
    )  # fmt: skip
    assert (rage.x, rage.y) == (5.0, -MAX_DOC_HEIGHT_PX)
    assert (deep.depth, deep.dh) == (MAX_DOC_HEIGHT_PX, MAX_DOC_HEIGHT_PX)
    assert (fine.y, fine.dh) == (49_999.0, 50_000.0)


def test_a_click_a_million_px_down_is_stored_clamped_and_counted_in_metrics(
    client: TestClient, redis_client: redis.Redis, site: Site
) -> None:
    far = click(y=1_000_000, dh=1_200_000, dw=15_000)
    deep = event("scroll", depth=2e6, dh=2e6, vh=800, vw=1280)

    response = client.post("/e", json=batch(site.key, [far, deep]))

    assert response.status_code == 202, response.text
    _, stored = decode_entry(stored_entries(redis_client)[-1])
    assert (stored[far["id"]].y, stored[far["id"]].dh) == (MAX_DOC_HEIGHT_PX, MAX_DOC_HEIGHT_PX)
    assert stored[far["id"]].dw == MAX_DOC_WIDTH_PX
    assert stored[deep["id"]].depth == MAX_DOC_HEIGHT_PX
    app = cast(Starlette, client.app)
    metrics = app.state.collector.metrics.render().decode()  # what /metrics serves
    assert 'clicktrail_clamped_values_total{field="y"} 1.0' in metrics
    assert 'clicktrail_clamped_values_total{field="dh"} 2.0' in metrics
    assert 'clicktrail_clamped_values_total{field="dw"} 1.0' in metrics
    assert 'clicktrail_clamped_values_total{field="depth"} 1.0' in metrics


def test_impossible_values_are_still_refused(client: TestClient, site: Site) -> None:
    for bad, field in ((click(dh=-1), "dh"), (event("scroll", depth=-5, dh=9, vh=8), "depth")):
        response = client.post("/e", json=batch(site.key, [bad]))
        assert response.status_code == 400
        assert response.json()["field"] == f"$.events[0].{field}"

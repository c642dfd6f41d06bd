"""Which pictures are due: a band pictured by hand is the owner's and never replaced; the other
bands are taken when missing, and taken again once the last automatic capture is old. The
page views come through the real collector and worker; the camera draws a plain picture (the
end-to-end test with Chromium is test_picture_taker.py)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
import redis
from PIL import Image
from starlette.testclient import TestClient

from clicktrail.worker import Worker
from collector.days import DAY_MS
from collector.pages import BANDS, PageTemplates
from collector.sites import Site
from heatmap import keys
from heatmap.aggregate import Aggregator
from heatmap.examples import SiteHosts
from heatmap.picture_taker import PictureTaker
from heatmap.pictures import (
    PictureRules,
    due_pictures,
    give_picture,
    load_states,
    pictured_bands,
    save_state,
)
from heatmap.screenshots import load_screenshot
from tests.factories import BROWSER_UA, ORIGIN, batch, now_ms, pageview
from tests.heatmap.cameras import StandInCamera

RULES = PictureRules(min_views=3, min_visitors=2, max_age_days=30)
BY_HAND = (200, 40, 40)  # the owner's pictures are red
TAKEN = (40, 200, 40)  # the taker's green


class PlainCamera(StandInCamera):
    """Draws a page with a green block at the asked width instead of opening Chromium."""

    def __init__(self) -> None:
        super().__init__()
        self.widths: list[int] = []

    def picture(self, url: str, width: int) -> bytes:
        self.widths.append(width)
        return png(width, TAKEN)


def png(width: int, colour: tuple[int, int, int]) -> bytes:
    """A white page with a block of `colour` (a page of one colour is refused as blank)."""
    image = Image.new("RGB", (width, 300), (255, 255, 255))
    image.paste(colour, (0, 0, 100, 100))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def viewed(site: Site, make_client: Callable[..., TestClient], redis_client: redis.Redis) -> Site:
    """/cart viewed 4 times by 2 visitors (two user agents), counted by the worker."""
    client = make_client(rate_ip_per_s=1e6)
    for i in range(4):
        agent = BROWSER_UA.replace("126.0", f"12{i % 2}.0")
        events = [pageview(p="/cart", pv=f"pv{i}")]
        sent = client.post(
            "/e",
            json=batch(site.key, events, sid=f"s{i}"),
            headers={"origin": ORIGIN, "user-agent": agent},
        )
        assert sent.status_code == 202, sent.text
    aggregator = Aggregator(PageTemplates(), 90, hosts=SiteHosts(redis_client))
    Worker(redis_client, [aggregator]).run(burst=True)
    return site


def grow_old(client: redis.Redis) -> None:
    """The last automatic capture of /cart, a month and a day back."""
    state = load_states(client, "shop")["/cart"]
    aged = replace(state, taken_ms=state.taken_ms - (RULES.max_age_days + 1) * DAY_MS)
    save_state(client, "shop", "/cart", aged)


def colour(client: redis.Redis, band: str) -> Any:
    picture = load_screenshot(client, "shop", band, "/cart")
    assert picture is not None
    return picture.convert("RGB").getpixel((5, 5))


def test_a_page_with_no_picture_is_due_at_every_band(
    viewed: Site, redis_client: redis.Redis
) -> None:
    [due] = due_pictures(redis_client, viewed, RULES, now_ms())
    assert (due.template, due.url, due.bands) == ("/cart", f"{ORIGIN}/cart", BANDS)


def test_bands_given_by_hand_are_kept_and_only_the_others_taken(
    viewed: Site, redis_client: redis.Redis
) -> None:
    for band in ("mobile", "desktop"):  # the demo's and many owners' way: two bands by hand
        give_picture(redis_client, "shop", band, "/cart", png(390 if band == "mobile" else 1280,
                                                                BY_HAND))  # fmt: skip
    [due] = due_pictures(redis_client, viewed, RULES, now_ms())
    assert due.bands == ("tablet",)

    camera = PlainCamera()
    assert PictureTaker(redis_client, RULES, camera=camera).run_once() == 1
    assert camera.widths == [820]
    assert [colour(redis_client, b) for b in BANDS] == [BY_HAND, TAKEN, BY_HAND]
    assert load_states(redis_client, "shop")["/cart"].bands == ("tablet",)
    assert due_pictures(redis_client, viewed, RULES, now_ms()) == []

    # A month on, only the taker's own band is taken again.
    grow_old(redis_client)
    [due] = due_pictures(redis_client, viewed, RULES, now_ms())
    assert due.bands == ("tablet",)


def test_a_picture_given_by_hand_over_an_automatic_one_becomes_the_owners(
    viewed: Site, redis_client: redis.Redis
) -> None:
    assert PictureTaker(redis_client, RULES, camera=PlainCamera()).run_once() == 1
    assert load_states(redis_client, "shop")["/cart"].bands == BANDS
    give_picture(redis_client, "shop", "desktop", "/cart", png(1280, BY_HAND))
    assert load_states(redis_client, "shop")["/cart"].bands == ("mobile", "tablet")

    grow_old(redis_client)
    [due] = due_pictures(redis_client, viewed, RULES, now_ms())
    assert due.bands == ("mobile", "tablet")
    camera = PlainCamera()
    taker = PictureTaker(redis_client, RULES, camera=camera)
    assert taker.take(due) is True
    assert camera.widths == [390, 820]
    assert colour(redis_client, "desktop") == BY_HAND


def test_every_band_given_by_hand_leaves_nothing_to_take(
    viewed: Site, redis_client: redis.Redis
) -> None:
    for band, width in zip(BANDS, (390, 820, 1280), strict=True):
        give_picture(redis_client, "shop", band, "/cart", png(width, BY_HAND))
    assert pictured_bands(redis_client, "shop", "/cart") == BANDS
    assert due_pictures(redis_client, viewed, RULES, now_ms()) == []


def test_a_state_saved_before_bands_were_kept_counts_every_band_as_taken_automatically(
    viewed: Site, redis_client: redis.Redis
) -> None:
    month_ago = now_ms() - (RULES.max_age_days + 1) * DAY_MS
    old = {"taken_ms": month_ago, "url": f"{ORIGIN}/cart", "failures": 0, "reason": "",
           "retry_ms": 0}  # fmt: skip
    redis_client.hset(keys.picture_states("shop"), "/cart", json.dumps(old))
    for band, width in zip(BANDS, (390, 820, 1280), strict=True):
        redis_client.set(keys.screenshot("shop", band, "/cart"), png(width, TAKEN))
    assert load_states(redis_client, "shop")["/cart"].bands == BANDS
    [due] = due_pictures(redis_client, viewed, RULES, now_ms())
    assert due.bands == BANDS

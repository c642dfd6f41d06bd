"""Clicked elements through the real collector, worker and Redis: counts, the most frequent
label of each selector (masked) and the box of cells around its clicks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import redis
from starlette.testclient import TestClient

from clicktrail.worker import Worker
from collector.cardinality import Folder, Limits
from collector.days import day_names
from collector.pages import PageTemplates
from collector.sites import Site
from heatmap.aggregate import Aggregator
from heatmap.totals import Box, ElementStats, load_elements
from tests.factories import batch, click, now_ms

CARD = "main>div.grid>a.product:nth-of-type(2)"


def card(x: float, y: float, label: str, **fields: Any) -> dict[str, Any]:
    return click(p="/shop", x=x, y=y, sel=CARD, label=label, ts=now_ms() - 1000, **fields)


def aggregate(redis_client: redis.Redis, folder: Folder | None = None) -> None:
    Worker(redis_client, [Aggregator(PageTemplates(), 90, folder)]).run(burst=True)


def elements(redis_client: redis.Redis, site: Site) -> list[ElementStats]:
    today = datetime.now(UTC).date()
    return load_elements(redis_client, site, "/shop", "desktop", day_names(today, today))


def test_each_element_keeps_its_most_frequent_label_and_the_box_of_its_clicks(
    client: TestClient, redis_client: redis.Redis, site: Site
) -> None:
    first = [card(130, 40, ""), card(260, 70, "Blue  shirt\n"), card(140, 50, "Blue")]
    assert client.post("/e", json=batch(site.key, first)).status_code == 202
    aggregate(redis_client)
    later = [
        card(200, 100, "Blue shirt"),
        click(p="/shop", x=640, y=400, sel="button#buy", dead=True),
    ]
    assert client.post("/e", json=batch(site.key, later)).status_code == 202
    aggregate(redis_client)
    aggregate(redis_client)  # nothing new: nothing counted twice
    found = {e.selector: e for e in elements(redis_client, site)}
    # "Blue shirt" twice once white space is collapsed, "Blue" once, and one click without.
    # 130/1280 -> column 10, 260/1280 -> 20; y 40 -> row 2, 100 -> row 6.
    assert found[CARD] == ElementStats(CARD, 4, 0, 0, "Blue shirt", Box(10, 2, 20, 6))
    # No label sent; the dead click counts once for the box and no label.
    assert found["button#buy"] == ElementStats("button#buy", 1, 0, 1, "", Box(50, 25, 50, 25))


def test_a_label_the_client_did_not_mask_is_masked_before_it_is_stored(
    client: TestClient, redis_client: redis.Redis, site: Site
) -> None:
    sent = [card(130, 40, "Order 20261202 for ann@example.com")]
    assert client.post("/e", json=batch(site.key, sent)).status_code == 202
    aggregate(redis_client)
    [element] = elements(redis_client, site)
    assert element.label == "Order #### for [email]"


def test_labels_past_the_days_bound_are_dropped_and_the_clicks_still_counted(
    client: TestClient, redis_client: redis.Redis, site: Site
) -> None:
    sent = [card(130, 40, f"Card {letter}") for letter in "ABC"]
    sent += [click(p="/shop", x=10, y=10, sel=f"a.c{i}", label=f"Link {i}") for i in range(2)]
    assert client.post("/e", json=batch(site.key, sent)).status_code == 202
    aggregate(redis_client, Folder(redis_client, Limits(labels=2, selectors=2)))
    found = {e.selector: (e.clicks, e.label) for e in elements(redis_client, site)}
    # The first two labels of the day are kept; the third selector folds, its label with it.
    assert found == {CARD: (3, "Card A"), "a.c0": (1, ""), "(over limit)": (1, "")}

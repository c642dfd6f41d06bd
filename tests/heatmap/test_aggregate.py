"""From stream entries to counter increments, on tiny inputs with exact expected counts."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import msgspec
import redis
from starlette.testclient import TestClient

from clicktrail.worker import Worker
from collector.consumer import Commit, StreamReader
from collector.keys import WORKER_GROUP, dead_letters, events_stream, open_session
from collector.pages import PageTemplates
from collector.schema import (
    Click,
    PageView,
    RageClick,
    Scroll,
    StoredHeader,
    encode_events,
    encode_header,
)
from collector.sites import Site
from heatmap import keys
from heatmap.aggregate import Aggregator, scroll_peak
from heatmap.render import LEGEND_PX, Legend
from heatmap.scrollmap import render_scrollmap
from heatmap.totals import load_scroll
from reports.sessions.builder import SessionBuilder
from tests import factories

NOW = int(time.time() * 1000)
DAY = datetime.fromtimestamp(NOW / 1000, UTC).strftime("%Y%m%d")


def entry(entry_id: str, events: list[object], skew: int = 0) -> tuple[str, dict[bytes, bytes]]:
    header = StoredHeader(v=1, site="shop", sid="s", vid="v", recv=NOW, skew=skew)
    return entry_id, {b"h": encode_header(header), b"e": encode_events(events)}  # type: ignore[arg-type]


def click(i: int, x: float, y: float, vw: int = 1280, **fields: Any) -> Click:
    return Click(
        id=f"click{i:05d}",
        ts=NOW,
        p="/product/42",
        pv="pv",
        x=x,
        y=y,
        vw=vw,
        vh=800,
        sel="button.buy",
        **fields,
    )


def test_clicks_become_grid_page_and_element_counts() -> None:
    entries = [
        entry(
            "1-0",
            [
                PageView(id="view00001", ts=NOW, p="/product/42", pv="pv", vw=1280),
                click(1, 10, 10),
                click(2, 11, 12, dead=True),
            ],
        ),
        entry(
            "2-0",
            [
                click(3, 10, 20, vw=375),
                click(4, 640, 40, fixed=True),
                RageClick(
                    id="rage00001",
                    ts=NOW,
                    p="/product/7",
                    pv="pv",
                    x=10,
                    y=10,
                    vw=1280,
                    vh=800,
                    n=4,
                    sel="div.card",
                ),
            ],
        ),
    ]
    commit = Aggregator(PageTemplates(), 90).commit_for("shop", 0, entries)
    assert commit.entry_ids == ["1-0", "2-0"] and commit.dead == []
    grid = lambda band, kind, layer: keys.grid("shop", 0, DAY, band, kind, layer, "/product/:id")  # noqa: E731
    inc = commit.increments
    assert inc[(grid("desktop", "click", "doc"), "0")] == 2  # (10,10) and (11,12): cell 0
    assert inc[(grid("desktop", "dead", "doc"), "0")] == 1
    assert inc[(grid("mobile", "click", "doc"), str(1 * 100 + 2))] == 1  # 10/375 -> col 2, row 1
    assert inc[(grid("desktop", "click", "fixed"), str(2 * 100 + 50))] == 1
    assert inc[(grid("desktop", "rage", "doc"), "0")] == 1
    pages = keys.page_counts("shop", 0, DAY)
    assert inc[(pages, "desktop|views|/product/:id")] == 1
    assert inc[(pages, "desktop|click|/product/:id")] == 3
    assert inc[(pages, "mobile|click|/product/:id")] == 1
    elements = keys.element_counts("shop", 0, DAY, "desktop", "/product/:id")
    assert (
        inc[(elements, "c|button.buy")],
        inc[(elements, "d|button.buy")],
        inc[(elements, "r|div.card")],
    ) == (3, 1, 1)
    assert sum(v for (k, _), v in inc.items() if ":grid:" in k) == 6  # 4 clicks, 1 dead, 1 rage
    retained = {
        k: ttl for k, ttl in commit.expiries.items() if ":live:" not in k and ":pic" not in k
    }
    # 90 days after the click's day ends (89 if this runs just past midnight: NOW is older)
    assert all(86_400 * 89 < ttl <= 86_400 * 92 for ttl in retained.values())


def test_each_minute_of_arrivals_is_counted_for_the_live_view() -> None:
    entries = [
        entry("1-0", [PageView(id="view00001", ts=NOW, p="/product/42", pv="a"), click(1, 1, 1)]),
        entry("2-0", [PageView(id="view00002", ts=NOW, p="/product/7", pv="b")]),
    ]
    commit = Aggregator(PageTemplates(), 90).commit_for("shop", 0, entries)
    live = keys.live_counts("shop", 0, NOW // 60_000)  # the minute the collector received them
    counted = {name: n for (key, name), n in commit.increments.items() if key == live}
    assert counted == {"s|": 2, "t|pageview": 2, "t|click": 1, "p|/product/:id": 2}
    assert commit.expiries[live] == keys.LIVE_TTL_S


def test_history_received_now_is_aggregated_but_not_live() -> None:
    hours_ago = NOW - 3 * 3_600_000
    old = PageView(id="view00003", ts=hours_ago, p="/cart", pv="c")
    entries = [
        entry("1-0", [old, msgspec.structs.replace(click(1, 1, 1), ts=hours_ago)]),  # back-filled
        entry("2-0", [PageView(id="view00004", ts=NOW, p="/cart", pv="d")]),
        # A client clock 2 hours slow: its events are fresh on the server's clock.
        entry("3-0", [PageView(id="view00005", ts=NOW - 7_200_000, p="/", pv="e")], 7_200_000),
    ]
    commit = Aggregator(PageTemplates(), 90).commit_for("shop", 0, entries)
    live = keys.live_counts("shop", 0, NOW // 60_000)
    counted = {name: n for (key, name), n in commit.increments.items() if key == live}
    assert counted == {"s|": 2, "t|pageview": 2, "p|/cart": 1, "p|/": 1}
    old_day = datetime.fromtimestamp(hours_ago / 1000, UTC).strftime("%Y%m%d")
    pages = keys.page_counts("shop", 0, old_day)
    assert commit.increments[(pages, "desktop|click|/product/:id")] == 1  # stored all the same
    assert sum(n for (_, name), n in commit.increments.items() if name.endswith("views|/cart")) == 2


def scroll(i: int, depth: float, pv: str = "pv", vw: int = 1280) -> Scroll:
    return Scroll(
        id=f"scroll{i:04d}", ts=NOW, p="/cart", pv=pv, depth=depth, dh=3000, vh=800, vw=vw
    )


def test_scroll_depth_is_one_per_page_view_at_its_deepest() -> None:
    # Reported on every leave: the page view left twice (and another one once) counts once.
    run = [entry("1-0", [scroll(1, 1234)]), entry("2-0", [scroll(2, 2010), scroll(3, 900, "b")])]
    commit = Aggregator(PageTemplates(), 90).commit_for("shop", 0, run)
    depths = keys.scroll_depths("shop", 0, DAY, "desktop", "/cart")
    peaks = keys.scroll_peaks("shop", 0, DAY)
    assert commit.deepest == {
        (depths, peaks, "pv|desktop|/cart"): scroll_peak(40, 800),
        (depths, peaks, "b|desktop|/cart"): scroll_peak(18, 800),
    }
    assert not [k for k, _ in commit.increments if k == depths]
    assert commit.expiries[peaks] == keys.SCROLL_PEAK_TTL_S


def test_a_page_view_reported_again_later_moves_its_count_to_the_deeper_bucket(
    client: TestClient, redis_client: redis.Redis, site: Site
) -> None:
    def leave(depth: float, pv: str = "view-1") -> None:
        event = factories.event("scroll", ts=NOW, pv=pv, depth=depth, dh=3000, vh=800, vw=1280)
        assert client.post("/e", json=factories.batch(site.key, [event])).status_code == 202
        Worker(redis_client, [Aggregator(PageTemplates(), 90)]).run(burst=True)

    for depth in (1234, 2010, 700):  # left, came back and scrolled further, came back briefly
        leave(depth)
    leave(500, pv="view-2")
    stats = load_scroll(redis_client, site, "/cart", "desktop", [DAY])
    assert (stats.views, stats.fold_px) == (2, 800)
    assert stats.reached[[0, 10, 11, 24, 40]].tolist() == [1.0, 1.0, 0.5, 0.5, 0.5]
    assert len(stats.reached) == 41  # deepest bucket: 2010 px // 50


def test_one_page_view_id_reported_on_two_pages_counts_once_on_each(
    client: TestClient, redis_client: redis.Redis, site: Site
) -> None:
    # A stranger can send any page view id: it must not move a count from one page to another
    # (it drove /about's bucket 5 to -1 and its scroll map to an IndexError).
    def leave(pv: str, page: str, depth: float) -> None:
        event = factories.event("scroll", p=page, pv=pv, depth=depth, dh=9000, vh=800, vw=1280)
        assert client.post("/e", json=factories.batch(site.key, [event])).status_code == 202
        Worker(redis_client, [Aggregator(PageTemplates(), 90)]).run(burst=True)

    leave("other", "/about", 3000)
    leave("same", "/cart", 250)
    leave("same", "/about", 1000)

    cart = load_scroll(redis_client, site, "/cart", "desktop", [DAY])
    about = load_scroll(redis_client, site, "/about", "desktop", [DAY])
    assert (cart.views, len(cart.reached)) == (1, 6)  # 250 px: bucket 5
    assert (about.views, len(about.reached), about.reached[[0, 20, 21]].tolist()) == (
        2, 61, [1.0, 1.0, 0.5],
    )  # fmt: skip
    legend = Legend("/about", "desktop", "today", about.views, about.views, "scroll")
    assert render_scrollmap(about, legend).height == LEGEND_PX + 3050


def test_the_commit_refuses_a_move_that_would_take_a_bucket_below_zero(
    redis_client: redis.Redis,
) -> None:
    # Peaks stored by an older version under another key: the bucket they name holds nothing.
    depths = keys.scroll_depths("shop", 0, DAY, "desktop", "/cart")
    peaks = keys.scroll_peaks("shop", 0, DAY)
    redis_client.hset(depths, mapping={"3": 1, "views": 1, "fold": 800})
    redis_client.hset(peaks, "old|desktop|/cart", 7)
    reader = StreamReader(redis_client, WORKER_GROUP, "test")
    stream = events_stream("shop", 0)
    redis_client.xadd(stream, {"h": b"x"})
    [(entry_id, _)] = reader.read(stream, 10)

    commit = Commit(
        entry_ids=[entry_id], deepest={(depths, peaks, "old|desktop|/cart"): scroll_peak(9, 800)}
    )
    assert reader.commit(stream, dead_letters("shop", 0), commit) == []

    assert redis_client.hgetall(depths) == {b"3": b"1", b"views": b"1", b"fold": b"800"}
    assert redis_client.hget(peaks, "old|desktop|/cart") == b"7"
    assert redis_client.xpending(stream, WORKER_GROUP)["pending"] == 0  # still acknowledged


def test_on_a_page_that_scrolls_sideways_x_is_a_share_of_the_document_width() -> None:
    wide = click(1, 1920, 40, vw=1280, dw=2560)  # three quarters across a 2560 px document
    commit = Aggregator(PageTemplates(), 90).commit_for("shop", 0, [entry("1-0", [wide])])
    doc = keys.grid("shop", 0, DAY, "desktop", "click", "doc", "/product/:id")
    assert [name for key, name in commit.increments if key == doc] == [str(2 * 100 + 75)]


def test_the_server_clock_decides_the_day() -> None:
    late = click(1, 10, 10)
    commit = Aggregator(PageTemplates(), 90).commit_for(
        "shop", 0, [entry("1-0", [late], skew=86_400_000)]
    )
    tomorrow = datetime.fromtimestamp(NOW / 1000 + 86_400, UTC).strftime("%Y%m%d")
    assert any(f":grid:{tomorrow}:" in key for key, _ in commit.increments)


def test_an_undecodable_entry_is_dead_lettered_and_the_rest_counted() -> None:
    commit = Aggregator(PageTemplates(), 90).commit_for(
        "shop", 0, [("1-0", {b"h": b"junk"}), entry("2-0", [click(1, 10, 10)])]
    )
    assert commit.entry_ids == ["2-0"]
    [(dead_id, reason)] = commit.dead
    assert dead_id == "1-0" and reason.startswith("cannot decode")


def test_keys_made_by_a_first_commit_expire(
    client: TestClient, redis_client: redis.Redis, site: Site
) -> None:
    # EXPIRE on a key that does not exist yet does nothing: the script applies it last.
    scroll = factories.event("scroll", ts=NOW, pv="view-1", depth=900, dh=3000, vh=800, vw=1280)
    body = factories.batch(site.key, [factories.pageview(ts=NOW, pv="view-1"), scroll])
    assert client.post("/e", json=body).status_code == 202
    Worker(redis_client, [Aggregator(PageTemplates(), 90), SessionBuilder(redis_client)]).run(
        burst=True
    )
    made = [
        keys.scroll_depths("shop", 0, DAY, "desktop", "/cart"),
        keys.scroll_peaks("shop", 0, DAY),
        open_session("shop", 0, "session-1"),
    ]
    assert [redis_client.ttl(key) > 0 for key in made] == [True, True, True]

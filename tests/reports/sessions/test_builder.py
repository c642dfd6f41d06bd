"""Sessions built from events posted through the real endpoint and drained by the worker: split
by inactivity, filed by day when idle, read back whole, and never filed twice or lost."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import redis
from starlette.testclient import TestClient

from clicktrail.worker import Worker
from collector import keys
from collector.pages import PageTemplates
from collector.sites import Site
from heatmap.aggregate import Aggregator
from reports.analyses.funnel_table import FunnelQuery, compute_funnel
from reports.sessions.builder import SessionBuilder
from reports.sessions.layout import OPEN_ROW
from reports.sessions.reader import load_sessions
from tests.factories import all_keys, batch, click, event, now_ms, pageview

MIN = 60_000
HOUR = 60 * MIN


@pytest.fixture
def client(make_client: Callable[..., TestClient], site: Site) -> TestClient:
    return make_client(rate_ip_per_s=1e6)


def post(client: TestClient, site: Site, sid: str, events: list[dict[str, Any]]) -> None:
    body = batch(site.key, events, sid=sid)  # sent now: the events keep their times
    assert client.post("/e", json=body).status_code == 202


def drain(redis_client: redis.Redis) -> SessionBuilder:
    builder = SessionBuilder(redis_client)
    Worker(redis_client, [Aggregator(PageTemplates(), 90), builder]).run(burst=True)
    return builder


def visit(at: int, *paths: str, step_ms: int = MIN, **fields: Any) -> list[dict[str, Any]]:
    return [pageview(p=p, ts=at + i * step_ms, **fields) for i, p in enumerate(paths)]


def test_sessions_come_back_whole_with_their_rows_in_time_order(
    client: TestClient, redis_client: redis.Redis, site: Site
) -> None:
    t0 = now_ms() - 10 * MIN
    later = visit(t0 + 2 * MIN, "/checkout")  # sent first: arrival order is not time order
    post(client, site, "tab-a", later)
    post(client, site, "tab-a", visit(t0, "/product/12", "/cart", utm={"source": "Newsletter"}))
    post(client, site, "tab-b", [*visit(t0, "/"), event("custom", name="signup", ts=t0 + 1)])
    drain(redis_client)

    table = load_sessions(redis_client, site, t0 - HOUR, t0 + HOUR, HOUR)
    paths = [
        [table.vocab[i] for i in table.item[table.offsets[s] : table.offsets[s + 1]]]
        for s in range(len(table))
    ]
    assert sorted(paths) == [["p:/", "e:signup"], ["p:/product/12", "p:/cart", "p:/checkout"]]
    assert sorted(table.sources[s] for s in table.source) == ["(direct)", "newsletter"]


def test_inactivity_splits_a_tab_into_sessions(
    client: TestClient, redis_client: redis.Redis, site: Site
) -> None:
    t0 = now_ms() - 3 * HOUR
    post(client, site, "tab", visit(t0, "/product/1", "/cart"))
    post(client, site, "tab", visit(t0 + 31 * MIN + MIN, "/checkout"))  # 31 min after /cart
    post(client, site, "tab", visit(t0 + 50 * MIN, "/thanks"))
    drain(redis_client)
    table = load_sessions(redis_client, site, t0 - HOUR, t0 + HOUR, HOUR)
    assert [int(n) for n in (table.offsets[1:] - table.offsets[:-1])] == [2, 2]


def test_idle_sessions_are_filed_by_day_once_and_read_back_the_same(
    client: TestClient, redis_client: redis.Redis, site: Site
) -> None:
    t0 = now_ms() - 2 * HOUR
    for i in range(5):
        events = visit(t0 + i, "/product/1", "/cart", "/checkout")
        events.append(click(p="/cart", ts=t0 + i + MIN, x=640, y=100, vw=1280))
        post(client, site, f"tab-{i}", events)
    builder = drain(redis_client)
    query = FunnelQuery(["/product/*", "/cart", "/checkout"], HOUR, t0 - HOUR, t0 + HOUR, now_ms())
    before, _, _ = compute_funnel(
        load_sessions(redis_client, site, t0 - HOUR, t0 + HOUR, HOUR), query
    )

    assert builder.tick("shop", 0, now_ms=now_ms() + 5 * MIN) == 0  # not idle for 30 min yet
    assert builder.tick("shop", 0, now_ms=now_ms() + HOUR) == 5
    assert builder.tick("shop", 0, now_ms=now_ms() + HOUR) == 0  # nothing left to file
    assert redis_client.zcard(keys.idle_sessions("shop", 0)) == 0
    assert not all_keys(redis_client, keys.open_session("shop", 0, "*"))
    table = load_sessions(redis_client, site, t0 - HOUR, t0 + HOUR, HOUR)
    after, _, _ = compute_funnel(table, query)
    assert after == before
    assert [s["entered"] for s in after["steps"]] == [5, 5, 5]
    assert (len(table), table.rows, len(table.clicks)) == (5, 15, 5)
    assert redis_client.ttl(keys.session_log("shop", 0, _day(t0), "nav")) > 80 * 86_400


def test_a_session_that_sees_events_while_closing_is_left_open_not_split(
    client: TestClient, redis_client: redis.Redis, site: Site
) -> None:
    t0 = now_ms() - 2 * HOUR
    post(client, site, "tab", visit(t0, "/product/1", "/cart"))
    builder = drain(redis_client)
    stale = builder.read_open("shop", 0, ["tab"])
    post(client, site, "tab", visit(t0 + 5 * MIN, "/checkout"))  # a late batch arrives
    drain(redis_client)
    assert builder.close_open("shop", 0, ["tab"], stale, cutoff=now_ms() + HOUR) == 0
    assert builder.tick("shop", 0, now_ms=now_ms() + HOUR) == 1
    table = load_sessions(redis_client, site, t0 - HOUR, t0 + HOUR, HOUR)
    assert (len(table), table.rows) == (1, 3)


def test_a_replayed_commit_appends_nothing(
    client: TestClient, redis_client: redis.Redis, site: Site
) -> None:
    t0 = now_ms() - HOUR
    post(client, site, "tab", visit(t0, "/product/1", "/cart"))
    builder = SessionBuilder(redis_client)
    worker = Worker(redis_client, [builder])
    stream = keys.events_stream("shop", 0)
    [(_, lane)] = [(p, r) for p, r in worker.lanes]
    entries = lane.read(stream, 10)
    commit = builder.commit_for("shop", 0, entries)
    assert lane.commit(stream, keys.dead_letters("shop", 0), commit) == []
    again = builder.commit_for("shop", 0, entries)  # as a worker that reclaimed them would
    assert lane.commit(stream, keys.dead_letters("shop", 0), again) == [entries[0][0]]
    table = load_sessions(redis_client, site, t0 - HOUR, t0 + HOUR, HOUR)
    assert table.rows == 2


def _day(ms: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y%m%d")


def test_a_session_id_that_never_rests_is_closed_at_max_rows_and_its_key_stays_bounded(
    client: TestClient, redis_client: redis.Redis, site: Site
) -> None:
    # Once it grew until Redis refused the append (proto-max-bulk-len), killing the worker.
    builder = SessionBuilder(redis_client, max_rows=100)
    worker = Worker(redis_client, [builder])
    open_key = keys.open_session("shop", 0, "tab")
    t0 = now_ms() - HOUR
    for n in range(30):  # 600 page views, 20 a batch, never 30 minutes apart
        post(client, site, "tab", visit(t0 + n * 20 * 1000, *["/p"] * 20, step_ms=1000))
        worker.run(burst=True)
        assert redis_client.strlen(open_key) <= (100 + 20) * OPEN_ROW.itemsize
    builder.tick("shop", 0, now_ms=now_ms() + HOUR)
    table = load_sessions(redis_client, site, t0 - HOUR, t0 + HOUR, HOUR)
    assert table.rows == 600  # split, nothing lost or doubled
    assert len(table) == 6 and max(table.offsets[1:] - table.offsets[:-1]) <= 120


def test_an_open_session_is_closed_at_its_maximum_length(
    client: TestClient, redis_client: redis.Redis, site: Site
) -> None:
    builder = SessionBuilder(redis_client, max_ms=10 * MIN)
    worker = Worker(redis_client, [builder])
    t0 = now_ms() - HOUR
    for n in range(25):  # a page view every 70 s for 28 minutes
        post(client, site, "tab", visit(t0 + n * 70_000, "/p"))
        worker.run(burst=True)
        assert redis_client.strlen(keys.open_session("shop", 0, "tab")) <= 9 * OPEN_ROW.itemsize
    builder.tick("shop", 0, now_ms=now_ms() + HOUR)
    table = load_sessions(redis_client, site, t0 - HOUR, t0 + HOUR, HOUR)
    assert (table.rows, [int(n) for n in table.offsets[1:] - table.offsets[:-1]]) == (
        25,
        [9, 9, 7],
    )


def test_an_open_state_that_cannot_be_closed_is_set_aside_and_the_others_close(
    client: TestClient, redis_client: redis.Redis, site: Site
) -> None:
    t0 = now_ms() - 2 * HOUR
    post(client, site, "good", visit(t0, "/product/1", "/cart"))
    builder = drain(redis_client)
    redis_client.set(keys.open_session("shop", 0, "bad"), b"not a row")  # as a torn write
    redis_client.zadd(keys.idle_sessions("shop", 0), {"bad": t0})
    assert builder.tick("shop", 0, now_ms=now_ms() + HOUR) == 2
    table = load_sessions(redis_client, site, t0 - HOUR, t0 + HOUR, HOUR)
    assert (len(table), table.rows) == (1, 2)
    assert redis_client.zcard(keys.idle_sessions("shop", 0)) == 0
    assert redis_client.hgetall(keys.BACKGROUND_ERRORS) == {b"sessions:close|shop|0": b"1"}


def test_the_vocabulary_outlives_its_day_logs_and_never_gives_an_id_twice(
    client: TestClient, redis_client: redis.Redis, site: Site
) -> None:
    t0 = now_ms() - 2 * HOUR
    post(client, site, "tab", visit(t0, "/a", "/b"))
    drain(redis_client).tick("shop", 0, now_ms=now_ms() + HOUR)
    vocab = keys.session_vocabulary("shop", 0)
    day_log = keys.session_log("shop", 0, _day(t0), "nav")
    assert redis_client.ttl(day_log) < redis_client.ttl(vocab)  # it once never expired at all
    ids = {k: int(v) for k, v in redis_client.hgetall(vocab).items()}
    redis_client.delete(vocab)  # as when it expires, its days gone
    post(client, site, "tab-2", visit(t0, "/c"))
    drain(redis_client)
    again = {k: int(v) for k, v in redis_client.hgetall(vocab).items()}
    direct_on_linux = b't:["","","","","","",[],"Chrome","Linux","",""]'  # a touch: version 2
    assert set(again) == {b"p:/c", direct_on_linux}
    assert min(again.values()) > max(ids.values())

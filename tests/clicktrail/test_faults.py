"""Faults under load, each ending with exact totals: every event the collector acknowledged (202)
is counted exactly once, when workers are SIGKILLed again and again, when the collector is
SIGKILLed, and when Redis is killed and started again from its append-only file."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import redis

from clicktrail.demo.background import free_port
from collector import keys
from collector.ingest import RETRY_UNREACHABLE_S
from collector.pages import BANDS, PageTemplates, bands_of
from collector.sites import Site
from heatmap.grid import cells_of
from heatmap.totals import load_grid, load_pages
from reports.sessions.reader import load_sessions
from tests.clicktrail.fleet import (
    Events,
    Processes,
    RedisServer,
    Snippet,
    acknowledged,
    answers,
    held_by,
    register_shop,
    stop_all,
    wait_until,
)

pytestmark = pytest.mark.slow

OUTAGE_S = 2.0  # Redis stays down at least this long
LOAD_BATCHES = 100  # acknowledged before a fault, and again after it
WORKER_KILLS = 5  # kills that land between a worker's read and its commit


@dataclass
class Totals:
    cells: Counter[tuple[str, str, str, int]]  # (template, band, kind, grid cell) -> clicks
    views: Counter[tuple[str, str]]  # (template, band) -> page views
    session_rows: int  # page views in sessions
    session_clicks: int


def day_of(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, UTC).strftime("%Y%m%d")


def expected_totals(batches: list[Events]) -> Totals:
    """What the aggregates must hold when each event counts exactly once."""
    templates = PageTemplates()
    totals = Totals(Counter(), Counter(), 0, 0)
    for events in batches:
        for event in events:
            page, band = templates.template(event["p"]), BANDS[int(bands_of(event["vw"]))]
            if event["t"] == "pageview":
                totals.views[(page, band)] += 1
                totals.session_rows += 1
                continue
            cell = int(cells_of(event["x"], event["y"], event["vw"]))
            totals.cells[(page, band, "click", cell)] += 1
            totals.cells[(page, band, "dead", cell)] += event["dead"]
            totals.session_clicks += 1
    return totals


def counted_totals(client: redis.Redis, site: Site, batches: list[Events]) -> Totals:
    """What the aggregates hold, for every page with activity on the days of the events."""
    days = sorted({day_of(event["ts"]) for events in batches for event in events})
    pages = load_pages(client, site, days)
    totals = Totals(Counter(), Counter({(p.template, p.band): p.views for p in pages}), 0, 0)
    for page in {p.template for p in pages}:
        for band in BANDS:
            for kind in ("click", "dead"):
                grid = load_grid(client, site, page, band, kind, "doc", days).ravel()
                for cell in grid.nonzero()[0]:
                    totals.cells[(page, band, kind, int(cell))] = int(grid[cell])
    now = int(time.time() * 1000)
    sessions = load_sessions(client, site, now - 3_600_000, now, 3_600_000)
    totals.session_rows, totals.session_clicks = sessions.rows, len(sessions.clicks)
    return totals


def drained(client: redis.Redis) -> bool:
    """Every entry of the stream delivered to both consumer groups and committed."""
    stream = keys.events_stream("shop", 0)
    last = client.xinfo_stream(stream)["last-generated-id"]
    groups = client.xinfo_groups(stream)
    return len(groups) == 2 and all(
        g["pending"] == 0 and g["last-delivered-id"] == last for g in groups
    )


def counting(client: redis.Redis, site: Site) -> bool:
    """Whether the worker has counted anything yet."""
    return bool(load_pages(client, site, [day_of(int(time.time() * 1000))]))


@pytest.fixture
def snippets() -> Iterator[Callable[[str, str], list[Snippet]]]:
    """Start two snippets posting to a collector URL with a site key."""
    made: list[Snippet] = []

    def start(url: str, site_key: str) -> list[Snippet]:
        started = [Snippet(url, site_key, f"visitor-{n}") for n in range(2)]
        made.extend(started)
        return started

    yield start
    for snippet in made:
        snippet.cancel()


def test_workers_sigkilled_again_and_again_under_load_count_each_event_once(
    redis_server: RedisServer,
    processes: Processes,
    snippets: Callable[[str, str], list[Snippet]],
) -> None:
    """While snippets post, start a worker and SIGKILL it as soon as it holds entries it read
    and has not committed, until five kills have landed so; another worker takes those over
    (claim-idle 300 ms) and a last one drains: each acknowledged event counted once."""
    site = register_shop(redis_server)
    port = free_port()
    processes.collector(redis_server.url, port)
    visitors = snippets(f"http://127.0.0.1:{port}", site.key)
    interrupted = attempts = 0
    with redis_server.client() as client:
        while interrupted < WORKER_KILLS and attempts < 8 * WORKER_KILLS:
            attempts += 1
            more = attempts * 20
            # wait_until calls each lambda before the loop moves on: late binding is harmless
            wait_until(lambda: acknowledged(visitors) >= more, "batches acknowledged")  # noqa: B023
            worker = processes.worker(redis_server.url, "--claim-idle-ms", "300", "--batch", "4")
            wait_until(lambda: held_by(client, worker.pid) > 0, "the worker holds entries")  # noqa: B023
            worker.kill()  # SIGKILL: wherever it is
            worker.wait(timeout=10)
            interrupted += held_by(client, worker.pid) > 0
        batches = stop_all(visitors)
        assert interrupted == WORKER_KILLS, f"{interrupted} of {attempts} kills landed mid-batch"
        time.sleep(0.4)  # past claim-idle: the killed workers' entries may be taken over
        drain = processes.worker(redis_server.url, "--claim-idle-ms", "300", "--burst")
        assert drain.wait(timeout=60) == 0
        assert drained(client)
        assert counted_totals(client, site, batches) == expected_totals(batches)


def test_a_collector_sigkilled_under_load_loses_and_doubles_nothing(
    redis_server: RedisServer,
    processes: Processes,
    snippets: Callable[[str, str], list[Snippet]],
) -> None:
    """SIGKILL the collector while snippets post and start another on the same port: every batch
    is acknowledged in the end (retried ones whose 202 was lost are deduplicated by event id),
    and a burst worker counts each event exactly once."""
    site = register_shop(redis_server)
    port = free_port()
    collector = processes.collector(redis_server.url, port)
    visitors = snippets(f"http://127.0.0.1:{port}", site.key)
    wait_until(lambda: acknowledged(visitors) >= LOAD_BATCHES, "batches acknowledged")
    collector.kill()  # SIGKILL: batches in flight may be stored with their 202 never sent
    collector.wait(timeout=10)
    before = acknowledged(visitors)
    processes.collector(redis_server.url, port)
    wait_until(lambda: acknowledged(visitors) >= before + LOAD_BATCHES, "acknowledged after")
    batches = stop_all(visitors)

    seen = answers(visitors)
    assert seen["no answer"] > 0, "the kill did not land while the snippets posted"
    assert set(seen) == {202, "no answer"}, seen
    assert processes.worker(redis_server.url, "--burst").wait(timeout=60) == 0
    with redis_server.client() as client:
        assert drained(client)
        assert counted_totals(client, site, batches) == expected_totals(batches)


def test_redis_killed_and_restarted_from_its_aof_under_load(
    redis_server: RedisServer,
    processes: Processes,
    snippets: Callable[[str, str], list[Snippet]],
) -> None:
    """SIGKILL Redis while snippets post and a worker counts: meanwhile the collector answers 503
    with Retry-After and the worker waits; once Redis is back from its append-only file, every
    acknowledged event is counted exactly once and nothing is left pending."""
    site = register_shop(redis_server)
    port = free_port()
    processes.collector(redis_server.url, port)
    # Default claim-idle (30 s): what it read but could not commit before Redis died, it takes
    # up again itself once Redis is back.
    worker = processes.worker(redis_server.url)
    visitors = snippets(f"http://127.0.0.1:{port}", site.key)
    with redis_server.client() as client:
        wait_until(
            lambda: acknowledged(visitors) >= LOAD_BATCHES and counting(client, site),
            "batches acknowledged, and counted by the worker",
        )
    redis_server.kill()
    down_at = time.monotonic()

    def outage_seen() -> bool:
        assert worker.poll() is None, processes.log("worker.log")  # it waits, it does not die
        seen = answers(visitors)
        assert set(seen) <= {202, 503, "no answer"}, seen
        return (
            seen[503] > 0
            and "Redis unreachable (1/" in processes.log("worker.log")
            and time.monotonic() - down_at >= OUTAGE_S
        )

    wait_until(outage_seen, "a 503 answered and the worker waiting for Redis")
    redis_server.start()  # the same data: Redis replays its append-only file
    with redis_server.client() as client:
        held = held_by(client, worker.pid)  # read before the crash, never committed
    before = acknowledged(visitors)
    wait_until(lambda: acknowledged(visitors) >= before + LOAD_BATCHES, "acknowledged after")
    batches = stop_all(visitors)

    seen = answers(visitors)
    assert set(seen) <= {202, 503, "no answer"}, seen
    with redis_server.client() as client:
        wait_until(lambda: drained(client), "the worker has committed every entry")
        assert worker.poll() is None, processes.log("worker.log")  # it rode the outage out
    if held:  # taken up by the worker itself, not by a reclaim 30 s (claim-idle) later
        assert "read before an outage" in processes.log("worker.log")
        assert counted_totals(client, site, batches) == expected_totals(batches)
    retry_after = {value for snippet in visitors for value in snippet.retry_after}
    assert retry_after == {str(RETRY_UNREACHABLE_S)}, "a 503 without Retry-After"
    worker.terminate()
    assert worker.wait(timeout=30) == 0

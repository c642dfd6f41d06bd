"""Faults under load, each ending with exact totals: every event the collector acknowledged (202)
is counted exactly once, when workers are SIGKILLed again and again, when the collector is
SIGKILLed, and when Redis is killed and started again from its append-only file."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
import redis

from clicktrail.background import free_port
from collector import keys
from collector.embedded import redis_server_binary
from collector.ingest import RETRY_UNREACHABLE_S
from collector.pages import BANDS, PageTemplates, bands_of
from collector.sites import Site, add_site, new_site
from heatmap.grid import cells_of
from heatmap.store import load_grid, load_pages
from reports.store import load_sessions
from tests.clicktrail.test_worker import held_by
from tests.factories import BROWSER_UA, ORIGIN, batch, click, pageview

pytestmark = pytest.mark.slow

HEADERS = {"user-agent": BROWSER_UA, "content-type": "text/plain"}
PATHS = ["/cart", "/product/17", "/"]
WIDTHS = [375, 800, 1280]
CLICKS_PER_BATCH = 9
REQUEST_TIMEOUT_S = 5.0
FIRST_BACKOFF_S = 0.05  # the snippet waits 1 s, doubling to 60 s; shorter here, same shape
LONGEST_BACKOFF_S = 0.8
DELIVER_TIMEOUT_S = 30.0  # a batch still unacknowledged after this fails the test
WAIT_S = 30.0  # longest wait for any condition
OUTAGE_S = 2.0  # Redis stays down at least this long
LOAD_BATCHES = 100  # acknowledged before a fault, and again after it
WORKER_KILLS = 5  # kills that land between a worker's read and its commit


def wait_until(condition: Callable[[], bool], what: str, timeout_s: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout_s:.0f} s: {what}")
        time.sleep(0.05)


class RedisServer:
    """A redis-server on 127.0.0.1 owned by the test: append-only with an fsync per write, so it
    can be SIGKILLed and started again on the same data."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisServer:
        conf = self.data_dir / "redis.conf"
        conf.write_text(
            f"bind 127.0.0.1\nport {self.port}\ndir {self.data_dir}\nappendonly yes\n"
            f'appendfsync always\nsave ""\nlogfile {self.data_dir / "redis.log"}\n'
        )
        self.process = subprocess.Popen(
            [redis_server_binary(), str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_until(self._ready, "Redis answers")
        return self

    def _ready(self) -> bool:
        assert self.process is not None and self.process.poll() is None, "redis-server exited"
        with self.client() as client:
            try:
                return bool(client.ping())
            except redis.exceptions.ConnectionError:  # refused, or still loading its AOF
                return False

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=REQUEST_TIMEOUT_S)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)


class Processes:
    """`python -m clicktrail.cli` processes on the test's Redis, each logging to its own file;
    whatever still runs when the test ends is killed."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, log: str, *argv: str) -> subprocess.Popen[bytes]:
        env = {
            k: v
            for k, v in os.environ.items()
            if k != "REDIS_URL" and not k.startswith("CLICKTRAIL")
        }
        env["CLICKTRAIL_RATE_IP_PER_S"] = "1000000"  # every snippet posts from 127.0.0.1
        with open(self.logs / log, "ab") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "clicktrail.cli", *argv],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
            )
        self.started.append(process)
        return process

    def collector(self, redis_url: str, port: int) -> subprocess.Popen[bytes]:
        process = self.start(
            "collector.log", "collector", "--port", str(port), "--redis-url", redis_url
        )

        def ready() -> bool:
            assert process.poll() is None, self.log("collector.log")
            try:
                return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(ready, "the collector answers /readyz")
        return process

    def worker(self, redis_url: str, *args: str) -> subprocess.Popen[bytes]:
        return self.start("worker.log", "worker", "--redis-url", redis_url, *args)

    def log(self, name: str) -> str:
        path = self.logs / name
        return path.read_text(errors="replace") if path.exists() else ""

    def close(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)


Events = list[dict[str, Any]]


class Snippet:
    """A visitor's tracker, as tracker_js sends: it keeps each batch, with its client-made event
    ids, until the collector answers 202, and sends it again after a backoff on a connection
    error, a timeout, a 429 or a 5xx. Posts batch after batch on a thread until stopped."""

    def __init__(self, url: str, site_key: str, sid: str) -> None:
        self.url, self.site_key, self.sid = url, site_key, sid
        self.rng = random.Random(sid)
        self.acknowledged: list[Events] = []
        self.answers: list[int | str] = []  # status code, or "no answer", of every attempt
        self.retry_after: list[str | None] = []  # the header of every 503
        self.failure: str | None = None
        self._stopping = threading.Event()
        self._cancelled = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"snippet-{sid}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop once the batch in hand is acknowledged."""
        self._stopping.set()
        self._thread.join(DELIVER_TIMEOUT_S + 2 * REQUEST_TIMEOUT_S)
        assert not self._thread.is_alive(), f"snippet {self.sid} never stopped"
        assert self.failure is None, self.failure

    def cancel(self) -> None:
        """Stop now, acknowledged or not (a test that failed)."""
        self._stopping.set()
        self._cancelled.set()
        self._thread.join(2 * REQUEST_TIMEOUT_S)

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, headers=HEADERS, timeout=REQUEST_TIMEOUT_S) as client:
            while not self._stopping.is_set():
                events = self._next_batch()
                if not self._deliver(client, events):
                    return
                self.acknowledged.append(events)

    def _next_batch(self) -> Events:
        path, vw = self.rng.choice(PATHS), self.rng.choice(WIDTHS)
        clicks = [
            click(
                p=path,
                vw=vw,
                x=round(self.rng.uniform(0, vw), 1),
                y=round(self.rng.uniform(0, 3000), 1),
                dead=self.rng.random() < 0.1,
            )
            for _ in range(CLICKS_PER_BATCH)
        ]
        return [pageview(p=path, vw=vw), *clicks]

    def _deliver(self, client: httpx.Client, events: Events) -> bool:
        deadline = time.monotonic() + DELIVER_TIMEOUT_S
        backoff = FIRST_BACKOFF_S
        while time.monotonic() < deadline and not self._cancelled.is_set():
            try:
                # Each attempt has its own sent_at, as the snippet's do; the events are the same.
                response = client.post("/e", json=batch(self.site_key, events, sid=self.sid))
            except httpx.TransportError:  # refused, reset or timed out
                self.answers.append("no answer")
            else:
                self.answers.append(response.status_code)
                if response.status_code == 202:
                    return True
                if response.status_code == 503:
                    self.retry_after.append(response.headers.get("retry-after"))
                if response.status_code != 429 and response.status_code < 500:
                    self.failure = f"answered {response.status_code}: {response.text}"
                    return False  # the snippet drops such a batch: a client mistake
            time.sleep(backoff * self.rng.uniform(0.5, 1.5))
            backoff = min(2 * backoff, LONGEST_BACKOFF_S)
        self.failure = (
            f"a batch unacknowledged after {DELIVER_TIMEOUT_S:.0f} s: {self.answers[-5:]}"
        )
        return False


def acknowledged(snippets: list[Snippet]) -> int:
    """Batches acknowledged so far; fails at once when a snippet has given one up."""
    for snippet in snippets:
        assert snippet.failure is None, snippet.failure
    return sum(len(s.acknowledged) for s in snippets)


def answers(snippets: list[Snippet]) -> Counter[int | str]:
    """How often each answer came, over the snippets (copied: their threads add to them)."""
    return Counter(answer for s in snippets for answer in list(s.answers))


def stop_all(snippets: list[Snippet]) -> list[Events]:
    """Stop the snippets; every batch they made, each acknowledged."""
    for snippet in snippets:
        snippet.stop()
    return [events for snippet in snippets for events in snippet.acknowledged]


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
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    data = tmp_path / "redis"
    data.mkdir()
    server = RedisServer(data).start()
    yield server
    assert server.process is not None
    if server.process.poll() is None:
        server.kill()


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    started = Processes(tmp_path)
    yield started
    started.close()


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


def register_shop(server: RedisServer) -> Site:
    with server.client() as client:
        return add_site(client, new_site("shop", [ORIGIN]))


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
            wait_until(lambda n=more: acknowledged(visitors) >= n, "batches acknowledged")
            worker = processes.worker(redis_server.url, "--claim-idle-ms", "300", "--batch", "4")
            wait_until(lambda p=worker.pid: held_by(client, p) > 0, "the worker holds entries")
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
    before = acknowledged(visitors)
    wait_until(lambda: acknowledged(visitors) >= before + LOAD_BATCHES, "acknowledged after")
    batches = stop_all(visitors)

    seen = answers(visitors)
    assert set(seen) <= {202, 503, "no answer"}, seen
    with redis_server.client() as client:
        wait_until(lambda: drained(client), "the worker has committed every entry")
        assert worker.poll() is None, processes.log("worker.log")  # it rode the outage out
        assert counted_totals(client, site, batches) == expected_totals(batches)
    retry_after = {value for snippet in visitors for value in snippet.retry_after}
    assert retry_after == {str(RETRY_UNREACHABLE_S)}, "a 503 without Retry-After"
    worker.terminate()
    assert worker.wait(timeout=30) == 0

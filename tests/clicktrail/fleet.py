"""Real clicktrail processes under load for the fault and soak tests: a Redis the test owns
(append-only, fsync per write, can be SIGKILLed and started again), collector and worker
processes, and snippet-style clients that keep each batch until it is acknowledged."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2 as httpx
import redis

from clicktrail.demo.background import free_port
from collector import keys
from collector.embedded import redis_server_binary
from collector.sites import Site, add_site, new_site
from tests.factories import BROWSER_UA, ORIGIN, batch, click, pageview

HEADERS = {"user-agent": BROWSER_UA, "content-type": "text/plain"}
PATHS = ["/cart", "/product/17", "/"]
WIDTHS = [375, 800, 1280]
CLICKS_PER_BATCH = 9
REQUEST_TIMEOUT_S = 5.0
FIRST_BACKOFF_S = 0.05  # the snippet waits 1 s, doubling to 60 s; shorter here, same shape
LONGEST_BACKOFF_S = 0.8
DELIVER_TIMEOUT_S = 30.0  # a batch still unacknowledged after this fails the test
WAIT_S = 30.0  # longest wait for any condition


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

    def __init__(self, url: str, site_key: str, sid: str, pace_s: float = 0.0) -> None:
        self.url, self.site_key, self.sid = url, site_key, sid
        self.pace_s = pace_s  # least time between two batches (0: as fast as answered)
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
                self._stopping.wait(self.pace_s)

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


def register_shop(server: RedisServer) -> Site:
    with server.client() as client:
        return add_site(client, new_site("shop", [ORIGIN]))


def held_by(client: redis.Redis, pid: int) -> int:
    """Entries read and not yet committed by the worker process `pid`, over both groups."""
    total = 0
    for group in (keys.WORKER_GROUP, keys.SESSIONS_GROUP):
        try:
            summary = client.xpending(keys.events_stream("shop", 0), group)
        except redis.exceptions.ResponseError:
            continue  # no consumer group yet
        for consumer in summary["consumers"]:
            if f"-{pid}-" in consumer["name"].decode():
                total += int(consumer["pending"])
    return total

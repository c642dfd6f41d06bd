"""Open-loop load for `POST /e`: requests leave on a fixed schedule whatever the server's pace,
and each latency counts from the request's scheduled time, so a slow server cannot slow the load
down and hide its queueing (no coordinated omission: what wrk2 does; Debian has no wrk2).

Requests go round-robin to the collector ports, as a load balancer would send them, on
keep-alive connections opened as needed. One Python process on uvloop: its own ceiling is a few
thousand requests a second when it shares two cores with the server, so it reports how late it
sent (send lag) and the rate it achieved, and a generator that could not keep up shows itself.

    .venv/bin/python bench/openloop.py --ports 8001,8002 --key KEY --rate 2000 --seconds 10

Prints one JSON object. Batches are those of bench/post_batch.lua: 20 click events, fresh ids.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from collections import Counter, deque
from collections.abc import Callable

import uvloop

EVENTS = 20
SESSIONS = 5000  # session ids cycled through, as post_batch.lua does
VARIANTS = 97  # page views and click positions cycled through
TICK_S = 0.001
DRAIN_S = 10.0  # how long requests still in flight at the end may take
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0"


def request_maker(key: str, run: str) -> Callable[[int], bytes]:
    """The HTTP request of batch number i: event ids and session id derive from i."""
    now = int(time.time() * 1000)
    templates = []
    for variant in range(VARIANTS):
        events = ",".join(
            f'{{"t":"click","id":"{run}\x00{i:02d}","ts":{now},"p":"/cart","pv":"v{variant}",'
            f'"x":{(variant * 37 + i * 11) % 1280},"y":{(variant * 53 + i * 7) % 4000},'
            '"vw":1280,"vh":800}'
            for i in range(EVENTS)
        )
        body = f'{{"site":"{key}","sid":"s{run}\x01","sent_at":{now},"events":[{events}]}}'
        templates.append(body.encode().split(b"\x00"))
    head = (
        "POST /e HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
        f"User-Agent: {USER_AGENT}\r\nContent-Length: %d\r\n\r\n"
    ).encode()

    def make(i: int) -> bytes:
        body = (
            (b"%08x" % i).join(templates[i % VARIANTS]).replace(b"\x01", b"%04d" % (i % SESSIONS))
        )
        return head % len(body) + body

    return make


class Stats:
    def __init__(self) -> None:
        self.latency: list[float] = []  # s, response received - scheduled
        self.service: list[float] = []  # s, response received - request written
        self.lag: list[float] = []  # s, request written - scheduled
        self.statuses: Counter[int] = Counter()
        self.errors = 0


class Connection(asyncio.Protocol):
    def __init__(self, lane: Lane) -> None:
        self.lane = lane
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.scheduled: float | None = None  # of the request in flight
        self.sent = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.lane.ready(self)

    def send(self, scheduled: float, request: bytes) -> None:
        assert self.transport is not None
        self.scheduled = scheduled
        self.sent = time.perf_counter()
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buffer[:end]).lower()
        found = head.find(b"content-length:")
        length = int(head[found + 15 : head.find(b"\r\n", found)]) if found >= 0 else 0
        if len(self.buffer) < end + 4 + length:
            return
        del self.buffer[: end + 4 + length]
        scheduled, self.scheduled = self.scheduled, None
        self.lane.done(self, int(head[9:12]), scheduled or 0.0)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lane.lost(self)


class Lane:
    """The connections to one collector port, and the requests waiting for one of them."""

    def __init__(self, port: int, stats: Stats, max_connections: int) -> None:
        self.port = port
        self.stats = stats
        self.max_connections = max_connections
        self.idle: list[Connection] = []
        self.waiting: deque[tuple[float, bytes]] = deque()
        self.connections = 0  # open or opening
        self.in_flight = 0

    def open(self) -> None:
        self.connections += 1
        loop = asyncio.get_running_loop()
        task = loop.create_task(
            loop.create_connection(lambda: Connection(self), "127.0.0.1", self.port)
        )
        task.add_done_callback(self._opened)

    def _opened(self, task: asyncio.Task[tuple[asyncio.BaseTransport, Connection]]) -> None:
        if task.exception() is not None:
            self.connections -= 1
            self.stats.errors += 1

    def submit(self, scheduled: float, request: bytes) -> None:
        if self.idle:
            self._send(self.idle.pop(), scheduled, request)
            return
        self.waiting.append((scheduled, request))
        if self.connections < self.max_connections:
            self.open()

    def ready(self, connection: Connection) -> None:
        if self.waiting:
            self._send(connection, *self.waiting.popleft())
        else:
            self.idle.append(connection)

    def _send(self, connection: Connection, scheduled: float, request: bytes) -> None:
        self.in_flight += 1
        self.stats.lag.append(time.perf_counter() - scheduled)
        connection.send(scheduled, request)

    def done(self, connection: Connection, status: int, scheduled: float) -> None:
        self.in_flight -= 1
        now = time.perf_counter()
        self.stats.latency.append(now - scheduled)
        self.stats.service.append(now - connection.sent)
        self.stats.statuses[status] += 1
        self.ready(connection)

    def lost(self, connection: Connection) -> None:
        self.connections -= 1
        if connection in self.idle:
            self.idle.remove(connection)
        if connection.scheduled is not None:
            self.in_flight -= 1
            self.stats.errors += 1


async def drive(
    lanes: list[Lane], make: Callable[[int], bytes], rate: float, seconds: float, warm: int
) -> float:
    """Send rate * seconds requests on schedule; returns when the last answer came (s after
    the first scheduled send), waiting at most DRAIN_S past the schedule."""
    for lane in lanes:
        for _ in range(warm):
            lane.open()
    await asyncio.sleep(0.2)
    total, interval = int(rate * seconds), 1.0 / rate
    start = time.perf_counter() + 0.05
    sent = 0
    while sent < total:
        due = min(total, int((time.perf_counter() - start) / interval) + 1)
        while sent < due:
            lanes[sent % len(lanes)].submit(start + sent * interval, make(sent))
            sent += 1
        await asyncio.sleep(TICK_S)
    deadline = time.perf_counter() + DRAIN_S
    while any(lane.in_flight or lane.waiting for lane in lanes):
        if time.perf_counter() > deadline:
            break
        await asyncio.sleep(TICK_S)
    return time.perf_counter() - start


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return 1000.0 * ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run(
    ports: list[int],
    key: str,
    rate: float,
    seconds: float,
    warm: int = 8,
    max_connections: int = 256,
) -> dict[str, float | int | dict[str, int]]:
    stats = Stats()
    lanes = [Lane(port, stats, max_connections) for port in ports]
    make = request_maker(key, os.urandom(4).hex())
    elapsed = uvloop.run(drive(lanes, make, rate, seconds, warm))
    completed = len(stats.latency)
    return {
        "target_rps": rate,
        "seconds": seconds,
        "sent": len(stats.lag),
        "completed": completed,
        "unfinished": sum(lane.in_flight + len(lane.waiting) for lane in lanes),
        "errors": stats.errors,
        "achieved_rps": completed / elapsed if elapsed > 0 else 0.0,
        "statuses": {str(k): v for k, v in sorted(stats.statuses.items())},
        "p50_ms": _percentile(stats.latency, 0.50),
        "p90_ms": _percentile(stats.latency, 0.90),
        "p99_ms": _percentile(stats.latency, 0.99),
        "max_ms": _percentile(stats.latency, 1.0),
        "service_p50_ms": _percentile(stats.service, 0.50),
        "service_p99_ms": _percentile(stats.service, 0.99),
        "send_lag_p50_ms": _percentile(stats.lag, 0.50),
        "send_lag_p99_ms": _percentile(stats.lag, 0.99),
        "connections": sum(lane.connections for lane in lanes),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ports", required=True, help="comma-separated collector ports")
    parser.add_argument("--key", required=True, help="site key")
    parser.add_argument("--rate", type=float, required=True, help="requests per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--max-connections", type=int, default=256, help="per port")
    args = parser.parse_args()
    ports = [int(p) for p in args.ports.split(",")]
    result = run(ports, args.key, args.rate, args.seconds, max_connections=args.max_connections)
    print(json.dumps(result))


if __name__ == "__main__":
    main()

"""The processes of bench/scale.py and bench/soak.py: a Redis (one server with AOF like
production, or a 3-master local cluster), `clicktrail collector` and `clicktrail worker`
processes, and the checks between runs (events accepted, workers caught up, CPU used)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx2 as httpx
import psutil
import redis

from clicktrail.demo.background import free_port
from collector import keys
from collector.connections import sync_client
from collector.sites import add_site, new_site

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.support is not part of the installed package
from tests.support.local_cluster import LocalCluster, server_binary  # noqa: E402

VENV_BIN = Path(sys.executable).parent
SITE = "shop"
ORIGIN = "https://shop.example"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0
POLL_S = 0.05
# Lifts the per-IP and per-site rate limits and the backlog bound: one load generator on
# 127.0.0.1 is one IP, and a backlog that outgrows the workers is what the bench measures.
# The collectors' /metrics token: accepted_events() reads their counters.
METRICS_TOKEN = "bench-rig-metrics-token"
LOAD_ENV = {
    "CLICKTRAIL_METRICS_TOKEN": METRICS_TOKEN,
    "CLICKTRAIL_RATE_IP_PER_S": "1000000",
    "CLICKTRAIL_RATE_SITE_PER_S": "1000000",
    "CLICKTRAIL_BUFFER_MAX": "1000000000",
    "CLICKTRAIL_LOG_LEVEL": "warning",
}


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT_S)


class SingleRedis:
    """redis-server on a free 127.0.0.1 port with appendonly yes, appendfsync everysec."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    @property
    def pids(self) -> list[int]:
        return [self.process.pid] if self.process else []

    def start(self) -> SingleRedis:
        self.folder.mkdir(parents=True, exist_ok=True)
        argv = [
            server_binary(),
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.folder),
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--save", "",
            "--logfile", str(self.folder / "redis.log"),
        ]  # fmt: skip
        self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, start_new_session=True)
        client = redis.Redis(port=self.port, socket_timeout=2)
        try:
            _poll(client.ping, "redis-server did not start")
        finally:
            client.close()
        return self

    def used_memory(self) -> int:
        return _used_memory([self.port])

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None


class ClusterRedis:
    """LocalCluster (tests/support/) with AOF on every master, as a production cluster."""

    def __init__(self, folder: Path, masters: int = 3) -> None:
        self.cluster = LocalCluster(folder, masters=masters, appendonly=True)

    @property
    def url(self) -> str:
        return self.cluster.url

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.cluster.processes]

    def start(self) -> ClusterRedis:
        self.cluster.start()
        return self

    def used_memory(self) -> int:
        return _used_memory(self.cluster.ports)

    def stop(self) -> None:
        self.cluster.stop()


Redis = SingleRedis | ClusterRedis


def _used_memory(ports: list[int]) -> int:
    """Bytes Redis holds (INFO used_memory), over all these servers."""
    total = 0
    for port in ports:
        client = redis.Redis(port=port, socket_timeout=5)
        try:
            total += int(client.info("memory")["used_memory"])
        finally:
            client.close()
    return total


def dedup_memory(client: redis.Redis, shards: int) -> int:
    """Bytes of the site's seen-id sets (dedup) of yesterday, today and tomorrow (UTC)."""
    today = int(time.time()) // 86_400
    names = [
        keys.seen_ids(SITE, s, d) for s in range(shards) for d in (today - 1, today, today + 1)
    ]
    return sum(int(client.memory_usage(name, samples=0) or 0) for name in names)


def streams_memory(client: redis.Redis, shards: int) -> int:
    """Bytes of the site's event streams (MEMORY USAGE, sampled), which the workers trim."""
    return sum(
        int(client.memory_usage(keys.events_stream(SITE, shard)) or 0) for shard in range(shards)
    )


@dataclass
class Fleet:
    """Collector and worker processes against one Redis."""

    redis_url: str
    folder: Path
    collectors: list[subprocess.Popen[bytes]] = field(default_factory=list)
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)

    def _env(self) -> dict[str, str]:
        return {**os.environ, **LOAD_ENV, "REDIS_URL": self.redis_url}

    def start(self, collectors: int, workers: int) -> Fleet:
        # cwd: a folder of its own, so no clicktrail.toml or clicktrail-data of the repo is used.
        self.folder.mkdir(parents=True, exist_ok=True)
        clicktrail = str(VENV_BIN / "clicktrail")
        for _ in range(workers):
            self.workers.append(
                subprocess.Popen([clicktrail, "worker"], env=self._env(), cwd=self.folder)
            )
        for _ in range(collectors):
            port = free_port()
            self.ports.append(port)
            self.collectors.append(
                subprocess.Popen(
                    [clicktrail, "collector", "--port", str(port)],
                    env=self._env(),
                    cwd=self.folder,
                    stdout=subprocess.DEVNULL,
                )
            )
        for port, process in zip(self.ports, self.collectors, strict=True):
            wait_http(port, process)
        return self

    @property
    def collector_pids(self) -> list[int]:
        return [p.pid for p in self.collectors]

    @property
    def worker_pids(self) -> list[int]:
        return [p.pid for p in self.workers]

    def check_alive(self) -> None:
        dead = [p.args for p in self.collectors + self.workers if p.poll() is not None]
        if dead:
            raise RuntimeError(f"exited early: {dead}")

    def stop(self) -> None:
        for process in self.collectors + self.workers:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.collectors + self.workers:
            stop(process)


@dataclass
class Deployment:
    server: Redis
    fleet: Fleet
    client: redis.Redis  # of the Redis or cluster
    key: str  # the site's public key


@contextlib.contextmanager
def deployment(
    setup: str, folder: Path, shards: int, collectors: int, workers: int
) -> Iterator[Deployment]:
    """A fresh Redis (single or cluster) with the benchmark site, and the processes; all
    stopped and the folder removed afterwards."""
    server = fleet = client = None
    try:
        where = folder / "redis"
        server = SingleRedis(where) if setup == "single" else ClusterRedis(where)
        server.start()
        key = add_shop(server.url, shards)
        fleet = Fleet(server.url, folder / "cwd")
        fleet.start(collectors, workers)  # assigned first: a failed start is stopped too
        client = redis_client(server.url)
        yield Deployment(server, fleet, client, key)
        fleet.check_alive()
    finally:
        if client is not None:
            client.close()
        if fleet is not None:
            fleet.stop()
        if server is not None:
            server.stop()
        remove(folder)


def _poll(check: Callable[[], object], message: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            check()
            return
        except (redis.exceptions.ConnectionError, httpx.TransportError):
            if time.monotonic() > deadline:
                raise RuntimeError(message) from None
            time.sleep(POLL_S)


def wait_http(port: int, process: subprocess.Popen[bytes], path: str = "/healthz") -> None:
    """Until the server on this port answers anything."""

    def check() -> None:
        if process.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {process.returncode}")
        httpx.get(f"http://127.0.0.1:{port}{path}", timeout=1)

    _poll(check, f"server on port {port} did not answer")


def redis_client(url: str) -> redis.Redis:
    """A client of this Redis or cluster, as the collector and worker make theirs."""
    return sync_client(url)


def add_shop(redis_url: str, shards: int) -> str:
    """Register the benchmark's site; returns its public key."""
    client = sync_client(redis_url)
    try:
        return add_site(client, new_site(SITE, [ORIGIN], shards)).key
    finally:
        client.close()


def accepted_events(ports: list[int]) -> int:
    """Events the collectors on these ports have stored since they started (their /metrics)."""
    total = 0.0
    for port in ports:
        bearer = {"authorization": f"Bearer {METRICS_TOKEN}"}
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", headers=bearer, timeout=10).text
        for line in text.splitlines():
            if line.startswith("clicktrail_events_accepted_total "):
                total += float(line.split()[1])
    return int(total)


def _entry_id(raw: bytes | str) -> tuple[int, int]:
    text = raw.decode() if isinstance(raw, bytes) else raw
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


def shard_state(client: redis.Redis, shards: int) -> list[dict[str, int | bool]]:
    """Per stream shard: its length, each group's pending count, and whether both consumer
    groups have read (last-delivered id >= last entry id; Redis 6 has no `lag`) and acknowledged
    everything, as clicktrail/demo/run.py checks."""
    states: list[dict[str, int | bool]] = []
    for shard in range(shards):
        stream = keys.events_stream(SITE, shard)
        if not client.exists(stream):
            states.append({"length": 0, "pending": 0, "drained": True})
            continue
        info = client.xinfo_stream(stream)
        last = _entry_id(info["last-generated-id"])
        groups = {_text(g["name"]): g for g in client.xinfo_groups(stream)}
        wanted = [groups.get(name) for name in (keys.WORKER_GROUP, keys.SESSIONS_GROUP)]
        drained = all(
            g is not None and g["pending"] == 0 and _entry_id(g["last-delivered-id"]) >= last
            for g in wanted
        )
        pending = sum(int(g["pending"]) for g in wanted if g is not None)
        states.append({"length": int(info["length"]), "pending": pending, "drained": drained})
    return states


def shards_per_node(client: redis.Redis, shards: int) -> list[int]:
    """How many of the site's stream shards each cluster master holds ([shards] for one Redis)."""
    node_of = getattr(client, "get_node_from_key", None)
    if node_of is None:
        return [shards]
    ports = [node_of(keys.events_stream(SITE, shard)).port for shard in range(shards)]
    return sorted((ports.count(port) for port in set(ports)), reverse=True)


def wait_drained(client: redis.Redis, shards: int, timeout_s: float) -> float | None:
    """Poll until every shard is drained; the monotonic time it was first seen so, or None."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if all(s["drained"] for s in shard_state(client, shards)):
            return time.monotonic()
        time.sleep(POLL_S)
    return None


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far (0 for those gone)."""
    total = 0.0
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def rss_mb(pid: int) -> float:
    return float(psutil.Process(pid).memory_info().rss) / 2**20


def remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value

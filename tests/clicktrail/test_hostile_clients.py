"""A real `clicktrail collector` against clients that try to hold its memory or its
connections: giant headers, and heads and bodies trickled slower than the timeouts."""

from __future__ import annotations

import contextlib
import json
import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.clicktrail.server import ServeProcess
from tests.factories import BROWSER_UA, batch

pytestmark = pytest.mark.slow
TIMEOUT_S = 1.0  # the head and body timeouts of the server under test
CLOSED_WITHIN_S = 5.0  # the timeout, the collector's grace and a loaded machine's slack
TRICKLE_EVERY_S = 0.2
GIANT = 4 * 1024 * 1024


@pytest.fixture(scope="module")
def collector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServeProcess, str]]:
    data = tmp_path_factory.mktemp("hostile") / "data"
    data.mkdir()
    settings = {
        "CLICKTRAIL_HEADER_TIMEOUT_S": str(TIMEOUT_S),
        "CLICKTRAIL_BODY_TIMEOUT_S": str(TIMEOUT_S),
        "CLICKTRAIL_RATE_IP_PER_S": "100000",  # only the limits under test may refuse
    }
    server = ServeProcess(data, command="collector", settings=settings)
    added = server.cli("site", "add", "shop", "--origin", "https://shop.example")
    assert added.returncode == 0, added.stderr
    key = next(
        line.split(": ")[1] for line in added.stdout.splitlines() if line.startswith("Public key")
    )
    server.start()
    yield server, key
    server.stop()


def connect(server: ServeProcess) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


def exchange(server: ServeProcess, request: bytes) -> bytes:
    """Send a whole request, then read until the server closes or stops answering."""
    with connect(server) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
            if b"\r\n\r\n" in answer:
                break
        return answer


def rss_mb(server: ServeProcess) -> float:
    assert server.process is not None
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def closed(sock: socket.socket) -> bool:
    """Whether the server closed this connection (whatever it sent first)."""
    readable, _, _ = select.select([sock], [], [], 0)
    if not readable:
        return False
    try:
        while chunk := sock.recv(65536, socket.MSG_DONTWAIT):
            del chunk
    except BlockingIOError:
        return False
    except ConnectionResetError:
        pass
    return True


def read_while_trickling(sock: socket.socket, drip: bytes) -> bytes:
    """Send `drip` every TRICKLE_EVERY_S, reading what the server answers until it closes."""
    answer = b""
    started = time.monotonic()
    while time.monotonic() - started < CLOSED_WITHIN_S:
        readable, _, _ = select.select([sock], [], [], TRICKLE_EVERY_S)
        if not readable:
            sock.sendall(drip)
            continue
        chunk = sock.recv(65536)
        if not chunk:
            return answer
        answer += chunk
    raise AssertionError(f"still open after {CLOSED_WITHIN_S} s, having sent {answer[:200]!r}")


def trickle_until_closed(
    server: ServeProcess, socks: list[socket.socket], drip: bytes
) -> tuple[float, list[int]]:
    """Send `drip` on every open connection every TRICKLE_EVERY_S, asking /healthz meanwhile,
    until all are closed or CLOSED_WITHIN_S passes. (seconds taken, /healthz statuses)"""
    started = time.monotonic()
    health: list[int] = []
    open_socks = list(socks)
    try:
        while open_socks and time.monotonic() - started < CLOSED_WITHIN_S:
            for sock in list(open_socks):
                if closed(sock):
                    open_socks.remove(sock)
                    continue
                try:
                    sock.sendall(drip)
                except (BrokenPipeError, ConnectionResetError):
                    open_socks.remove(sock)
            health.append(httpx.get(f"{server.url}/healthz", timeout=2).status_code)
            time.sleep(TRICKLE_EVERY_S)
        assert not open_socks, f"{len(open_socks)} connections still open"
        return time.monotonic() - started, health
    finally:
        for sock in socks:
            sock.close()


def test_giant_headers_get_431_and_leave_no_memory_behind(
    collector: tuple[ServeProcess, str],
) -> None:
    server, key = collector
    body = json.dumps(batch(key)).encode()

    def attack(n: int) -> list[bytes]:
        answers = []
        for i in range(n):
            origin = f"https://{i}.example/".encode() + b"a" * GIANT
            answers.append(
                exchange(server, b"GET /e HTTP/1.1\r\nhost: x\r\norigin: " + origin + b"\r\n\r\n")
            )
            agent = BROWSER_UA.encode() + str(i).encode() * (GIANT // 2)
            post = (
                b"POST /e HTTP/1.1\r\nhost: x\r\ncontent-type: text/plain\r\nuser-agent: "
                + agent
                + b"\r\ncontent-length: "
                + str(len(body)).encode()
                + b"\r\n\r\n"
                + body
            )
            answers.append(exchange(server, post))
        return answers

    attack(2)  # the first requests of a process grow it whatever they carry
    before = rss_mb(server)
    answers = attack(20)
    grown = rss_mb(server) - before
    assert grown < 40, f"RSS grew {grown:.0f} MB through 40 giant heads"
    assert {a.split(b"\r\n", 1)[0] for a in answers} == {
        b"HTTP/1.1 431 Request Header Fields Too Large"
    }
    assert httpx.get(f"{server.url}/healthz", timeout=2).status_code == 200


def test_heads_trickled_past_the_timeout_are_closed(collector: tuple[ServeProcess, str]) -> None:
    server, _ = collector
    silent = [connect(server) for _ in range(5)]  # connect and never send a byte
    trickling = [connect(server) for _ in range(20)]
    for sock in trickling:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nhost: x\r\n")
    taken, health = trickle_until_closed(server, silent + trickling, b"x-drip: 1\r\n")
    assert taken >= TIMEOUT_S - 0.1  # not before their time
    assert set(health) == {200}


def test_a_body_trickled_to_post_e_gets_408_and_is_closed(
    collector: tuple[ServeProcess, str],
) -> None:
    server, key = collector
    with connect(server) as sock:
        sock.sendall(
            b"POST /e HTTP/1.1\r\nhost: x\r\ncontent-type: text/plain\r\n"
            b"content-length: 4000\r\n\r\n" + b'{"site":"' + key.encode()
        )
        answer = read_while_trickling(sock, b"a")
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert b"connection: close" in answer
    assert answer.endswith(b'{"error":"body not received within 1 s","field":"$"}')


def test_a_body_trickled_to_any_other_route_is_closed(collector: tuple[ServeProcess, str]) -> None:
    server, _ = collector
    socks = [connect(server) for _ in range(10)]
    for sock in socks:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nhost: x\r\ncontent-length: 4000\r\n\r\nx")
    taken, health = trickle_until_closed(server, socks, b"x")
    assert taken >= TIMEOUT_S - 0.1
    assert set(health) == {200}


def test_a_body_that_never_starts_is_closed(collector: tuple[ServeProcess, str]) -> None:
    server, _ = collector
    socks = [connect(server) for _ in range(10)]
    for sock in socks:
        sock.sendall(b"POST /e HTTP/1.1\r\nhost: x\r\ncontent-type: text/plain\r\n")
        sock.sendall(b"content-length: 4000\r\n\r\n")
    taken, health = trickle_until_closed(server, socks, b"")
    assert taken >= TIMEOUT_S - 0.1
    assert set(health) == {200}


def test_silent_connections_cannot_exhaust_the_file_descriptors(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    settings = {"CLICKTRAIL_HEADER_TIMEOUT_S": str(TIMEOUT_S)}
    server = ServeProcess(
        tmp_path / "data", command="collector", settings=settings, max_open_files=256
    )
    server.start()
    socks = [connect(server) for _ in range(300)]  # more than it may hold: the kernel queues
    try:
        started = time.monotonic()
        while time.monotonic() - started < CLOSED_WITHIN_S:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                    break
            time.sleep(TRICKLE_EVERY_S)
        else:
            raise AssertionError(f"/healthz did not answer within {CLOSED_WITHIN_S} s")
    finally:
        for sock in socks:
            sock.close()
        server.stop()

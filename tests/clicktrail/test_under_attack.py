"""A real `clicktrail serve` under every memory attack at once: clicks a million pixels down a
page (and renders of that page), giant headers, thousands of distinct paths and selectors, and
connections that never finish their head. It stays under 500 MB, keeps answering /healthz, and
keeps aggregating another site's visits, exactly."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
import redis

from collector.embedded import socket_path_for
from tests.clicktrail.server import ServeProcess
from tests.factories import BROWSER_UA, batch, click, now_ms, pageview

pytestmark = pytest.mark.slow

RSS_LIMIT_MB = 500
DISTINCT_PATHS = 3_000
LIMIT_PER_DAY = 300  # paths and selectors per site and day, so the attack crosses it
SILENT_CONNECTIONS = 200
SHOP_VISITS = 30
GIANT = 4 * 1024 * 1024


def key_of(server: ServeProcess, name: str) -> str:
    added = server.cli("site", "add", name, "--origin", f"https://{name}.example")
    assert added.returncode == 0, added.stderr
    return next(line.split(": ")[1] for line in added.stdout.splitlines()
                if line.startswith("Public key"))  # fmt: skip


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServeProcess]:
    data = tmp_path / "data"
    data.mkdir()
    settings = {
        "CLICKTRAIL_RATE_IP_PER_S": "100000",  # one address plays every attacker here
        "CLICKTRAIL_RATE_INVALID_PER_S": "100000",
        "CLICKTRAIL_HEADER_TIMEOUT_S": "2",
        "CLICKTRAIL_MAX_PATHS_PER_DAY": str(LIMIT_PER_DAY),
        "CLICKTRAIL_MAX_SELECTORS_PER_DAY": str(LIMIT_PER_DAY),
        "CLICKTRAIL_MAX_TEMPLATES_PER_DAY": str(LIMIT_PER_DAY),
    }
    yield ServeProcess(data, settings=settings)


def peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def post(client: httpx.Client, key: str, events: list[dict[str, object]], **headers: str) -> int:
    body = batch(key, events, sid=uuid.uuid4().hex[:16])
    answer = client.post("/e", json=body, headers={"content-type": "text/plain", **headers})
    return answer.status_code


def giant_clicks(url: str, key: str, token: str) -> None:
    with httpx.Client(base_url=url, timeout=30, headers={"user-agent": BROWSER_UA}) as client:
        for _ in range(10):
            events = [click(p="/!", x=1e6, y=1e6 + i, dh=2e6, dw=2e6) for i in range(40)]
            assert post(client, key, events) == 202
        for kind in ("click", "scroll"):
            for _ in range(3):
                client.get(f"/api/sites/evil/heatmap.png?page=/!&kind={kind}",
                           headers={"authorization": f"Bearer {token}"})  # fmt: skip


def distinct_values(url: str, key: str) -> None:
    with httpx.Client(base_url=url, timeout=30, headers={"user-agent": BROWSER_UA}) as client:
        for start in range(0, DISTINCT_PATHS, 20):
            events: list[dict[str, object]] = []
            for n in range(start, start + 20):
                events += [pageview(p=f"/p-{n}", pv=f"v{n}"),
                           click(p=f"/p-{n}", pv=f"v{n}", sel=f"div.c{n}>a")]  # fmt: skip
            assert post(client, key, events) == 202


def giant_headers(url: str, key: str) -> None:
    with httpx.Client(base_url=url, timeout=30) as client:
        for n in range(20):
            agent = f"Mozilla/5.0 {n}" + "x" * GIANT
            assert post(client, key, [pageview()], **{"user-agent": agent}) == 431
            assert (
                client.get("/e", headers={"origin": f"https://{n}.x" + "y" * GIANT}).status_code
                == 431
            )


def silent_connections(port: int, hold_s: float) -> None:
    sockets = [socket.create_connection(("127.0.0.1", port)) for _ in range(SILENT_CONNECTIONS)]
    time.sleep(hold_s)
    for sock in sockets:
        sock.close()


def shop_visits(url: str, key: str) -> None:
    with httpx.Client(base_url=url, timeout=30, headers={"user-agent": BROWSER_UA}) as client:
        for n in range(SHOP_VISITS):
            assert post(client, key, [pageview(p="/cart", pv=f"shop-{n}", ts=now_ms())]) == 202
            time.sleep(0.1)


def test_serve_stays_bounded_answers_and_aggregates_through_every_attack(
    server: ServeProcess,
) -> None:
    shop, evil = key_of(server, "shop"), key_of(server, "evil")
    created = server.cli("token", "create")
    token = next(line for line in created.stdout.splitlines() if line.startswith("ctt_"))
    server.start()
    assert server.process is not None
    url = server.url

    failures: list[str] = []
    health: list[int] = []

    def guarded(name: str, job: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                job()
            except Exception as exc:  # reported by the assertion below
                failures.append(f"{name}: {exc!r}")

        return run

    attacks = {
        "giant clicks": lambda: giant_clicks(url, evil, token),
        "distinct values": lambda: distinct_values(url, evil),
        "giant headers": lambda: giant_headers(url, evil),
        "silent connections": lambda: silent_connections(server.port, hold_s=6),
        "the shop's visits": lambda: shop_visits(url, shop),
    }
    threads = [threading.Thread(target=guarded(*attack)) for attack in attacks.items()]
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads):
        started = time.monotonic()
        health.append(httpx.get(f"{url}/healthz", timeout=10).status_code)
        assert time.monotonic() - started < 5, "/healthz kept a caller waiting"
        time.sleep(0.5)
    assert failures == []
    assert set(health) == {200}

    # The other site's visits were aggregated, exactly, while all that went on.
    auth = {"authorization": f"Bearer {token}"}
    deadline = time.monotonic() + 60
    while True:
        pages = httpx.get(f"{url}/api/sites/shop/pages", headers=auth, timeout=10).json()
        views = sum(row["views"] for row in pages if row["template"] == "/cart")
        if views == SHOP_VISITS or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert views == SHOP_VISITS

    peak = peak_rss_mb(server.process.pid)
    print(f"serve peak RSS {peak:.0f} MB")
    assert peak < RSS_LIMIT_MB
    client = redis.Redis(unix_socket_path=str(socket_path_for(server.data_dir)))
    try:
        used_mb = int(client.info("memory")["used_memory"]) / 2**20
        evil_pages = httpx.get(f"{url}/api/sites/evil/pages", headers=auth, timeout=10).json()
    finally:
        client.close()
    print(f"embedded Redis {used_mb:.1f} MB")
    assert used_mb < 100  # bounded by the cardinality settings, not by the attack's size
    templates = {row["template"] for row in evil_pages}
    assert "(over limit)" in templates and len(templates) <= LIMIT_PER_DAY + 2
    assert server.stop() == 0

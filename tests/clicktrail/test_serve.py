"""`clicktrail serve` as a user runs it: a real process on the embedded Redis, stopped with
SIGTERM under load and started again, with every accepted event still there."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
import redis

from collector import keys
from collector.embedded import answers, socket_path_for
from tests.clicktrail.server import ServeProcess
from tests.factories import BROWSER_UA, batch, click, decode_entry, stream_entries

pytestmark = pytest.mark.slow
HEADERS = {"user-agent": BROWSER_UA, "content-type": "text/plain"}


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[ServeProcess]:
    server = ServeProcess(tmp_path / "data")
    server.data_dir.mkdir()
    yield server
    if server.process and server.process.poll() is None:
        server.stop()


def add_site(server: ServeProcess) -> str:
    result = server.cli("site", "add", "shop", "--origin", "https://shop.example")
    assert result.returncode == 0, result.stderr
    return next(
        line.split(": ")[1] for line in result.stdout.splitlines() if line.startswith("Public key")
    )


def stored_ids(data_dir: Path) -> list[str]:
    client = redis.Redis(unix_socket_path=str(socket_path_for(data_dir)))
    entries = stream_entries(client, keys.events_stream("shop", 0))
    client.close()
    return [event_id for entry in entries for event_id in decode_entry(entry)[1]]


def test_site_add_while_serve_runs_reaches_the_same_redis(serve: ServeProcess) -> None:
    serve.start()
    key = add_site(serve)  # a second process: must not start a second Redis
    time.sleep(1.1)  # the collector reloads unknown keys at most once a second
    response = httpx.post(f"{serve.url}/e", json=batch(key), headers=HEADERS)
    assert response.status_code == 202, response.text
    assert answers(socket_path_for(serve.data_dir))  # site add left serve's Redis running


def test_sigterm_under_load_loses_no_accepted_event(serve: ServeProcess) -> None:
    key = add_site(serve)
    serve.start()
    accepted: list[str] = []
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(base_url=serve.url, headers=HEADERS, timeout=5) as client:
            while not stop.is_set():
                events = [click() for _ in range(5)]
                try:
                    response = client.post("/e", json=batch(key, events))
                except httpx.TransportError:
                    continue  # refused while stopping: the snippet would retry it
                if response.status_code == 202:
                    accepted.extend(e["id"] for e in events)

    threads = [threading.Thread(target=load) for _ in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(1.5)
    assert serve.stop() == 0
    stop.set()
    for thread in threads:
        thread.join()
    assert len(accepted) > 100
    assert not answers(socket_path_for(serve.data_dir))  # serve stopped its Redis too

    serve.start()  # same data folder: Redis replays its append-only file
    found = stored_ids(serve.data_dir)
    assert sorted(found) == sorted(set(found))  # nothing doubled
    assert set(accepted) <= set(found)  # nothing lost
    response = httpx.post(f"{serve.url}/e", json=batch(key), headers=HEADERS)
    assert response.status_code == 202  # the site survived as well


def test_serve_runs_the_worker_so_heatmap_counts_appear(serve: ServeProcess) -> None:
    import json

    key = add_site(serve)
    serve.start()
    events = [click(p="/product/7", x=100, y=100) for _ in range(3)]
    response = httpx.post(f"{serve.url}/e", json=batch(key, events), headers=HEADERS)
    assert response.status_code == 202
    deadline = time.monotonic() + 15
    pages: list[dict[str, object]] = []
    while time.monotonic() < deadline and not pages:
        result = serve.cli("pages", "--site", "shop", "--json")
        assert result.returncode == 0, result.stderr
        pages = json.loads(result.stdout)
        time.sleep(0.2)
    assert pages == [
        {
            "template": "/product/:id",
            "band": "desktop",
            "views": 0,
            "clicks": 3,
            "rage": 0,
            "dead": 0,
        }
    ]

"""A real collector (`clicktrail serve` on the embedded Redis), a second origin serving test
pages, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from playwright.sync_api import Browser, BrowserContext

from collector import keys
from collector.embedded import socket_path_for
from collector.schema import decode_stored
from tests.clicktrail.server import ServeProcess
from tests.factories import stream_entries
from tests.tracker_js.pages import serve_pages


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    yield context
    context.close()


class Site:
    """A running collector with one registered site, the pages' origin, and what arrived."""

    def __init__(self, collector: ServeProcess, origin: str, pages: dict[str, str]) -> None:
        self.collector = collector
        self.origin = origin
        self.pages = pages
        result = collector.cli("site", "add", "shop", "--origin", origin)
        assert result.returncode == 0, result.stderr
        self.key = next(
            line.split(": ")[1]
            for line in result.stdout.splitlines()
            if line.startswith("Public key")
        )

    def events(self) -> list[Any]:
        client = redis.Redis(unix_socket_path=str(socket_path_for(self.collector.data_dir)))
        try:
            entries = stream_entries(client, keys.events_stream("shop", 0))
        finally:
            client.close()
        return [event for entry in entries for event in decode_stored(entry[1])[1]]

    def wait_for(self, check: Callable[[list[Any]], bool], timeout_s: float = 10.0) -> list[Any]:
        """Events, once `check` holds for them (or after the timeout, for the assert to show)."""
        deadline = time.monotonic() + timeout_s
        while True:
            events = self.events()
            if check(events) or time.monotonic() > deadline:
                return events
            time.sleep(0.1)

    def of_type(self, kind: str) -> list[Any]:
        return [e for e in self.events() if type(e).__name__.lower() == kind]


@pytest.fixture
def collector_command() -> str:
    """`serve` (collector and worker); a test may parametrize it, and collector_settings."""
    return "serve"


@pytest.fixture
def collector_settings() -> dict[str, str]:
    return {}


@pytest.fixture
def site(
    tmp_path: Path, collector_command: str, collector_settings: dict[str, str]
) -> Iterator[Site]:
    collector = ServeProcess(
        tmp_path / "data", command=collector_command, settings=collector_settings
    )
    collector.data_dir.mkdir()
    with serve_pages() as (origin, pages):
        tracked = Site(collector, origin, pages)
        collector.start()
        yield tracked
        if collector.process and collector.process.poll() is None:
            collector.stop()

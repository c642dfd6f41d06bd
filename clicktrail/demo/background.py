"""An ASGI app served by uvicorn on a thread of this process: the demo's servers, and the real
servers of the browser tests and benchmarks."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from types import TracebackType

import uvicorn
from starlette.types import ASGIApp

START_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class BackgroundServer:
    def __init__(
        self,
        app: ASGIApp,
        port: int,
        host: str = "127.0.0.1",
        http: type[asyncio.Protocol] | str = "auto",
    ) -> None:
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            http=http,
            log_level="warning",
            access_log=False,
            # As `clicktrail serve`: X-Forwarded-For is read by the collector, from its trusted
            # proxies only; uvicorn's default would believe it from 127.0.0.1 for every app.
            proxy_headers=False,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = f"http://{host}:{port}"

    def start(self) -> BackgroundServer:
        self.thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError(f"no server came up on {self.url}: is the port taken?")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

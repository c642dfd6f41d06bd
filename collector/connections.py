"""Where Redis is: `REDIS_URL`, or the embedded server of the data folder."""

from __future__ import annotations

from dataclasses import dataclass

import redis
import redis.asyncio as aioredis

from collector.embedded import EmbeddedRedis
from collector.settings import Settings

SOCKET_TIMEOUT_S = 5.0


@dataclass
class RedisTarget:
    """A Redis URL, plus the embedded server behind it when this process started one."""

    url: str
    embedded: EmbeddedRedis | None = None

    def close(self) -> None:
        if self.embedded is not None:
            self.embedded.stop()


def resolve(settings: Settings, hold: bool = False) -> RedisTarget:
    """The configured Redis; the embedded one is started if nothing serves the data folder.

    `hold` is for the long-lived `serve` process: it owns the embedded server and stops it on exit.
    """
    if settings.redis_url:
        return RedisTarget(settings.redis_url)
    embedded = EmbeddedRedis(settings.data_dir, fsync=settings.redis_fsync).ensure()
    if hold:
        embedded.hold()
    return RedisTarget(embedded.url, embedded)


def sync_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=SOCKET_TIMEOUT_S)


def async_client(url: str) -> aioredis.Redis:
    # A blocking pool: a burst waits for a free connection instead of failing with
    # "Too many connections".
    pool = aioredis.BlockingConnectionPool.from_url(
        url,
        socket_timeout=SOCKET_TIMEOUT_S,
        socket_connect_timeout=2.0,
        max_connections=32,
        timeout=SOCKET_TIMEOUT_S,
    )
    return aioredis.Redis.from_pool(pool)

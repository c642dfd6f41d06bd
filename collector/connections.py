"""Where Redis is: `REDIS_URL` (one server, or a Redis Cluster), or the embedded server of the
data folder."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import redis
import redis.asyncio as aioredis
import redis.asyncio.cluster as aiocluster
import redis.cluster

from collector.embedded import EmbeddedRedis
from collector.settings import Settings

SOCKET_TIMEOUT_S = 5.0
CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}
MAX_CONNECTIONS = 32  # per server (per node of a cluster)


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
    embedded = EmbeddedRedis(settings.data_dir, fsync=settings.redis_fsync)
    if hold:
        embedded.hold()  # first: a second `serve` on the folder stops here, having started nothing
    return RedisTarget(embedded.ensure().url, embedded)


def cluster_seed(url: str) -> str | None:
    """`redis+cluster://host:port` -> `redis://host:port` (any node; the client discovers the
    rest), or None when the URL names a single server."""
    scheme, sep, rest = url.partition("://")
    plain = CLUSTER_SCHEMES.get(scheme.lower()) if sep else None
    return f"{plain}://{rest}" if plain else None


# A cluster client answers the same commands for what clicktrail does: every script and
# transaction touches the keys of one hash slot (collector/keys.py), and pipelines are not
# transactions. The casts keep one client type for the code that uses either.
def sync_client(url: str) -> redis.Redis:
    seed = cluster_seed(url)
    if seed:
        return cast(
            redis.Redis,
            redis.cluster.RedisCluster.from_url(
                seed, socket_timeout=SOCKET_TIMEOUT_S, max_connections=MAX_CONNECTIONS
            ),
        )
    return redis.Redis.from_url(url, socket_timeout=SOCKET_TIMEOUT_S)


def close_client(client: redis.Redis) -> None:
    """Close a client from sync_client and its sockets. A cluster client's close() leaves each
    node's connection pool connected (redis-py 8): its sockets would reach the garbage
    collector open, in whatever code runs then."""
    client.close()
    if isinstance(client, redis.cluster.RedisCluster):
        for node in client.get_nodes():
            if node.redis_connection is not None:
                node.redis_connection.connection_pool.disconnect()


def async_client(url: str) -> aioredis.Redis:
    seed = cluster_seed(url)
    if seed:
        return cast(
            aioredis.Redis,
            aiocluster.RedisCluster.from_url(
                seed,
                socket_timeout=SOCKET_TIMEOUT_S,
                socket_connect_timeout=2.0,
                max_connections=MAX_CONNECTIONS,
            ),
        )
    # A blocking pool: a burst waits for a free connection instead of failing with
    # "Too many connections".
    pool = aioredis.BlockingConnectionPool.from_url(
        url,
        socket_timeout=SOCKET_TIMEOUT_S,
        socket_connect_timeout=2.0,
        max_connections=MAX_CONNECTIONS,
        timeout=SOCKET_TIMEOUT_S,
    )
    return aioredis.Redis.from_pool(pool)

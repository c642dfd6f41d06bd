"""The Redis a command runs against, resolved from the settings and closed when it is done."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from collector.connections import RedisTarget, close_client, resolve, sync_client
from collector.settings import Settings


def with_redis(settings: Settings, action: Callable[[Any], int]) -> int:
    target: RedisTarget = resolve(settings)
    client = sync_client(target.url)
    try:
        return action(client)
    finally:
        close_client(client)
        target.close()

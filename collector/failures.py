"""Unexpected errors of the background threads (the worker's processors, the report scheduler),
counted in Redis so that /metrics shows them whichever process the thread runs in."""

from __future__ import annotations

import logging

import redis

from collector import keys

log = logging.getLogger(__name__)

# What a background thread retries rather than counts: Redis going away for a while.
REDIS_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


def count_failure(client: redis.Redis, part: str, site: str, where: str) -> None:
    """One more unexpected error of `part` (a consumer group, 'report', ...) for a site, at a
    shard or report; never raises, since it runs while handling another error."""
    try:
        client.hincrby(keys.BACKGROUND_ERRORS, f"{part}|{site}|{where}", 1)
    except redis.exceptions.RedisError as exc:
        log.warning("cannot count a %s error of %s: %s", part, site, exc)


def failure_counts(stored: dict[bytes, bytes]) -> dict[tuple[str, ...], int]:
    """The counts of keys.BACKGROUND_ERRORS by (part, site, where)."""
    counts: dict[tuple[str, ...], int] = {}
    for field, count in stored.items():
        part, site, where = field.decode().split("|", 2)
        counts[(part, site, where)] = int(count)
    return counts

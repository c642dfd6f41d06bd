"""What `clicktrail demo` remembers between runs, so a second run adds to its data instead of
doubling it: when its synthetic history was posted, and its dashboard token.

The token's secret is kept in Redis (tokens are otherwise stored only as a hash) so a second run
can print the same login link and an open dashboard tab stays logged in. That gives away
nothing new: whoever can read this Redis can write a token of their own into it."""

from __future__ import annotations

from datetime import UTC, datetime

import redis

from clicktrail.web.tokens import create_token, digest, find_token
from collector import keys

HISTORY_DAYS = 14  # two weeks: the report compares the last 7 days with the 7 before
HISTORY_VISITS_PER_DAY = 90

TOKEN_NAME = "demo"


def history_posted_at(client: redis.Redis) -> datetime | None:
    """When the demo's synthetic history was posted, or None if it never was."""
    raw = client.hget(keys.DEMO_STATE, "history")
    return datetime.fromtimestamp(int(raw) / 1000, UTC) if raw is not None else None


def mark_history_posted(client: redis.Redis, at: datetime) -> None:
    client.hset(keys.DEMO_STATE, "history", int(at.timestamp() * 1000))


def demo_token(client: redis.Redis) -> str:
    """The secret of the demo's all-sites token: the one an earlier run made, unless someone
    revoked it since; else a new one."""
    kept = _stored_token(client)
    if kept is not None and find_token(client, kept) is not None:
        return kept
    secret, _ = create_token(client, TOKEN_NAME)
    client.hset(keys.DEMO_STATE, "token", secret)
    return secret


def wipe_demo(client: redis.Redis, site: str) -> int:
    """Forget everything the demo made: the site's data, its token and this state. Returns the
    number of keys deleted."""
    kept = _stored_token(client)
    if kept is not None:
        client.hdel(keys.API_TOKENS, digest(kept))
    deleted = client.delete(keys.DEMO_STATE)
    for pattern in keys.site_data_globs(site):
        batch: list[bytes] = []
        for key in client.scan_iter(match=pattern, count=1000):
            batch.append(key)
            if len(batch) == 500:
                deleted += client.delete(*batch)
                batch = []
        if batch:
            deleted += client.delete(*batch)
    return int(deleted)


def _stored_token(client: redis.Redis) -> str | None:
    raw = client.hget(keys.DEMO_STATE, "token")
    return raw.decode() if isinstance(raw, bytes) else raw

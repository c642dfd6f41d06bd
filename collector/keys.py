"""Every Redis key name, in one place.

Keys that a script or transaction touches together share a hash tag (`{...}`), so each one stays
in a single Redis Cluster slot: one tag for the site registry, one per (site, stream shard).
"""

from __future__ import annotations

PREFIX = "ct"

# Registry of sites: hash site key -> site record (JSON); hash site name -> site key.
SITES_BY_KEY = f"{PREFIX}:{{sites}}:by_key"
SITES_BY_NAME = f"{PREFIX}:{{sites}}:by_name"

# Consumer group that the aggregation workers read each stream with.
WORKER_GROUP = "aggregators"

# Visitor-id salt of one UTC day; deleted 48 h after it is made.
SALT_TTL_S = 48 * 3600


def shard_tag(site: str, shard: int) -> str:
    return f"{{{site}:{shard}}}"


def events_stream(site: str, shard: int) -> str:
    """Stream of accepted batches of one site shard: one entry per batch."""
    return f"{PREFIX}:{shard_tag(site, shard)}:events"


def seen_ids(site: str, shard: int, day: int) -> str:
    """Set of event ids stored for one site shard, bucketed by the events' client-clock day."""
    return f"{PREFIX}:{shard_tag(site, shard)}:seen:{day}"


def visitor_salt(day: str) -> str:
    return f"{PREFIX}:salt:{day}"

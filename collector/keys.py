"""Redis key names of the stream layer, the site registry and what several parts share. A
consumer's own aggregates are named in its own package, built on `shard_tag`.

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


def dead_letters(site: str, shard: int) -> str:
    """Entries a worker could not process, with the reason; kept for a person to look at."""
    return f"{PREFIX}:{shard_tag(site, shard)}:dead"


# Hash: 'part|site|where' -> unexpected errors a background thread caught and went on after
# (part: a consumer group, its tick, or 'report'; where: a shard, or a report's name).
BACKGROUND_ERRORS = f"{PREFIX}:{{background}}:errors"


def distinct_values(site: str, day: str, kind: str) -> str:
    """Set: the values of one kind (paths, templates, selectors, events, sources) a site stored
    on a day, up to its limit (collector.cardinality); kept a few days past the day."""
    return f"{PREFIX}:{{{site}}}:distinct:{day}:{kind}"


def folded_counts(site: str, shard: int) -> str:
    """Hash: 'group|kind' -> events whose value of that kind a consumer group folded into
    '(over limit)'; counted in the commit, so exactly once."""
    return f"{PREFIX}:{shard_tag(site, shard)}:folded"


# Scheduled reports: one sent marker per (report, period, delivery target), a lease per (report,
# period) while one scheduler builds and sends it, and delivery attempt counters for /metrics.
REPORT_DELIVERIES = f"{PREFIX}:{{reports}}:deliveries"


def report_sent(report: str, period: str, target: int) -> str:
    return f"{PREFIX}:{{reports}}:sent:{report}:{period}:{target}"


def report_lease(report: str, period: str) -> str:
    return f"{PREFIX}:{{reports}}:lease:{report}:{period}"


def report_failed(report: str, fired: int) -> str:
    """Set when building or sending a report failed unexpectedly at the schedule's firing at
    `fired` (epoch s): it waits for the next firing rather than retrying every pass."""
    return f"{PREFIX}:{{reports}}:failed:{report}:{fired}"


# Sessions (reports/): built by their own consumer group from the same streams. Each shard keeps
# a vocabulary of the paths, event names and sources it has seen, numbered from 1.
SESSIONS_GROUP = "sessions"


def session_vocabulary(site: str, shard: int) -> str:
    """Hash: 'p:/path', 'e:name' or 's:source' -> id. Expires days after the day logs that
    use it, never before."""
    return f"{PREFIX}:{shard_tag(site, shard)}:sess:vocab"


def vocabulary_ids(site: str, shard: int) -> str:
    """Counter: the latest vocabulary id given. Never expires, so no id is given twice."""
    return f"{PREFIX}:{shard_tag(site, shard)}:sess:vocab:next"


def open_session(site: str, shard: int, sid: str) -> str:
    """String: the rows recorded so far for one browser session id
    (reports.sessions.layout.OPEN_ROW)."""
    return f"{PREFIX}:{shard_tag(site, shard)}:sess:open:{sid}"


def idle_sessions(site: str, shard: int) -> str:
    """Sorted set: open session id -> server ms of its latest batch."""
    return f"{PREFIX}:{shard_tag(site, shard)}:sess:idle"


def session_log(site: str, shard: int, day: str, part: str) -> str:
    """String of fixed-size records of the sessions that started on `day`; `part` names one kind
    of record of reports.sessions.layout."""
    return f"{PREFIX}:{shard_tag(site, shard)}:sess:{day}:{part}"


# Read API tokens: SHA-256 hex of a token -> its record (JSON). Only the hash is stored.
API_TOKENS = f"{PREFIX}:{{tokens}}"


def site_data_globs(site: str) -> tuple[str, str]:
    """SCAN patterns matching every key of one site's data: its shards' keys and its site-wide
    keys. Site names have no glob characters (collector.sites.NAME_PATTERN)."""
    return f"{PREFIX}:{{{site}:*", f"{PREFIX}:{{{site}}}:*"


# Hash of `clicktrail demo`'s own state: 'history' -> epoch ms its synthetic history was posted
# at, 'token' -> the secret of its dashboard token; a second run reuses both.
DEMO_STATE = f"{PREFIX}:{{demo}}:state"

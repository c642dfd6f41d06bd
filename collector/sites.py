"""Sites: a name, a public key the snippet sends, the origins allowed to send, shard count, and
the time zone its funnels and reports count days in."""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from urllib.parse import urlsplit

import msgspec
import redis
import redis.asyncio as aioredis

from collector import keys
from collector.days import parse_zone

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
KEY_PREFIX = "ct_"
DEFAULT_PORTS = {"http": 80, "https": 443}


class SiteError(ValueError):
    """A site name, origin or key is invalid, taken or unknown."""


class Site(msgspec.Struct, frozen=True):
    name: str
    key: str
    origins: tuple[str, ...]
    shards: int = 1
    created_ms: int = 0
    time_zone: str = "UTC"  # records from before it read as UTC

    def allows(self, origin: str) -> bool:
        return origin in self.origins


_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder(Site)


def normalize_origin(raw: str) -> str:
    """`https://Shop.example:443/` -> `https://shop.example`; raise SiteError if not an origin."""
    try:
        parts = urlsplit(raw.strip())
        port = parts.port
    except ValueError as exc:
        raise SiteError(f"origin {raw!r} is not a URL: {exc}") from None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise SiteError(f"origin {raw!r} must look like https://shop.example")
    if parts.path not in {"", "/"} or parts.query or parts.fragment or parts.username:
        raise SiteError(f"origin {raw!r} must have no path, query or user")
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    suffix = f":{port}" if port and port != DEFAULT_PORTS[parts.scheme] else ""
    return f"{parts.scheme}://{host}{suffix}"


def check_name(name: str) -> str:
    if not NAME_PATTERN.match(name):
        raise SiteError(
            f"site name {name!r} must be 1-63 lowercase letters, digits or '-', "
            "starting with a letter or digit"
        )
    return name


def check_zone(zone: str) -> str:
    """The IANA name, canonical; SiteError names a bad one."""
    try:
        return parse_zone(zone).key
    except ValueError as exc:
        raise SiteError(str(exc)) from None


def new_site(name: str, origins: list[str], shards: int = 1, time_zone: str = "UTC") -> Site:
    if not origins:
        raise SiteError("a site needs at least one --origin")
    normalized = tuple(dict.fromkeys(normalize_origin(o) for o in origins))
    return Site(
        name=check_name(name),
        key=KEY_PREFIX + secrets.token_urlsafe(15).replace("-", "x").replace("_", "y"),
        origins=normalized,
        shards=shards,
        created_ms=int(time.time() * 1000),
        time_zone=check_zone(time_zone),
    )


# Both registry hashes share one hash tag, so this stays atomic on Redis Cluster too.
_ADD_SITE_LUA = """
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return 1
"""


def add_site(client: redis.Redis, site: Site) -> Site:
    """Store a new site; SiteError if the name is taken."""
    args = (site.name, site.key, _ENCODER.encode(site))
    if not client.eval(_ADD_SITE_LUA, 2, keys.SITES_BY_NAME, keys.SITES_BY_KEY, *args):
        raise SiteError(f"site {site.name!r} exists already")
    return site


def list_sites(client: redis.Redis) -> list[Site]:
    return sorted(
        (_DECODER.decode(raw) for raw in client.hvals(keys.SITES_BY_KEY)), key=lambda s: s.name
    )


def get_site(client: redis.Redis, name: str) -> Site:
    key = client.hget(keys.SITES_BY_NAME, name)
    raw = client.hget(keys.SITES_BY_KEY, key) if key else None
    if raw is None:
        raise SiteError(f"no site named {name!r}")
    return _DECODER.decode(raw)


# Only while the name still points at the key: a site removed meanwhile stays removed.
_SET_SITE_LUA = """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return 1
"""


def set_time_zone(client: redis.Redis, name: str, zone: str) -> Site:
    """Change a site's time zone; SiteError for an unknown site or zone."""
    site = msgspec.structs.replace(get_site(client, name), time_zone=check_zone(zone))
    args = (site.name, site.key, _ENCODER.encode(site))
    if not client.eval(_SET_SITE_LUA, 2, keys.SITES_BY_NAME, keys.SITES_BY_KEY, *args):
        raise SiteError(f"no site named {name!r}")
    return site


def remove_site(client: redis.Redis, name: str) -> Site:
    """Forget a site: its key stops working at once; stored events stay until expired."""
    site = get_site(client, name)
    pipe = client.pipeline(transaction=True)
    pipe.hdel(keys.SITES_BY_KEY, site.key)
    pipe.hdel(keys.SITES_BY_NAME, site.name)
    pipe.execute()
    return site


REFRESH_S = 5.0  # how stale the collector's copy of the registry may get
MISS_REFRESH_S = 1.0  # unknown keys reload at most this often, so random keys cannot flood Redis


class SiteDirectory:
    """The collector's in-memory copy of the registry, refreshed in the background of lookups."""

    def __init__(self, client: aioredis.Redis) -> None:
        self._client = client
        self._by_key: dict[str, Site] = {}
        self._loaded_at = float("-inf")
        self._lock = asyncio.Lock()  # concurrent requests share one reload

    async def lookup(self, key: str) -> Site | None:
        if self._stale(key):
            async with self._lock:
                if self._stale(key):
                    await self.reload()
        return self._by_key.get(key)

    def _stale(self, key: str) -> bool:
        age = time.monotonic() - self._loaded_at
        return age > REFRESH_S or (key not in self._by_key and age > MISS_REFRESH_S)

    async def reload(self) -> None:
        raw = await self._client.hgetall(keys.SITES_BY_KEY)
        self._by_key = {_text(k): _DECODER.decode(v) for k, v in raw.items()}
        self._loaded_at = time.monotonic()

    def any_allows(self, origin: str) -> bool:
        return any(site.allows(origin) for site in self._by_key.values())

    def sites(self) -> list[Site]:
        return list(self._by_key.values())


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value

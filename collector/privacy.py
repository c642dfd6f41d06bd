"""Who is asking, and whether we may count them: opt-out signals, client IP, visitor ids
(bots: collector.agents).

No raw IP leaves this module: it only feeds rate limiting (in memory) and a keyed daily hash.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import secrets
import time
from collections.abc import Iterable, Mapping

import redis.asyncio as aioredis

from collector import keys
from collector.days import DAY_S
from collector.setting_values import Network

MAX_KNOWN_VISITORS = 50_000  # memo of visitor ids, forgotten at midnight UTC or when full
MAX_KNOWN_BYTES = 16 * 1024 * 1024  # ... or when the strings it holds reach this many bytes
KNOWN_ENTRY_BYTES = 400  # a memo entry's tuple, strings and dict slot, besides the user agent


def opted_out(headers: Mapping[str, str], honor_dnt: bool) -> bool:
    """Global Privacy Control always; Do Not Track when configured."""
    if headers.get("sec-gpc", "").strip() == "1":
        return True
    return honor_dnt and headers.get("dnt", "").strip() == "1"


def client_ip(peer: str | None, forwarded_for: str | None, trusted: Iterable[Network]) -> str:
    """The peer address, or, when the peer is a trusted proxy, the nearest untrusted hop in
    X-Forwarded-For (read right to left, as each proxy appends)."""
    trusted = tuple(trusted)
    if not peer or not forwarded_for or not in_networks(peer, trusted):
        return peer or ""
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if not in_networks(hop, trusted):
            return hop
    return hops[0] if hops else peer


def in_networks(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


class VisitorHasher:
    """Visitor id = HMAC(daily random salt, site|ip|user agent); salts expire after 48 h,
    so ids cannot be linked across days nor reversed to an address."""

    def __init__(self, client: aioredis.Redis) -> None:
        self._client = client
        self._day_ends = 0.0  # epoch seconds of the next UTC midnight, when the salt changes
        self._salt = b""
        self._known: dict[tuple[str, str, str], str] = {}  # today's ids of recent visitors
        self._known_bytes = 0  # strangers' strings: the memo is bounded in bytes too
        self._lock = asyncio.Lock()  # one salt fetch at a time, not one per waiting request

    async def visitor_id(self, site: str, ip: str, user_agent: str) -> str:
        if time.time() >= self._day_ends:
            async with self._lock:
                now = time.time()
                if now >= self._day_ends:
                    day = time.strftime("%Y%m%d", time.gmtime(now))
                    self._salt = await self._salt_of(day)
                    self._forget()
                    self._day_ends = (now // DAY_S + 1) * DAY_S
        visitor = (site, ip, user_agent)
        known = self._known.get(visitor)
        if known is None:
            message = f"{site}|{ip}|{user_agent}".encode()
            known = hmac.new(self._salt, message, hashlib.sha256).hexdigest()[:16]
            if len(self._known) >= MAX_KNOWN_VISITORS or self._known_bytes >= MAX_KNOWN_BYTES:
                self._forget()
            self._known[visitor] = known
            self._known_bytes += len(user_agent) + KNOWN_ENTRY_BYTES
        return known

    def _forget(self) -> None:
        self._known.clear()
        self._known_bytes = 0

    async def _salt_of(self, day: str) -> bytes:
        key = keys.visitor_salt(day)
        # Every collector must agree on the day's salt: the first one to ask makes it.
        await self._client.set(key, secrets.token_bytes(32), nx=True, ex=keys.SALT_TTL_S)
        salt = await self._client.get(key)
        if not isinstance(salt, bytes):
            raise RuntimeError(f"visitor salt {key} vanished; is Redis evicting keys?")
        return salt

"""Read API tokens: made by `clicktrail token create`, shown once, stored only as a SHA-256 hash.

A token is 32 random bytes, so a plain hash is as strong as a slow one here (no dictionary to
try), and checking it costs one HGET. A token may be limited to some sites; others are hidden
from it as if they did not exist.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from dataclasses import dataclass

import redis

from collector import keys

PREFIX = "ctt_"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._@-]{0,63}")


class TokenError(ValueError):
    """A bad token name or an unknown token id."""


@dataclass(frozen=True)
class Token:
    id: str  # first 12 hex digits of the hash: enough to name it in `token list` and `revoke`
    name: str
    sites: tuple[str, ...]  # empty: every site
    created_ms: int

    def can_see(self, site: str) -> bool:
        return not self.sites or site in self.sites


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(client: redis.Redis, name: str, sites: tuple[str, ...] = ()) -> tuple[str, Token]:
    """A new token: the secret (to show once) and its record."""
    if not _NAME.fullmatch(name):
        raise TokenError(
            f"token name must be 1 to 64 letters, digits, spaces or ._@- and start with a letter "
            f"or digit, not {name!r}"
        )
    secret = PREFIX + secrets.token_urlsafe(32)
    hashed = digest(secret)
    token = Token(hashed[:12], name, tuple(sorted(set(sites))), int(time.time() * 1000))
    record = {"name": token.name, "sites": list(token.sites), "created_ms": token.created_ms}
    client.hset(keys.API_TOKENS, hashed, json.dumps(record))
    return secret, token


def find_token(client: redis.Redis, secret: str) -> Token | None:
    """The token `secret` names, or None (also for anything that is not a token's shape)."""
    if not secret.startswith(PREFIX) or len(secret) > 100:
        return None
    hashed = digest(secret)
    raw = client.hget(keys.API_TOKENS, hashed)
    return _token(hashed, raw) if raw is not None else None


def list_tokens(client: redis.Redis) -> list[Token]:
    records = client.hgetall(keys.API_TOKENS)
    tokens = [_token(_text(hashed), raw) for hashed, raw in records.items()]
    return sorted(tokens, key=lambda t: (t.created_ms, t.id))


def revoke_token(client: redis.Redis, token_id: str) -> Token:
    """Forget the token whose id (or a longer prefix of its hash) is `token_id`."""
    matches = [
        _text(hashed)
        for hashed in client.hkeys(keys.API_TOKENS)
        if len(token_id) >= 6 and _text(hashed).startswith(token_id)
    ]
    if len(matches) != 1:
        found = "no token" if not matches else f"{len(matches)} tokens"
        raise TokenError(f"{found} with id {token_id!r}; `clicktrail token list` shows the ids")
    raw = client.hget(keys.API_TOKENS, matches[0])
    client.hdel(keys.API_TOKENS, matches[0])
    return _token(matches[0], raw or b"{}")


def _token(hashed: str, raw: bytes | str) -> Token:
    record = json.loads(raw)
    return Token(
        hashed[:12],
        str(record.get("name", "")),
        tuple(record.get("sites", ())),
        int(record.get("created_ms", 0)),
    )


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value

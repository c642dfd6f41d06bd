"""Reading the event streams through a consumer group, and committing what was made of them.

Exactly once, in effect: a worker turns a run of entries into counter increments and commits
them with one script that first checks the entries are still pending (not committed by a worker
that reclaimed them meanwhile), then acknowledges them and applies the increments, atomically.
A worker killed before its commit leaves the entries pending; another reclaims them after
`claim_idle_ms` and does the work again. Entries that cannot be processed go to the shard's
dead-letter stream with the reason, acknowledged in the same commit.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import msgspec
import redis

from collector import keys
from collector.schema import Event, StoredHeader, decode_stored

log = logging.getLogger(__name__)

# An entry delivered this often without a commit is poison (it crashes whoever takes it) and is
# dead-lettered. High enough that a run of worker crashes (OOM kills, deploys) is not mistaken
# for poison: the SIGKILL test kills five workers in a row on the same entries.
MAX_DELIVERIES = 10

# KEYS: stream, dead-letter stream, then the keys written.
# ARGV: group, n ids, ids..., n increments, (key index, field, amount)..., n expiries,
# (key index, ttl_s)..., n dead, (id, reason)..., n appends, (key index, bytes)...,
# n raises, (key index, member, score)..., n deepest, (histogram key index, peak key index,
# member, bucket, n firsts, (field, amount)...)..., n counted, (key index, member)...
# Returns the ids that are no longer pending (nothing applied then), or an empty list.
COMMIT_LUA = """
local stream, group = KEYS[1], ARGV[1]
local n = tonumber(ARGV[2])
local ids, gone = {}, {}
for i = 1, n do
  local id = ARGV[2 + i]
  ids[i] = id
  if #redis.call('XPENDING', stream, group, id, id, 1) == 0 then gone[#gone + 1] = id end
end
if #gone > 0 then return gone end
local pos = 3 + n
local count = tonumber(ARGV[pos])
pos = pos + 1
for i = 1, count do
  redis.call('HINCRBY', KEYS[tonumber(ARGV[pos])], ARGV[pos + 1], ARGV[pos + 2])
  pos = pos + 3
end
count = tonumber(ARGV[pos])
pos = pos + 1
local expire_from = pos  -- applied last: EXPIRE on a key not made yet does nothing
pos = pos + 2 * count
local expiries = count
count = tonumber(ARGV[pos])
pos = pos + 1
for i = 1, count do
  redis.call('XADD', KEYS[2], '*', 'entry', ARGV[pos], 'group', group, 'reason', ARGV[pos + 1])
  pos = pos + 2
end
count = tonumber(ARGV[pos])
pos = pos + 1
for i = 1, count do
  redis.call('APPEND', KEYS[tonumber(ARGV[pos])], ARGV[pos + 1])
  pos = pos + 2
end
count = tonumber(ARGV[pos])
pos = pos + 1
for i = 1, count do
  redis.call('ZADD', KEYS[tonumber(ARGV[pos])], 'GT', ARGV[pos + 2], ARGV[pos + 1])
  pos = pos + 3
end
count = tonumber(ARGV[pos])
pos = pos + 1
for i = 1, count do
  local hist, peaks = KEYS[tonumber(ARGV[pos])], KEYS[tonumber(ARGV[pos + 1])]
  local member, bucket = ARGV[pos + 2], tonumber(ARGV[pos + 3])
  local firsts = tonumber(ARGV[pos + 4])
  local old = tonumber(redis.call('HGET', peaks, member))
  if old == nil then
    redis.call('HINCRBY', hist, bucket, 1)
    for j = 0, firsts - 1 do
      redis.call('HINCRBY', hist, ARGV[pos + 5 + 2 * j], ARGV[pos + 6 + 2 * j])
    end
    redis.call('HSET', peaks, member, bucket)
  elseif old < bucket and tonumber(redis.call('HGET', hist, old) or '0') > 0 then
    -- a move never takes a bucket below zero: a peak whose count is not there is refused
    redis.call('HINCRBY', hist, old, -1)
    redis.call('HINCRBY', hist, bucket, 1)
    redis.call('HSET', peaks, member, bucket)
  end
  pos = pos + 5 + 2 * firsts
end
count = tonumber(ARGV[pos])
pos = pos + 1
for i = 1, count do
  redis.call('PFADD', KEYS[tonumber(ARGV[pos])], ARGV[pos + 1])
  pos = pos + 2
end
for i = 0, expiries - 1 do
  redis.call('EXPIRE', KEYS[tonumber(ARGV[expire_from + 2 * i])], ARGV[expire_from + 2 * i + 1])
end
if n > 0 then redis.call('XACK', stream, group, unpack(ids)) end
return {}
"""
COMMIT_SHA = hashlib.sha1(COMMIT_LUA.encode()).hexdigest()

# Trim what every consumer group of the stream has acknowledged: below the oldest entry still
# pending in any group, and below what any group has yet to read.
TRIM_LUA = """
local function before(a, b)
  local am, as = string.match(a, '(%d+)-(%d+)')
  local bm, bs = string.match(b, '(%d+)-(%d+)')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am < bm or (am == bm and as < bs)
end
local stream, floor = KEYS[1], nil
for _, info in ipairs(redis.call('XINFO', 'GROUPS', stream)) do
  local name, pending, bound
  for i = 1, #info, 2 do
    if info[i] == 'name' then name = info[i + 1]
    elseif info[i] == 'pending' then pending = info[i + 1]
    elseif info[i] == 'last-delivered-id' then bound = info[i + 1] end
  end
  if pending > 0 then bound = redis.call('XPENDING', stream, name)[2] end
  if floor == nil or before(bound, floor) then floor = bound end
end
if floor == nil then return 0 end
return redis.call('XTRIM', stream, 'MINID', floor)
"""

Entry = tuple[str, dict[bytes, bytes]]


@dataclass(frozen=True)
class DeepestBucket:
    """Keep the deepest bucket per member: the member counts once in a histogram hash, in the
    highest bucket reported for it so far, which the peak hash remembers. A deeper report moves
    the count from the old bucket to the new one, unless the old bucket holds nothing (then the
    move is refused: no bucket ever goes below zero). `firsts` are (field, amount) added to the
    histogram hash the first time the member is counted, never again."""

    bucket: int
    firsts: tuple[tuple[str, int], ...] = ()


@dataclass
class Commit:
    """What one run of entries adds up to."""

    entry_ids: list[str]
    increments: dict[tuple[str, str], int] = field(default_factory=dict)  # (key, field) -> n
    expiries: dict[str, int] = field(default_factory=dict)  # key -> ttl_s
    dead: list[tuple[str, str]] = field(default_factory=list)  # (entry id, reason)
    appends: dict[str, bytes] = field(default_factory=dict)  # key -> bytes to append
    raises: dict[tuple[str, str], int] = field(default_factory=dict)  # (zset, member) -> score,
    # applied only when higher than the member's current score (ZADD GT)
    # (histogram, peak hash, member) -> its deepest bucket: see DeepestBucket
    deepest: dict[tuple[str, str, str], DeepestBucket] = field(default_factory=dict)
    # (HyperLogLog, member): distinct members counted (PFADD); twice is the same as once
    counted: set[tuple[str, str]] = field(default_factory=set)


def decoded(entries: list[Entry], commit: Commit) -> Iterator[tuple[StoredHeader, list[Event]]]:
    """Header and new events of each entry, recorded in `commit` as done; entries that cannot
    be decoded are recorded as dead letters instead (and skipped)."""
    for entry_id, fields in entries:
        try:
            header, events = decode_stored(fields)
        except (KeyError, msgspec.DecodeError, msgspec.ValidationError) as exc:
            commit.dead.append((entry_id, f"cannot decode: {exc}"))
            continue
        commit.entry_ids.append(entry_id)
        yield header, events


def consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{os.urandom(3).hex()}"


class StreamReader:
    """One consumer of one group over the stream shards it is given."""

    def __init__(
        self, client: redis.Redis, group: str, name: str | None = None, claim_idle_ms: int = 30_000
    ) -> None:
        self.client = client
        self.group = group
        self.name = name or consumer_name()
        self.claim_idle_ms = claim_idle_ms
        self._groups_made: set[str] = set()

    def ensure_group(self, stream: str) -> None:
        if stream in self._groups_made:
            return
        try:
            self.client.xgroup_create(stream, self.group, id="0", mkstream=True)
        except redis.exceptions.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._groups_made.add(stream)

    def read(self, stream: str, count: int) -> list[Entry]:
        """New entries for this consumer (not blocking)."""
        self.ensure_group(stream)
        reply: Any = self.client.xreadgroup(self.group, self.name, {stream: ">"}, count=count)
        return [(_text(i), f) for _, entries in reply for i, f in entries] if reply else []

    def read_own(self, stream: str, count: int) -> list[Entry]:
        """Entries this consumer read earlier and has not committed (say, Redis went away
        between its read and its commit): its own, so no need to wait for claim_idle_ms."""
        self.ensure_group(stream)
        reply: Any = self.client.xreadgroup(self.group, self.name, {stream: "0"}, count=count)
        entries = [(_text(i), f) for _, entries in reply for i, f in entries if f] if reply else []
        if entries:
            log.info("taking up %d entries of %s read before an outage", len(entries), stream)
        return entries

    def reclaim(self, stream: str, count: int) -> tuple[list[Entry], list[str]]:
        """Entries left pending by consumers idle for claim_idle_ms, taken over by this one;
        and the ids of poison entries among them (delivered MAX_DELIVERIES times already)."""
        self.ensure_group(stream)
        stale: Any = self.client.xpending_range(
            stream, self.group, "-", "+", count, idle=self.claim_idle_ms
        )
        if not stale:
            return [], []
        poison = [_text(s["message_id"]) for s in stale if s["times_delivered"] >= MAX_DELIVERIES]
        retry = [_text(s["message_id"]) for s in stale if s["times_delivered"] < MAX_DELIVERIES]
        claimed: Any = self.client.xclaim(
            stream, self.group, self.name, self.claim_idle_ms, [*retry, *poison]
        )
        entries = [(_text(i), f) for i, f in claimed if f is not None]
        if entries:
            log.info("reclaimed %d entries of %s", len(entries), stream)
        return [e for e in entries if e[0] not in poison], poison

    def commit(self, stream: str, dead_stream: str, commit: Commit) -> list[str]:
        """Apply and acknowledge atomically; returns the ids another worker committed first
        (then nothing was applied: drop them and commit the rest again)."""
        counter_keys = list(
            dict.fromkeys(
                [key for key, _ in commit.increments]
                + list(commit.expiries)
                + list(commit.appends)
                + [key for key, _ in commit.raises]
                + [key for hist_peak in commit.deepest for key in hist_peak[:2]]
                + [key for key, _ in commit.counted]
            )
        )
        index = {key: i + 3 for i, key in enumerate(counter_keys)}  # Lua counts from 1
        ids = commit.entry_ids + [entry_id for entry_id, _ in commit.dead]
        args: list[str | int | bytes] = [self.group, len(ids), *ids, len(commit.increments)]
        for (key, name), amount in commit.increments.items():
            args += [index[key], name, amount]
        args.append(len(commit.expiries))
        for key, ttl in commit.expiries.items():
            args += [index[key], ttl]
        args.append(len(commit.dead))
        for entry_id, reason in commit.dead:
            args += [entry_id, reason]
        args.append(len(commit.appends))
        for key, data in commit.appends.items():
            args += [index[key], data]
        args.append(len(commit.raises))
        for (key, member), score in commit.raises.items():
            args += [index[key], member, score]
        args.append(len(commit.deepest))
        for (hist, peaks, member), deepest in commit.deepest.items():
            args += [index[hist], index[peaks], member, deepest.bucket, len(deepest.firsts)]
            args += [part for first in deepest.firsts for part in first]
        args.append(len(commit.counted))
        for key, member in sorted(commit.counted):
            args += [index[key], member]
        script_keys = [stream, dead_stream, *counter_keys]
        try:
            gone: Any = self.client.evalsha(COMMIT_SHA, len(script_keys), *script_keys, *args)
        except redis.exceptions.NoScriptError:
            gone = self.client.eval(COMMIT_LUA, len(script_keys), *script_keys, *args)
        return [_text(g) for g in gone]

    def trim(self, stream: str) -> int:
        return int(self.client.eval(TRIM_LUA, 1, stream))


def shard_streams(sites: Iterable[tuple[str, int]]) -> list[tuple[str, str]]:
    """(stream, dead-letter stream) of every shard of the given (site, shard count) pairs."""
    return [
        (keys.events_stream(site, shard), keys.dead_letters(site, shard))
        for site, shards in sites
        for shard in range(shards)
    ]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value

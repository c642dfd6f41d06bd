"""The event store: one stream entry per accepted batch, deduplicated by event id.

A Lua script stores batches atomically, one after the other: it refuses a batch when the shard's
backlog is over its bound, looks up which of its event ids were stored before, appends the batch
as one entry that names those duplicates (readers skip them), then records the new ids.
Recording after appending means a failed append never marks an id as seen.

Concurrent requests are stored together: `BatchWriter` sends one script call per stream shard
with every batch waiting for it, the calls of different shards concurrently.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import zlib
from collections import defaultdict
from dataclasses import dataclass

import redis.asyncio as aioredis
import redis.exceptions

from collector import keys
from collector.days import DAY_MS
from collector.schema import Batch, StoredHeader, encode_events, encode_header
from collector.sites import Site

log = logging.getLogger(__name__)

DEDUP_SLACK_S = 3600
CONCURRENT_CALLS = 16  # store-script calls in flight at once (half the pool: other commands)
BUFFER_FULL = -1  # script result for a batch: the shard is over its backlog bound
REDIS_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)

# KEYS: the shard's stream, then the seen-id sets the batches use.
# ARGV: backlog bound, then per batch: header, events (one msgpack blob), bucket count, and per
# bucket: index of its set in KEYS, ttl_s, its ids joined by ','.
# Few, large arguments: redis-py packs each one in Python, and that cost 14 % of a request when
# every event was an argument of its own.
STORE_BATCHES_LUA = """
local stream, bound = KEYS[1], tonumber(ARGV[1])
local length = redis.call('XLEN', stream)
local results = {}
local pos = 2
while pos <= #ARGV do
  local header, events, buckets = ARGV[pos], ARGV[pos + 1], tonumber(ARGV[pos + 2])
  pos = pos + 3
  if length >= bound then
    results[#results + 1] = -1
    pos = pos + 3 * buckets
  else
    local dups, fresh, total = {}, {}, 0
    for b = 1, buckets do
      local set, ttl, ids = KEYS[tonumber(ARGV[pos])], ARGV[pos + 1], {}
      for id in string.gmatch(ARGV[pos + 2], '[^,]+') do ids[#ids + 1] = id end
      pos = pos + 3
      local present = redis.call('SMISMEMBER', set, unpack(ids))
      local new = {}
      for j = 1, #ids do
        if present[j] == 1 then dups[#dups + 1] = ids[j] else new[#new + 1] = ids[j] end
      end
      fresh[b] = {set, ttl, new}
      total = total + #new
    end
    if total > 0 then
      if #dups > 0 then
        redis.call('XADD', stream, '*', 'h', header, 'e', events, 'd', table.concat(dups, ','))
      else
        redis.call('XADD', stream, '*', 'h', header, 'e', events)
      end
      length = length + 1
      for _, entry in ipairs(fresh) do
        if #entry[3] > 0 then
          redis.call('SADD', entry[1], unpack(entry[3]))
          redis.call('EXPIRE', entry[1], entry[2])
        end
      end
    end
    results[#results + 1] = total
  end
end
return results
"""
STORE_BATCHES_SHA = hashlib.sha1(STORE_BATCHES_LUA.encode()).hexdigest()

ScriptArg = bytes | str | int


class BufferFullError(Exception):
    """The shard's stream holds more unprocessed batches than allowed."""


@dataclass(frozen=True)
class PreparedBatch:
    stream: str
    header: bytes
    events: bytes
    buckets: list[tuple[str, int, str]]  # seen-id set, its ttl_s, the batch's ids in it


def shard_of(session_id: str, shards: int) -> int:
    """Every event of a session lands in the same shard, so workers see sessions whole."""
    return zlib.crc32(session_id.encode()) % shards


def prepare_batch(site: Site, batch: Batch, header: StoredHeader, max_age_s: int) -> PreparedBatch:
    """What the store script needs of one validated batch."""
    shard = shard_of(batch.sid, site.shards)
    times = [event.ts for event in batch.events]
    first_day = min(times) // DAY_MS
    by_day: dict[int, list[str]]
    if max(times) // DAY_MS == first_day:  # nearly always: one day, no loop
        by_day = {first_day: [event.id for event in batch.events]}
    else:
        by_day = defaultdict(list)
        for event in batch.events:
            by_day[event.ts // DAY_MS].append(event.id)
    buckets = []
    for day, ids in by_day.items():
        # A retry is accepted until its events are max_age old (client clock), so the ids of a
        # day must be remembered until then.
        ttl_s = ((day + 1) * DAY_MS - batch.sent_at) // 1000 + max_age_s + DEDUP_SLACK_S
        buckets.append(
            (keys.seen_ids(site.name, shard, day), max(ttl_s, DEDUP_SLACK_S), ",".join(ids))
        )  # ids are tokens: no commas
    return PreparedBatch(
        keys.events_stream(site.name, shard),
        encode_header(header),
        encode_events(batch.events),
        buckets,
    )


def script_call(batches: list[PreparedBatch], bound: int) -> tuple[list[str], list[ScriptArg]]:
    """KEYS and ARGV of one store-script call for batches of the same stream shard."""
    script_keys = [batches[0].stream]
    index: dict[str, int] = {}
    args: list[ScriptArg] = [bound]
    for batch in batches:
        args += [batch.header, batch.events, len(batch.buckets)]
        for seen, ttl_s, ids in batch.buckets:
            if seen not in index:
                script_keys.append(seen)
                index[seen] = len(script_keys)  # Lua counts from 1
            args += [index[seen], ttl_s, ids]
    return script_keys, args


Waiting = tuple[PreparedBatch, "asyncio.Future[int]"]


class BatchWriter:
    """Stores the batches of concurrent requests: one script call per stream shard, the calls of
    different shards concurrently."""

    def __init__(self, client: aioredis.Redis, buffer_max: int, max_batches: int = 256) -> None:
        self._client = client
        self._buffer_max = buffer_max
        self._max_batches = max_batches
        self._pending: list[Waiting] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._slots = asyncio.Semaphore(CONCURRENT_CALLS)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="clicktrail-batch-writer")

    async def close(self) -> None:
        """Store what is queued, then stop."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task

    async def write(self, prepared: PreparedBatch) -> int:
        """Store one batch; returns how many events were new. Raises BufferFullError or a
        redis ConnectionError/TimeoutError."""
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._pending.append((prepared, future))
        self._wake.set()
        return await future

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                waiting = self._pending[: self._max_batches]
                del self._pending[: self._max_batches]
                await self._flush(waiting)
            if self._closing:
                return

    async def _flush(self, waiting: list[Waiting]) -> None:
        by_stream: dict[str, list[Waiting]] = defaultdict(list)
        for item in waiting:
            by_stream[item[0].stream].append(item)
        groups = list(by_stream.values())
        results: list[object]
        try:
            results = await self._execute([[p for p, _ in group] for group in groups])
        except REDIS_DOWN as exc:
            log.warning("Redis unreachable, %d batches refused: %s", len(waiting), exc)
            results = [exc] * len(groups)
        except Exception as exc:  # every waiting request must get an answer
            log.exception("storing %d batches failed", len(waiting))
            results = [exc] * len(groups)
        for group, result in zip(groups, results, strict=True):
            for index, (_, future) in enumerate(group):
                if not future.done():  # done: the request was cancelled (client went away)
                    _settle(future, result[index] if isinstance(result, list) else result)

    async def _execute(self, groups: list[list[PreparedBatch]]) -> list[object]:
        results = await self._calls(groups)
        missing = [
            i for i, r in enumerate(results) if isinstance(r, redis.exceptions.NoScriptError)
        ]
        if missing:  # a restarted Redis has an empty script cache
            await self._client.script_load(STORE_BATCHES_LUA)
            retried = await self._calls([groups[i] for i in missing])
            for i, result in zip(missing, retried, strict=True):
                results[i] = result
        return results

    async def _calls(self, groups: list[list[PreparedBatch]]) -> list[object]:
        # One call per shard, concurrently: a Redis Cluster client routes each to its node
        # (it refuses EVALSHA in pipelines), and with one shard per site it is a single call.
        # At most CONCURRENT_CALLS at once: the cluster client fails, rather than waits, when
        # a node's connections run out.
        async def call(group: list[PreparedBatch]) -> object:
            script_keys, args = script_call(group, self._buffer_max)
            async with self._slots:
                return await self._client.evalsha(
                    STORE_BATCHES_SHA, len(script_keys), *script_keys, *args
                )

        return list(await asyncio.gather(*map(call, groups), return_exceptions=True))


def _settle(future: asyncio.Future[int], result: object) -> None:
    if isinstance(result, BaseException):
        future.set_exception(result)
    elif result == BUFFER_FULL:
        future.set_exception(BufferFullError())
    elif isinstance(result, int):
        future.set_result(result)
    else:
        future.set_exception(TypeError(f"store script answered {result!r}"))

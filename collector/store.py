"""The event store: one stream entry per accepted batch, deduplicated by event id.

A Lua script stores a batch atomically: it refuses when the shard's backlog is over its bound,
drops events whose ids were stored before, appends the rest as one entry, then records their ids.
Recording after appending means a failed append never marks an id as seen.
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
from collector.schema import Batch, StoredHeader, encode_event, encode_header
from collector.sites import Site

log = logging.getLogger(__name__)

DAY_MS = 86_400_000
DEDUP_SLACK_S = 3600
BUFFER_FULL = -1  # script result: the shard is over its backlog bound

# KEYS: stream, then one seen-set per day bucket.
# ARGV: bound, header, then per bucket: ttl_s, count, then count x (id, payload).
STORE_BATCH_LUA = """
local stream = KEYS[1]
if redis.call('XLEN', stream) >= tonumber(ARGV[1]) then return -1 end
local fields = {'h', ARGV[2]}
local fresh = {}
local pos = 3
for b = 2, #KEYS do
  local ttl, count = ARGV[pos], tonumber(ARGV[pos + 1])
  pos = pos + 2
  local ids = {}
  for j = 1, count do ids[j] = ARGV[pos + 2 * (j - 1)] end
  local present = redis.call('SMISMEMBER', KEYS[b], unpack(ids))
  local new = {}
  for j = 1, count do
    if present[j] == 0 then
      new[#new + 1] = ids[j]
      fields[#fields + 1] = ids[j]
      fields[#fields + 1] = ARGV[pos + 2 * (j - 1) + 1]
    end
  end
  fresh[b] = {ttl, new}
  pos = pos + 2 * count
end
if #fields == 2 then return 0 end
redis.call('XADD', stream, '*', unpack(fields))
for b, entry in pairs(fresh) do
  if #entry[2] > 0 then
    redis.call('SADD', KEYS[b], unpack(entry[2]))
    redis.call('EXPIRE', KEYS[b], entry[1])
  end
end
return (#fields - 2) / 2
"""
STORE_BATCH_SHA = hashlib.sha1(STORE_BATCH_LUA.encode()).hexdigest()


class BufferFullError(Exception):
    """The shard's stream holds more unprocessed batches than allowed."""


@dataclass(frozen=True)
class PreparedBatch:
    keys: list[str]
    args: list[bytes | str | int]


def shard_of(session_id: str, shards: int) -> int:
    """Every event of a session lands in the same shard, so workers see sessions whole."""
    return zlib.crc32(session_id.encode()) % shards


def prepare_batch(
    site: Site, batch: Batch, header: StoredHeader, buffer_max: int, max_age_s: int
) -> PreparedBatch:
    """Keys and arguments of the store script for one validated batch."""
    shard = shard_of(batch.sid, site.shards)
    by_day: dict[int, list[tuple[str, bytes]]] = defaultdict(list)
    for event in batch.events:
        by_day[event.ts // DAY_MS].append((event.id, encode_event(event)))
    script_keys = [keys.events_stream(site.name, shard)]
    args: list[bytes | str | int] = [buffer_max, encode_header(header)]
    for day, events in by_day.items():
        # A retry is accepted until its events are max_age old (client clock), so the ids of a
        # day must be remembered until then.
        ttl_s = ((day + 1) * DAY_MS - batch.sent_at) // 1000 + max_age_s + DEDUP_SLACK_S
        script_keys.append(keys.seen_ids(site.name, shard, day))
        args += [max(ttl_s, DEDUP_SLACK_S), len(events)]
        for event_id, payload in events:
            args += [event_id, payload]
    return PreparedBatch(script_keys, args)


class BatchWriter:
    """Stores the batches of concurrent requests with one pipelined round trip to Redis."""

    def __init__(self, client: aioredis.Redis, max_pipeline: int = 512) -> None:
        self._client = client
        self._max_pipeline = max_pipeline
        self._pending: list[tuple[PreparedBatch, asyncio.Future[int]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False

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
                items = self._pending[: self._max_pipeline]
                del self._pending[: self._max_pipeline]
                await self._flush(items)
            if self._closing:
                return

    async def _flush(self, items: list[tuple[PreparedBatch, asyncio.Future[int]]]) -> None:
        try:
            results = await self._execute([p for p, _ in items])
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError) as exc:
            log.warning("Redis unreachable, %d batches refused: %s", len(items), exc)
            for _, future in items:
                if not future.done():
                    future.set_exception(exc)
            return
        except Exception as exc:  # never leave a request hanging
            log.exception("storing %d batches failed", len(items))
            for _, future in items:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), result in zip(items, results, strict=True):
            if future.done():
                continue  # the request was cancelled (client went away)
            if isinstance(result, Exception):
                future.set_exception(result)
            elif result == BUFFER_FULL:
                future.set_exception(BufferFullError())
            elif isinstance(result, int):
                future.set_result(result)
            else:
                future.set_exception(TypeError(f"store script answered {result!r}"))

    async def _execute(self, batches: list[PreparedBatch]) -> list[object]:
        results = await self._pipeline(batches)
        missing = [
            i for i, r in enumerate(results) if isinstance(r, redis.exceptions.NoScriptError)
        ]
        if missing:  # a restarted Redis has an empty script cache
            await self._client.script_load(STORE_BATCH_LUA)
            retried = await self._pipeline([batches[i] for i in missing])
            for i, result in zip(missing, retried, strict=True):
                results[i] = result
        return results

    async def _pipeline(self, batches: list[PreparedBatch]) -> list[object]:
        pipe = self._client.pipeline(transaction=False)
        for batch in batches:
            pipe.evalsha(STORE_BATCH_SHA, len(batch.keys), *batch.keys, *batch.args)
        return list(await pipe.execute(raise_on_error=False))

"""The store script and the batch writer, against a real Redis."""

from __future__ import annotations

import asyncio
import json

import redis

from collector import keys
from collector.batch_writer import (
    BatchWriter,
    BufferFullError,
    prepare_batch,
    script_call,
    shard_of,
)
from collector.connections import async_client
from collector.schema import StoredHeader, decode_batch, decode_stored
from collector.sites import Site, add_site, new_site
from tests.factories import batch, click, now_ms, stream_entries

DAY_MS = 86_400_000
MAX_AGE_S = 48 * 3600


def prepared(site: Site, events: list[dict[str, object]], sid: str = "session-1"):
    body = json.dumps(batch(site.key, events, sid=sid)).encode()
    parsed = decode_batch(body, 200, MAX_AGE_S * 1000)
    header = StoredHeader(v=1, site=site.name, sid=sid, vid="v", recv=now_ms(), skew=0)
    return prepare_batch(site, parsed, header, MAX_AGE_S)


def write_all(redis_url: str, batches: list, buffer_max: int = 1000) -> list[object]:
    async def run() -> list[object]:
        client = async_client(redis_url)
        writer = BatchWriter(client, buffer_max)
        writer.start()
        try:
            return await asyncio.gather(*(writer.write(b) for b in batches), return_exceptions=True)
        finally:
            await writer.close()
            await client.aclose()

    return asyncio.run(run())


def test_concurrent_batches_sharing_ids_store_each_event_once(
    redis_url: str, redis_client: redis.Redis, site: Site
) -> None:
    shared = [click(id=f"shared-{i:03d}") for i in range(3)]
    first = prepared(site, [*shared, click(id="only-in-first")])
    second = prepared(site, [*shared, click(id="only-in-second")])
    assert write_all(redis_url, [first, second]) == [4, 1]
    entries = stream_entries(redis_client, keys.events_stream("shop", 0))
    ids = [e.id for entry in entries for e in decode_stored(entry[1])[1]]
    assert sorted(ids) == sorted([*(e["id"] for e in shared), "only-in-first", "only-in-second"])
    assert entries[1][1][b"d"] == b"shared-000,shared-001,shared-002"


def test_one_call_per_shard_carries_every_waiting_batch(site: Site) -> None:
    a, b = prepared(site, [click()]), prepared(site, [click(), click()])
    script_keys, args = script_call([a, b], bound=99)
    assert script_keys == [a.stream, a.buckets[0][0]]  # one seen set, shared
    assert args[0] == 99
    assert args[1:4] == [a.header, a.events, 1]
    assert args[4] == 2  # index of the set in KEYS, counted from 1 as Lua does


def test_events_of_two_days_are_remembered_in_two_sets(site: Site) -> None:
    now = now_ms()
    events = [click(ts=now), click(ts=now - DAY_MS)]
    body = json.dumps(batch(site.key, events, sent_at=now)).encode()
    parsed = decode_batch(body, 200, MAX_AGE_S * 1000)
    header = StoredHeader(v=1, site="shop", sid="s", vid="", recv=now, skew=0)
    result = prepare_batch(site, parsed, header, MAX_AGE_S)
    days = sorted(int(seen.rsplit(":", 1)[1]) for seen, _, _ in result.buckets)
    assert days == [now // DAY_MS - 1, now // DAY_MS]
    for seen, ttl_s, _ in result.buckets:
        # A day's ids live until its last event may no longer be retried: day end + max age.
        day_end_ms = (int(seen.rsplit(":", 1)[1]) + 1) * DAY_MS
        assert now + ttl_s * 1000 >= day_end_ms + MAX_AGE_S * 1000


def test_a_shard_over_its_bound_refuses_only_the_batches_past_it(
    redis_url: str, redis_client: redis.Redis, site: Site
) -> None:
    results = write_all(redis_url, [prepared(site, [click()]) for _ in range(3)], buffer_max=2)
    assert results[:2] == [1, 1]
    assert isinstance(results[2], BufferFullError)
    assert redis_client.xlen(keys.events_stream("shop", 0)) == 2


def test_unreachable_redis_fails_every_waiting_batch(site: Site) -> None:
    results = write_all("redis://127.0.0.1:1/0", [prepared(site, [click()]) for _ in range(3)])
    assert all(isinstance(r, redis.exceptions.ConnectionError) for r in results)


def test_a_session_always_maps_to_the_same_shard(redis_client: redis.Redis) -> None:
    assert {shard_of("session-42", 8) for _ in range(5)} == {shard_of("session-42", 8)}
    assert len({shard_of(f"s{i}", 8) for i in range(200)}) == 8
    big = add_site(redis_client, new_site("big", ["https://big.example"], shards=8))
    assert prepared(big, [click()], sid="session-42").stream == keys.events_stream(
        "big", shard_of("session-42", 8)
    )

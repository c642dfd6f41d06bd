"""Where one `POST /e` batch's CPU goes outside the HTTP server, part by part.

    .venv/bin/python bench/ingest_parts.py [--reps 5]
    .venv/bin/python bench/ingest_parts.py --smoke     # CI: 1 rep, a tenth of the calls

Times, in this process, what the collector does to the batch bench/ingest.py posts (20 clicks):
decoding and checking it, preparing the store script's arguments, and the store-script call
through redis-py's asyncio client (the collector's client) with 1, 5 and 25 batches a call,
against the embedded Redis. Then Redis's own time per batch, by command, from INFO
commandstats. Medians of the reps; CPU time, not wall time, where the process is ours.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import time
import timeit
from collections.abc import Callable
from pathlib import Path

import redis

from collector.batch_writer import (
    STORE_BATCHES_LUA,
    STORE_BATCHES_SHA,
    PreparedBatch,
    prepare_batch,
    script_call,
)
from collector.connections import async_client
from collector.embedded import EmbeddedRedis
from collector.schema import SCHEMA_VERSION, Batch, StoredHeader, decode_batch
from collector.sites import new_site

ROOT = Path(__file__).resolve().parent.parent

OUT = ROOT / "bench-out" / "ingest-parts"
MAX_EVENTS = 100
MAX_AGE_S = 86_400
SITE = new_site("shop", ["https://shop.example"])
SMOKE_SHARE = 10  # --smoke makes a tenth of the calls


def body(number: int, now_ms: int) -> bytes:
    """A batch like bench/post_batch.lua's: 20 clicks with fresh ids."""
    events = [
        {
            "t": "click",
            "id": f"b{number:010x}{i:02d}",
            "ts": now_ms,
            "p": "/cart",
            "pv": f"v{number % 97}",
            "x": (number * 37 + i * 11) % 1280,
            "y": (number * 53 + i * 7) % 4000,
            "vw": 1280,
            "vh": 800,
        }
        for i in range(20)
    ]
    batch = {"site": "k" * 22, "sid": f"s{number % 5000}", "sent_at": now_ms, "events": events}
    return json.dumps(batch).encode()


def header(now_ms: int) -> StoredHeader:
    return StoredHeader(SCHEMA_VERSION, "shop", "s1", "0123456789abcdef", now_ms, 0)


def prepared(number: int, now_ms: int) -> PreparedBatch:
    batch: Batch = decode_batch(body(number, now_ms), MAX_EVENTS, MAX_AGE_S * 1000)
    return prepare_batch(SITE, batch, header(now_ms), MAX_AGE_S)


def per_call_us(stmt: Callable[[], object], number: int, reps: int) -> float:
    return 1e6 * min(timeit.repeat(stmt, number=number, repeat=reps)) / number


async def store_calls(url: str, per_call: int, calls: int, first: int) -> float:
    """Client CPU seconds for `calls` store-script calls of `per_call` fresh batches each."""
    client = async_client(url)
    try:
        await client.script_load(STORE_BATCHES_LUA)
        now_ms = int(time.time() * 1000)
        groups = [
            [prepared(first + c * per_call + j, now_ms) for j in range(per_call)]
            for c in range(calls)
        ]
        started = time.process_time()
        for group in groups:
            script_keys, args = script_call(group, 10**9)
            await client.evalsha(STORE_BATCHES_SHA, len(script_keys), *script_keys, *args)
        return time.process_time() - started
    finally:
        await client.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="1 rep, a tenth of the calls (CI)")
    args = parser.parse_args()
    if args.smoke:
        args.reps = 1
    share = SMOKE_SHARE if args.smoke else 1
    now_ms = int(time.time() * 1000)
    sample = body(1, now_ms)
    batch = decode_batch(sample, MAX_EVENTS, MAX_AGE_S * 1000)
    decode_us = per_call_us(
        lambda: decode_batch(sample, MAX_EVENTS, MAX_AGE_S * 1000), 5000 // share, args.reps
    )
    prepare_us = per_call_us(
        lambda: prepare_batch(SITE, batch, header(now_ms), MAX_AGE_S), 5000 // share, args.reps
    )
    print(f"one batch: 20 clicks, {len(sample)} bytes of JSON; best of {args.reps}, us")
    print(f"  decode and check      {decode_us:7.1f}")
    print(f"  prepare for the store {prepare_us:7.1f}")

    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    server = EmbeddedRedis(OUT / "redis").ensure()
    sync = redis.Redis(unix_socket_path=str(server.socket_path))
    try:
        print(f"store-script call through redis-py asyncio; client CPU, median of {args.reps}")
        first = 0
        for per_call, calls in ((1, 500 // share), (5, 200 // share), (25, 80 // share)):
            runs = []
            for _ in range(args.reps):
                runs.append(asyncio.run(store_calls(server.url, per_call, calls, first)))
                first += per_call * calls
            call_us = 1e6 * statistics.median(runs) / calls
            print(
                f"  {per_call:>2} batches a call: {call_us:7.0f} us a call, "
                f"{call_us / per_call:6.1f} us a batch"
            )
        sync.config_resetstat()
        asyncio.run(store_calls(server.url, 25, 80 // share, first))
        stats = sync.info("commandstats")
        batches = 25 * (80 // share)
        print(f"Redis time per batch (25 a call, INFO commandstats over {batches} batches), us")
        for command in ("evalsha", "smismember", "sadd", "xadd", "expire", "xlen"):
            entry = stats.get(f"cmdstat_{command}")
            if entry:
                print(f"  {command:<10} {entry['usec'] / batches:7.1f}")
    finally:
        sync.close()
        server.stop()


if __name__ == "__main__":
    main()

"""The aggregation worker: reads every site's stream shards through the consumer group and
commits the heatmap aggregates of each run of entries, exactly once."""

from __future__ import annotations

import logging
import signal
import threading
import time
from types import FrameType

import redis

from collector import keys
from collector.consumer import MAX_DELIVERIES, Entry, StreamReader
from collector.sites import list_sites
from heatmap.aggregate import Aggregator

log = logging.getLogger(__name__)

BATCH_ENTRIES = 256  # stream entries (batches of events) per read
IDLE_SLEEP_S = 0.2
RECLAIM_EVERY_S = 5.0
TRIM_EVERY_S = 10.0
MAX_REDIS_FAILURES = 10  # consecutive connection errors before the worker gives up


class Worker:
    def __init__(
        self,
        client: redis.Redis,
        aggregator: Aggregator,
        claim_idle_ms: int = 30_000,
        batch_entries: int = BATCH_ENTRIES,
    ) -> None:
        self.client = client
        self.aggregator = aggregator
        self.reader = StreamReader(client, keys.WORKER_GROUP, claim_idle_ms=claim_idle_ms)
        self.batch_entries = batch_entries
        self.stopping = threading.Event()
        self.processed = 0  # stream entries committed by this worker
        self._reclaimed_at = 0.0
        self._trimmed_at = time.monotonic()

    def run(self, burst: bool = False) -> int:
        """Work until stopped; with `burst`, until nothing is left to do. Returns entries done."""
        failures = 0
        while not self.stopping.is_set():
            try:
                busy = self.run_once(reclaim=burst)
                failures = 0
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
                failures += 1
                if failures >= MAX_REDIS_FAILURES:
                    raise
                log.warning("Redis unreachable (%d/%d): %s", failures, MAX_REDIS_FAILURES, exc)
                self.stopping.wait(min(30.0, 0.5 * 2**failures))
                continue
            if burst and not busy:
                break
            if not busy:
                self.stopping.wait(IDLE_SLEEP_S)
        return self.processed

    def run_once(self, reclaim: bool = False) -> int:
        """One pass over every shard; returns how many entries it committed."""
        now = time.monotonic()
        reclaim = reclaim or now - self._reclaimed_at > RECLAIM_EVERY_S
        trim = now - self._trimmed_at > TRIM_EVERY_S
        done = 0
        for site in list_sites(self.client):
            for shard in range(site.shards):
                done += self._shard(site.name, shard, reclaim, trim)
        if reclaim:
            self._reclaimed_at = now
        if trim:
            self._trimmed_at = now
        return done

    def _shard(self, site: str, shard: int, reclaim: bool, trim: bool) -> int:
        stream, dead = keys.events_stream(site, shard), keys.dead_letters(site, shard)
        entries: list[Entry] = []
        poison: list[str] = []
        if reclaim:
            entries, poison = self.reader.reclaim(stream, self.batch_entries)
        entries += self.reader.read(stream, self.batch_entries)
        if entries or poison:
            self._commit(site, shard, stream, dead, entries, poison)
        if trim:
            self.reader.trim(stream)
        return len(entries) + len(poison)

    def _commit(
        self, site: str, shard: int, stream: str, dead: str, entries: list[Entry], poison: list[str]
    ) -> None:
        while True:
            commit = self.aggregator.commit_for(site, shard, entries)
            commit.dead += [
                (p, f"delivered {MAX_DELIVERIES} times, never committed") for p in poison
            ]
            gone = set(self.reader.commit(stream, dead, commit))
            if not gone:
                break
            # Another worker reclaimed and committed some of these: count the rest only.
            log.info("%d entries of %s were committed elsewhere", len(gone), stream)
            entries = [e for e in entries if e[0] not in gone]
            poison = [p for p in poison if p not in gone]
        self.processed += len(commit.entry_ids) + len(commit.dead)
        if commit.dead:
            log.warning("%d entries of %s dead-lettered to %s", len(commit.dead), stream, dead)

    def stop_on_signals(self) -> None:
        def stop(signum: int, frame: FrameType | None) -> None:
            log.info("stopping after the current batch")
            self.stopping.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)

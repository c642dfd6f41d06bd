"""The worker: reads every site's stream shards through one consumer group per processor (the
heatmap aggregates, the sessions) and commits what each makes of a run of entries, exactly once."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Sequence
from types import FrameType
from typing import Protocol

import redis

from collector import keys
from collector.consumer import MAX_DELIVERIES, Commit, Entry, StreamReader
from collector.sites import list_sites

log = logging.getLogger(__name__)

BATCH_ENTRIES = 256  # stream entries (batches of events) per read
IDLE_SLEEP_S = 0.2
RECLAIM_EVERY_S = 5.0
TRIM_EVERY_S = 10.0
TICK_EVERY_S = 10.0  # upkeep such as closing idle sessions
MAX_REDIS_FAILURES = 10  # consecutive connection errors before the worker gives up


class Processor(Protocol):
    """What a consumer group makes of the entries of one stream shard."""

    group: str

    def commit_for(self, site: str, shard: int, entries: list[Entry]) -> Commit: ...

    def tick(self, site: str, shard: int) -> int:
        """Periodic upkeep of one shard; returns how much it did."""
        ...


class Worker:
    def __init__(
        self,
        client: redis.Redis,
        processors: Sequence[Processor],
        claim_idle_ms: int = 30_000,
        batch_entries: int = BATCH_ENTRIES,
    ) -> None:
        self.client = client
        self.lanes = [
            (processor, StreamReader(client, processor.group, claim_idle_ms=claim_idle_ms))
            for processor in processors
        ]
        self.batch_entries = batch_entries
        self.stopping = threading.Event()
        self.processed = 0  # stream entries committed by this worker, over all groups
        self._reclaimed_at = 0.0
        self._retry_own = False  # a connection error may have cut a commit short
        self._trimmed_at = time.monotonic()
        self._ticked_at = time.monotonic()

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
                self._retry_own = True
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
        tick = now - self._ticked_at > TICK_EVERY_S
        done = 0
        retry_own, self._retry_own = self._retry_own, False
        for site in list_sites(self.client):
            for shard in range(site.shards):
                for processor, reader in self.lanes:
                    done += self._shard(processor, reader, site.name, shard, reclaim, retry_own)
                    if tick:
                        processor.tick(site.name, shard)
                if trim:
                    self.lanes[0][1].trim(keys.events_stream(site.name, shard))
        if reclaim:
            self._reclaimed_at = now
        if trim:
            self._trimmed_at = now
        if tick:
            self._ticked_at = now
        return done

    def _shard(
        self,
        processor: Processor,
        reader: StreamReader,
        site: str,
        shard: int,
        reclaim: bool,
        retry_own: bool,
    ) -> int:
        stream = keys.events_stream(site, shard)
        entries: list[Entry] = []
        poison: list[str] = []
        if reclaim:
            entries, poison = reader.reclaim(stream, self.batch_entries)
        if retry_own:  # not what reclaim took already (the same id twice would count twice)
            taken = {entry_id for entry_id, _ in entries} | set(poison)
            own = reader.read_own(stream, self.batch_entries)
            entries += [e for e in own if e[0] not in taken]
            self._retry_own |= len(own) == self.batch_entries  # more of them: next pass too
        entries += reader.read(stream, self.batch_entries)
        if entries or poison:
            self._commit(processor, reader, (site, shard), entries, poison)
        return len(entries) + len(poison)

    def _commit(
        self,
        processor: Processor,
        reader: StreamReader,
        where: tuple[str, int],
        entries: list[Entry],
        poison: list[str],
    ) -> None:
        site, shard = where
        stream, dead = keys.events_stream(site, shard), keys.dead_letters(site, shard)
        while True:
            commit = processor.commit_for(site, shard, entries)
            commit.dead += [
                (p, f"delivered {MAX_DELIVERIES} times, never committed") for p in poison
            ]
            gone = set(reader.commit(stream, dead, commit))
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

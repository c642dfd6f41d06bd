"""The worker: reads every site's stream shards through one consumer group per processor (the
heatmap aggregates, the sessions) and commits what each makes of a run of entries, exactly once."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any, Protocol

import redis

from collector import keys
from collector.consumer import MAX_DELIVERIES, Commit, Entry, StreamReader
from collector.failures import REDIS_DOWN, count_failure
from collector.sites import list_sites

log = logging.getLogger(__name__)

BATCH_ENTRIES = 256  # stream entries (batches of events) per read
IDLE_SLEEP_S = 0.2
RECLAIM_EVERY_S = 5.0
TRIM_EVERY_S = 10.0
TICK_EVERY_S = 10.0  # upkeep such as closing idle sessions
MAX_REDIS_FAILURES = 10  # consecutive connection errors before the worker gives up
ERROR_SLEEP_S = 5.0  # after a pass that failed as a whole (not one shard's work)
MAX_REASON_CHARS = 500  # of an exception's text in a dead letter
# Replies of a Redis that is there but cannot take writes for now: the entries stay pending and
# are taken up again later, never dead-lettered for it.
REDIS_BUSY = ("OOM", "BUSY", "READONLY", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN", "NOREPLICAS")


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
            except REDIS_DOWN as exc:
                failures += 1
                if failures >= MAX_REDIS_FAILURES:
                    raise
                log.warning("Redis unreachable (%d/%d): %s", failures, MAX_REDIS_FAILURES, exc)
                self._retry_own = True
                self.stopping.wait(min(30.0, 0.5 * 2**failures))
                continue
            except Exception:
                # Not one shard's work (that is caught in `_guarded`): listing the sites, say.
                if burst:
                    raise
                log.exception("worker pass failed; trying again in %.0f s", ERROR_SLEEP_S)
                count_failure(self.client, "worker", "", "")
                self.stopping.wait(ERROR_SLEEP_S)
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
                where = (site.name, shard)
                for processor, reader in self.lanes:
                    args = (processor, reader, site.name, shard, reclaim, retry_own)
                    done += self._guarded(processor.group, where, self._shard, *args)
                    if tick:
                        self._guarded(f"{processor.group}:tick", where, processor.tick, *where)
                if trim:
                    trim_shard = self.lanes[0][1].trim
                    self._guarded("trim", where, trim_shard, keys.events_stream(*where))
        if reclaim:
            self._reclaimed_at = now
        if trim:
            self._trimmed_at = now
        if tick:
            self._ticked_at = now
        return done

    def _guarded(
        self, part: str, where: tuple[str, int], work: Callable[..., int], *args: Any
    ) -> int:
        """Run one shard's work; an unexpected error is logged and counted, and the other
        shards and sites go on. Redis going away is left to `run`."""
        try:
            return work(*args)
        except REDIS_DOWN:
            raise
        except Exception:
            log.exception("%s of %s/%d failed; going on with the rest", part, *where)
            count_failure(self.client, part, where[0], str(where[1]))
            return 0

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
        try:
            self._commit_run(processor, reader, where, entries, poison)
        except REDIS_DOWN:
            raise
        except Exception as exc:
            if _redis_busy(exc):
                raise  # pending still: taken up again after claim_idle_ms
            log.warning(
                "%s failed on %d entries of %s/%d (%s: %s); trying them one by one",
                processor.group, len(entries), *where, type(exc).__name__, exc,
            )  # fmt: skip
            self._commit_one_by_one(processor, reader, where, entries, poison)

    def _commit_one_by_one(
        self,
        processor: Processor,
        reader: StreamReader,
        where: tuple[str, int],
        entries: list[Entry],
        poison: list[str],
    ) -> None:
        """Commit each entry of a run that failed on its own, and dead-letter the ones that
        fail again with their reason, so one bad entry does not hold back the good ones."""
        if poison:
            self._commit_run(processor, reader, where, [], poison)
        for entry in entries:
            try:
                self._commit_run(processor, reader, where, [entry], [])
            except REDIS_DOWN:
                raise
            except Exception as exc:
                if _redis_busy(exc):
                    raise
                log.exception("%s failed on entry %s of %s/%d", processor.group, entry[0], *where)
                count_failure(self.client, processor.group, where[0], str(where[1]))
                reason = f"{processor.group} failed: {type(exc).__name__}: {exc}"
                dead = Commit(entry_ids=[], dead=[(entry[0], reason[:MAX_REASON_CHARS])])
                self._apply(reader, where, dead)

    def _commit_run(
        self,
        processor: Processor,
        reader: StreamReader,
        where: tuple[str, int],
        entries: list[Entry],
        poison: list[str],
    ) -> None:
        site, shard = where
        while True:
            commit = processor.commit_for(site, shard, entries)
            commit.dead += [
                (p, f"delivered {MAX_DELIVERIES} times, never committed") for p in poison
            ]
            gone = self._apply(reader, where, commit)
            if not gone:
                break
            entries = [e for e in entries if e[0] not in gone]
            poison = [p for p in poison if p not in gone]

    def _apply(self, reader: StreamReader, where: tuple[str, int], commit: Commit) -> set[str]:
        """Commit; returns the ids another worker committed first (then nothing was applied)."""
        stream, dead = keys.events_stream(*where), keys.dead_letters(*where)
        gone = set(reader.commit(stream, dead, commit))
        if gone:
            # Another worker reclaimed and committed some of these: count the rest only.
            log.info("%d entries of %s were committed elsewhere", len(gone), stream)
            return gone
        self.processed += len(commit.entry_ids) + len(commit.dead)
        if commit.dead:
            log.warning("%d entries of %s dead-lettered to %s", len(commit.dead), stream, dead)
        return gone

    def stop_on_signals(self) -> None:
        def stop(signum: int, frame: FrameType | None) -> None:
            log.info("stopping after the current batch")
            self.stopping.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)


def _redis_busy(exc: Exception) -> bool:
    return isinstance(exc, redis.exceptions.ResponseError) and str(exc).startswith(REDIS_BUSY)

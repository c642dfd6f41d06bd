"""Building sessions from the event streams, exactly once.

The `sessions` consumer group appends each batch's rows to its browser session id's open state,
in the same script that acknowledges the entries. A sweep closes the session ids that have been
idle for the session gap: their rows are split into sessions (reports.sessions.sessionize) and
appended to the day logs, and the open state deleted, in one script that first checks nothing
arrived meanwhile. So every event lands in exactly one session, whatever crashes in between.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import numpy as np
import redis

from collector import keys
from collector.cardinality import OVER_LIMIT, Folder, count_folded, fold_events
from collector.consumer import Commit, Entry, decoded
from collector.days import DAY_MS, day_name
from collector.failures import REDIS_DOWN, count_failure
from collector.pages import PageTemplates, bands_of, normalize_path
from collector.schema import Click, Custom, Event, PageView, RageClick, StoredHeader
from heatmap.grid import GRID_COLUMNS, cells_of, x_extent
from reports.sessions.layout import (
    KIND_CLICK,
    KIND_CUSTOM,
    KIND_PAGE,
    KIND_PROP,
    KIND_RAGE,
    OPEN_ROW,
    SESSION_GAP_MS,
    SESSION_MAX_MS,
    Closed,
    sessionize,
)
from reports.sessions.rollup import PROPERTY_PREFIX, property_entry, roll_up, split_rolled
from reports.sessions.touches import admitted_value, over_limit, touch_entry

log = logging.getLogger(__name__)

OPEN_TTL_S = 3 * 86_400  # an open state outlives any session; the sweep normally ends it first
SWEEP_LIMIT = 2_000  # session ids closed per script call
SESSION_MAX_ROWS = 10_000  # rows an open state holds before it is closed, whatever its age
ANY_SCORE = 2**62  # a close cutoff every idle score is under: closing whether idle or not

VOCAB_CACHE_S = 3600  # ids known locally are asked again after this, in case the vocabulary
# expired meanwhile (it outlives its last use by days: see vocab_ttl_s)

# Assign ids to new vocabulary entries; idempotent, so it runs apart from the commit. Ids come
# from a counter that never goes back (a vocabulary made before it counted 1..HLEN), so an id is
# never given to another name, even after its vocabulary expired.
# KEYS: vocabulary, id counter. ARGV: vocabulary ttl_s, names...
INTERN_LUA = """
local out = {}
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('SET', KEYS[2], redis.call('HLEN', KEYS[1]))
end
for i = 2, #ARGV do
  local id = redis.call('HGET', KEYS[1], ARGV[i])
  if not id then
    id = redis.call('INCR', KEYS[2])
    redis.call('HSET', KEYS[1], ARGV[i], id)
  end
  out[i - 1] = tonumber(id)
end
if redis.call('TTL', KEYS[1]) < tonumber(ARGV[1]) then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return out
"""

# KEYS: idle set, n open states, then (sessions, nav, clicks) per day, then the vocabulary.
# ARGV: cutoff ms, ttl s, n, (sid, expected length)..., then the three blobs per day, then the
# vocabulary's ttl s: it outlives the day logs whose ids it names.
# Closes nothing (returns 0) when any session id saw a batch after the sweep read it.
CLOSE_LUA = """
local cutoff, ttl, n = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
for i = 1, n do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[2 + 2 * i])
  if not score or tonumber(score) > cutoff then return 0 end
  if redis.call('STRLEN', KEYS[1 + i]) ~= tonumber(ARGV[3 + 2 * i]) then return 0 end
end
local vocab, vocab_ttl = KEYS[#KEYS], tonumber(ARGV[#ARGV])
if redis.call('TTL', vocab) < vocab_ttl then redis.call('EXPIRE', vocab, vocab_ttl) end
local pos = 4 + 2 * n
for k = 2 + n, #KEYS - 1 do
  if #ARGV[pos] > 0 then
    redis.call('APPEND', KEYS[k], ARGV[pos])
    redis.call('EXPIRE', KEYS[k], ttl)
  end
  pos = pos + 1
end
for i = 1, n do
  redis.call('DEL', KEYS[1 + i])
  redis.call('ZREM', KEYS[1], ARGV[2 + 2 * i])
end
return 1
"""
_PARTS = ("sessions", "nav", "clicks", "visits", "items")  # the last two: reports.sessions.rollup


class SessionBuilder:
    """The sessions consumer group's processor: rows per session id in, sessions out."""

    group = keys.SESSIONS_GROUP

    def __init__(
        self,
        client: redis.Redis,
        retention_days: int = 90,
        gap_ms: int = SESSION_GAP_MS,
        max_ms: int = SESSION_MAX_MS,
        max_rows: int = SESSION_MAX_ROWS,
        folder: Folder | None = None,
        templates: PageTemplates | None = None,
    ) -> None:
        self.client = client
        self.retention_days = retention_days
        self.gap_ms = gap_ms
        self.max_ms = max_ms
        self.max_rows = max_rows
        self.folder = folder  # None: no per-site limits on distinct values
        self.templates = templates or PageTemplates()  # the aggregator's: paths fold alike
        self._vocab: dict[tuple[str, int], dict[str, int]] = {}
        self._vocab_at: dict[tuple[str, int], float] = {}  # monotonic s the cache was started
        self._intern = client.register_script(INTERN_LUA)
        self._close = client.register_script(CLOSE_LUA)

    def commit_for(self, site: str, shard: int, entries: list[Entry]) -> Commit:
        commit = Commit(entry_ids=[])
        idle_key = keys.idle_sessions(site, shard)
        newest: dict[str, int] = {}  # session id -> latest row time of this run
        batches = list(decoded(entries, commit))
        if self.folder:
            self._fold(commit, site, shard, batches, self.folder)
        for header, events in batches:
            rows = self._rows(site, shard, events, header)
            if not len(rows):
                continue
            open_key = keys.open_session(site, shard, header.sid)
            commit.appends[open_key] = commit.appends.get(open_key, b"") + rows.tobytes()
            commit.expiries[open_key] = OPEN_TTL_S
            member = (idle_key, header.sid)
            commit.raises[member] = max(commit.raises.get(member, 0), header.recv)
            newest[header.sid] = max(newest.get(header.sid, 0), int(rows["ts"].max()))
        self._close_full(site, shard, newest)
        return commit

    def _fold(
        self,
        commit: Commit,
        site: str,
        shard: int,
        batches: list[tuple[StoredHeader, list[Event]]],
        folder: Folder,
    ) -> None:
        dated = [((e.ts + h.skew) // DAY_MS, e) for h, events in batches for e in events]
        folded = fold_events(folder, site, dated, self.templates)
        views = [
            ((e.ts + h.skew) // DAY_MS, e, admitted_value(touch_entry(e, h)))
            for h, events in batches
            for e in events
            if isinstance(e, PageView)
        ]
        props = [
            (day, e, name, admitted_value(property_entry(e.name, name, value)))
            for day, e in dated
            if isinstance(e, Custom)
            for name, value in e.props.items()
        ]
        ok = folder.admitted(
            site,
            [(day, "sources", value) for day, _, value in views]
            + [(day, "properties", value) for day, _, _, value in props],
        )
        for day, view, value in views:
            if (day, "sources", value) not in ok:
                over_limit(view)
                folded["sources"] += 1
        for day, custom, name, value in props:
            if (day, "properties", value) not in ok:
                custom.props[name] = OVER_LIMIT
                folded["properties"] += 1
        count_folded(commit, site, shard, self.group, folded)

    def _close_full(self, site: str, shard: int, newest: dict[str, int]) -> None:
        """Close the open states about to grow that hold max_rows already or began max_ms
        before the rows coming, so that no open state grows without bound (an open state
        holds at most max_rows plus the rows of one run). Only committed rows are closed:
        a run retried after a crash finds them closed, and appends to a fresh state."""
        sids = list(newest)
        pipe = self.client.pipeline(transaction=False)
        for sid in sids:
            open_key = keys.open_session(site, shard, sid)
            pipe.strlen(open_key)
            pipe.getrange(open_key, 0, 7)  # the first row's ts: OPEN_ROW starts with it, <i8
        found: list[Any] = pipe.execute() if sids else []
        full = []
        for sid, length, head in zip(sids, found[::2], found[1::2], strict=True):
            if not length:
                continue
            began = int.from_bytes(head, "little", signed=True)
            if length // OPEN_ROW.itemsize >= self.max_rows or newest[sid] - began >= self.max_ms:
                full.append(sid)
        if full and not self._close_some(site, shard, full, ANY_SCORE):
            log.info("full session ids of %s/%d changed while closing; closed later", site, shard)

    def tick(self, site: str, shard: int, now_ms: int | None = None) -> int:
        """Close the session ids idle for the gap; returns how many were closed."""
        now_ms = int(time.time() * 1000) if now_ms is None else now_ms
        cutoff = now_ms - self.gap_ms
        idle_key = keys.idle_sessions(site, shard)
        closed = 0
        while True:
            found: Any = self.client.zrangebyscore(idle_key, "-inf", cutoff, 0, SWEEP_LIMIT)
            sids = [s.decode() for s in found]
            if not sids:
                return closed
            try:
                done = self._close_some(site, shard, sids, cutoff)
            except REDIS_DOWN:
                raise
            except Exception:
                log.exception(
                    "closing sessions of %s/%d failed; closing them one by one", site, shard
                )
                done = self._close_each(site, shard, sids, cutoff)
            closed += done
            if not done or len(sids) < SWEEP_LIMIT:
                return closed

    def _close_each(self, site: str, shard: int, sids: list[str], cutoff: int) -> int:
        """Close session ids one at a time; one that cannot be closed is taken off the idle
        set (its open state expires in OPEN_TTL_S), so it does not hold back the others."""
        done = 0
        for sid in sids:
            try:
                done += self._close_some(site, shard, [sid], cutoff)
            except REDIS_DOWN:
                raise
            except Exception:
                log.exception(
                    "session id %s of %s/%d cannot be closed; left to expire", sid, site, shard
                )
                count_failure(self.client, f"{self.group}:close", site, str(shard))
                self.client.zrem(keys.idle_sessions(site, shard), sid)
                done += 1
        return done

    def _close_some(self, site: str, shard: int, sids: list[str], cutoff: int) -> int:
        return self.close_open(site, shard, sids, self.read_open(site, shard, sids), cutoff)

    def read_open(self, site: str, shard: int, sids: list[str]) -> list[bytes]:
        """The open states of these session ids, as recorded now."""
        values: Any = self.client.mget([keys.open_session(site, shard, sid) for sid in sids])
        return [b or b"" for b in values]

    def close_open(
        self, site: str, shard: int, sids: list[str], blobs: list[bytes], cutoff: int
    ) -> int:
        """File the sessions of these open states, read earlier, unless one of the ids has
        seen a batch since; returns how many ids were closed (0 or all)."""
        open_keys = [keys.open_session(site, shard, sid) for sid in sids]
        rows = np.frombuffer(b"".join(blobs), dtype=OPEN_ROW)
        owner = np.repeat(np.arange(len(blobs)), [len(b) // OPEN_ROW.itemsize for b in blobs])
        closed = sessionize(rows, owner, self.gap_ms, self.max_ms)
        by_day = split_by_day(closed)
        rolled = split_rolled(roll_up(closed, closed.page))
        day_keys = [keys.session_log(site, shard, day, part) for day in by_day for part in _PARTS]
        args: list[Any] = [cutoff, self._ttl_s(min(by_day, default="")), len(sids)]
        for sid, blob in zip(sids, blobs, strict=True):
            args += [sid, len(blob)]
        for day, parts in by_day.items():
            args += [parts.sessions.tobytes(), parts.nav.tobytes(), parts.clicks.tobytes()]
            args += [rolled[day].visits.tobytes(), rolled[day].items.tobytes()]
        args.append(self.vocab_ttl_s)
        vocab = keys.session_vocabulary(site, shard)
        script_keys = [keys.idle_sessions(site, shard), *open_keys, *day_keys, vocab]
        if not self._close(keys=script_keys, args=args):
            log.info("session ids of %s/%d saw new events while closing; retrying", site, shard)
            return 0
        return len(sids)

    @property
    def vocab_ttl_s(self) -> int:
        """Longer than the day logs filed now (retention + 1 day) and the open states."""
        return (self.retention_days + 2) * 86_400 + OPEN_TTL_S

    def _ttl_s(self, first_day: str) -> int:
        if not first_day:
            return 60
        day_ms = int(datetime.strptime(first_day, "%Y%m%d").replace(tzinfo=UTC).timestamp()) * 1000
        expires_ms = day_ms + (self.retention_days + 1) * DAY_MS
        return max(60, int(expires_ms / 1000 - time.time()))

    def _rows(
        self, site: str, shard: int, events: list[Event], header: StoredHeader
    ) -> np.ndarray[Any, np.dtype[np.void]]:
        """One OPEN_ROW per page view, custom event and click, and after each custom event one
        per property value it carries (KIND_PROP)."""
        skew, vid = header.skew, header.vid
        kept: list[Event] = []
        names: list[str] = []
        for e in events:
            if isinstance(e, PageView | Custom | Click | RageClick):
                kept.append(e)
                names.append(_item_name(e))
            if isinstance(e, Custom):
                for name, value in e.props.items():
                    kept.append(e)
                    names.append(property_entry(e.name, name, value))
        rows = np.zeros(len(kept), OPEN_ROW)
        if not kept:
            return rows
        sources = [touch_entry(e, header) if isinstance(e, PageView) else "" for e in kept]
        ids = self._ids(site, shard, [*names, *(s for s in sources if s)])
        rows["ts"] = [e.ts + skew for e in kept]
        rows["visitor"] = int(vid, 16) if vid else 0
        rows["item"] = [ids[n] for n in names]
        rows["source"] = [ids[s] if s else 0 for s in sources]
        rows["kind"] = [
            KIND_PROP if name.startswith(PROPERTY_PREFIX) else _KIND[type(e)]
            for e, name in zip(kept, names, strict=True)
        ]
        widths = [getattr(e, "vw", 0) for e in kept]
        rows["band"] = np.where(np.asarray(widths) > 0, bands_of(widths), 2)
        pointer = [isinstance(e, Click | RageClick) for e in kept]
        if any(pointer):
            x = [getattr(e, "x", 0.0) for e in kept]
            y = [getattr(e, "y", 0.0) for e in kept]
            extents = [
                x_extent(e.vw, e.dw, e.fixed) if isinstance(e, Click | RageClick) else 0
                for e in kept
            ]
            cells = cells_of(x, y, extents)
            rows["row"] = np.where(pointer, cells // GRID_COLUMNS, 0)
            rows["col"] = np.where(pointer, cells % GRID_COLUMNS, 0)
            rows["fixed"] = [getattr(e, "fixed", False) for e in kept]
        return rows

    def _ids(self, site: str, shard: int, names: list[str]) -> dict[str, int]:
        started = self._vocab_at.get((site, shard))
        if started is None or time.monotonic() - started > VOCAB_CACHE_S:
            self._vocab[(site, shard)] = {}
            self._vocab_at[(site, shard)] = time.monotonic()
        known = self._vocab[(site, shard)]
        missing = list(dict.fromkeys(n for n in names if n not in known))
        if missing:
            vocab_keys = [keys.session_vocabulary(site, shard), keys.vocabulary_ids(site, shard)]
            got = self._intern(keys=vocab_keys, args=[self.vocab_ttl_s, *missing])
            known.update(zip(missing, (int(i) for i in got), strict=True))
        return known


_KIND = {PageView: KIND_PAGE, Custom: KIND_CUSTOM, Click: KIND_CLICK, RageClick: KIND_RAGE}


def _item_name(event: Event) -> str:
    if isinstance(event, Custom):
        return f"e:{event.name}"
    return f"p:{_path(event.p)}"


@lru_cache(maxsize=65_536)
def _path(path: str) -> str:
    return normalize_path(path)


def split_by_day(closed: Closed) -> dict[str, Closed]:
    """Sessions grouped by the UTC day they started on, each day's rows kept contiguous."""
    if not len(closed.sessions):
        return {}
    day = closed.sessions["start"] // DAY_MS
    nav_day = np.repeat(day, closed.sessions["rows"])
    click_day = np.repeat(day, closed.sessions["clicks"])
    out = {}
    for d in np.unique(day).tolist():
        out[day_name(d)] = Closed(
            closed.sessions[day == d], closed.nav[nav_day == d], closed.clicks[click_day == d]
        )
    return out  # the logs keep no page flags nor properties: the rollups do

"""Reading sessions back for a time range: the closed day logs of every shard plus the sessions
still open, as one SessionTable with a site-wide vocabulary."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import numpy.typing as npt
import redis

from collector import keys
from collector.days import DAY_MS, MAX_RANGE_DAYS, day_name
from collector.sites import Site
from reports.sessions.layout import (
    CLICK_ROW,
    NAV_ROW,
    OPEN_ROW,
    SESSION_GAP_MS,
    SESSION_MAX_MS,
    SESSION_ROW,
    Closed,
    SessionTable,
    offsets_of,
    sessionize,
)
from reports.sessions.touches import DIRECT, SOURCE_PREFIX, TOUCH_PREFIX, Touch, parse_entry


def load_sessions(
    client: redis.Redis,
    site: Site,
    start_ms: int,
    end_ms: int,
    window_ms: int,
    gap_ms: int = SESSION_GAP_MS,
    max_ms: int = SESSION_MAX_MS,
    now_ms: int | None = None,
) -> SessionTable:
    """Every session that can hold a funnel attempt starting in [start_ms, end_ms): those that
    started up to max_ms before the range, through one window after it, and the open ones.
    A session is open while its last event is less than `gap_ms` before `now_ms` (the worker
    may not have filed an idle one yet: that one has ended all the same)."""
    if end_ms - start_ms > (MAX_RANGE_DAYS + 1) * DAY_MS:  # +1: a day boundary in a time zone
        raise ValueError(f"a range holds at most {MAX_RANGE_DAYS} days")
    first_day = (start_ms - max_ms) // DAY_MS
    last_day = (end_ms + window_ms) // DAY_MS
    days = [day_name(d) for d in range(first_day, last_day + 1)]
    vocab: dict[str, int] = {f"{SOURCE_PREFIX}{DIRECT}": 0}  # id 0: no source recorded
    parts: list[Closed] = []
    open_parts: list[npt.NDArray[np.bool_]] = []
    since_ms = (int(time.time() * 1000) if now_ms is None else now_ms) - gap_ms
    for shard in range(site.shards):
        shard_vocab, closed, still_open = _shard(client, site.name, shard, days, gap_ms, max_ms)
        lut = np.zeros(max(shard_vocab.values(), default=0) + 1, dtype=np.int32)
        for name, shard_id in shard_vocab.items():
            lut[shard_id] = vocab.setdefault(name, len(vocab))
        parts.extend(_relabelled(c, lut) for c in closed)
        open_parts.extend(np.zeros(len(c.sessions), dtype=bool) for c in closed[:-1])
        if closed:
            last = closed[-1].sessions
            open_parts.append((last["end"] > since_ms) if still_open else np.zeros(len(last), bool))
    return _table(parts, list(vocab), open_parts)


def _shard(
    client: redis.Redis, site: str, shard: int, days: list[str], gap_ms: int, max_ms: int
) -> tuple[dict[str, int], list[Closed], bool]:
    """The shard's vocabulary and sessions; True when the last part is its open sessions."""
    pipe = client.pipeline(transaction=False)
    pipe.hgetall(keys.session_vocabulary(site, shard))
    pipe.zrange(keys.idle_sessions(site, shard), 0, -1)
    for day in days:
        for part in ("sessions", "nav", "clicks"):
            pipe.get(keys.session_log(site, shard, day, part))
    reply: list[Any] = pipe.execute()
    vocab = {name.decode(): int(i) for name, i in reply[0].items()}
    closed = [
        Closed(
            np.frombuffer(reply[i] or b"", SESSION_ROW),
            np.frombuffer(reply[i + 1] or b"", NAV_ROW),
            np.frombuffer(reply[i + 2] or b"", CLICK_ROW),
        )
        for i in range(2, len(reply), 3)
    ]
    sids = [s.decode() for s in reply[1]]
    if sids:
        values: Any = client.mget([keys.open_session(site, shard, s) for s in sids])
        blobs: list[bytes] = [b or b"" for b in values]
        rows = np.frombuffer(b"".join(blobs), dtype=OPEN_ROW)
        owner = np.repeat(np.arange(len(blobs)), [len(b) // OPEN_ROW.itemsize for b in blobs])
        closed.append(sessionize(rows, owner, gap_ms, max_ms))
    return vocab, closed, bool(sids)


def _relabelled(closed: Closed, lut: npt.NDArray[np.int32]) -> Closed:
    """The same sessions with shard vocabulary ids turned into site-wide ones."""
    sessions, nav, clicks = closed.sessions.copy(), closed.nav.copy(), closed.clicks.copy()
    sessions["source"] = lut[sessions["source"]]
    nav["item"] = lut[nav["item"]]
    clicks["item"] = lut[clicks["item"]]
    return Closed(sessions, nav, clicks)


def _source_name(entry: str) -> str:
    """The source a vocabulary entry names, for the entries sessions point at (either touch
    version); other entries' names are never read as sources."""
    return (
        parse_entry(entry).source_name if entry[:2] in (SOURCE_PREFIX, TOUCH_PREFIX) else entry[2:]
    )


def session_touches(table: SessionTable) -> list[Touch]:
    """Each session's touch (that of its first page view), parsed once per distinct entry."""
    unique, inverse = np.unique(table.source, return_inverse=True)
    parsed = [
        parse_entry(table.vocab[i]) if 0 <= i < len(table.vocab) else Touch()
        for i in unique.tolist()
    ]
    return [parsed[k] for k in inverse.tolist()]


def _table(
    parts: list[Closed], vocab: list[str], open_parts: list[npt.NDArray[np.bool_]]
) -> SessionTable:
    sessions = np.concatenate([p.sessions for p in parts]) if parts else np.zeros(0, SESSION_ROW)
    nav = np.concatenate([p.nav for p in parts]) if parts else np.zeros(0, NAV_ROW)
    clicks = np.concatenate([p.clicks for p in parts]) if parts else np.zeros(0, CLICK_ROW)
    return SessionTable(
        offsets=offsets_of(sessions["rows"]),
        ts=nav["ts"].astype(np.int64),
        item=nav["item"].astype(np.int32),
        vocab=vocab,
        start=sessions["start"].astype(np.int64),
        band=sessions["band"].astype(np.uint8),
        source=sessions["source"].astype(np.int32),
        sources=[_source_name(name) for name in vocab],
        visitor=sessions["visitor"].astype(np.uint64),
        click_offsets=offsets_of(sessions["clicks"]),
        clicks=clicks,
        open=np.concatenate(open_parts) if open_parts else np.zeros(0, dtype=bool),
    )

"""Reading the visit rollups back for a time range: every shard's rollup rows of the days the
range touches, plus the sessions still open rolled up on the spot, as one VisitTable with a
site-wide vocabulary.

Days filed before rollups existed have session logs and no rollup: their rollup is made here
from the logs (page views told from events by the vocabulary), so no visit goes missing; they
lack custom event properties, which were not kept then.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import redis

from collector import keys
from collector.days import DAY_MS, MAX_RANGE_DAYS, day_name
from collector.sites import Site
from reports.sessions.layout import (
    NAV_ROW,
    OPEN_ROW,
    SESSION_GAP_MS,
    SESSION_MAX_MS,
    SESSION_ROW,
    Closed,
    sessionize,
)
from reports.sessions.rollup import ITEM_ROW, VISIT_ROW, Rolled, item_offsets, roll_up
from reports.sessions.touches import DIRECT, SOURCE_PREFIX

PAGE_PREFIX = "p:"


@dataclass(frozen=True)
class VisitTable:
    """Visits that started in a range: VISIT_ROWs, their ITEM_ROWs (visit i owns rows
    item_offsets[i]:item_offsets[i + 1]) and the vocabulary their ids index."""

    visits: npt.NDArray[np.void]
    items: npt.NDArray[np.void]
    item_offsets: npt.NDArray[np.int64]
    vocab: list[str]

    def __len__(self) -> int:
        return len(self.visits)


def load_visits_rolled(
    client: redis.Redis,
    site: Site,
    start_ms: int,
    end_ms: int,
    gap_ms: int = SESSION_GAP_MS,
    max_ms: int = SESSION_MAX_MS,
) -> VisitTable:
    """The visits of `site` that started in [start_ms, end_ms), closed or still open."""
    if end_ms - start_ms > (MAX_RANGE_DAYS + 1) * DAY_MS:  # +1: a day boundary in a time zone
        raise ValueError(f"a range holds at most {MAX_RANGE_DAYS} days")
    days = [day_name(d) for d in range(start_ms // DAY_MS, (end_ms - 1) // DAY_MS + 1)]
    vocab: dict[str, int] = {f"{SOURCE_PREFIX}{DIRECT}": 0}  # id 0: no touch, no page
    parts: list[Rolled] = []
    for shard in range(site.shards):
        shard_vocab, rolled = _shard(client, site.name, shard, days, gap_ms, max_ms)
        lut = np.zeros(max(shard_vocab.values(), default=0) + 1, dtype=np.int32)
        for name, shard_id in shard_vocab.items():
            lut[shard_id] = vocab.setdefault(name, len(vocab))
        parts.append(_in_range(_relabelled(_joined(rolled), lut), start_ms, end_ms))
    whole = parts[0] if len(parts) == 1 else _joined(parts)
    return VisitTable(whole.visits, whole.items, item_offsets(whole.visits), list(vocab))


def _shard(
    client: redis.Redis, site: str, shard: int, days: list[str], gap_ms: int, max_ms: int
) -> tuple[dict[str, int], list[Rolled]]:
    pipe = client.pipeline(transaction=False)
    pipe.hgetall(keys.session_vocabulary(site, shard))
    pipe.zrange(keys.idle_sessions(site, shard), 0, -1)
    for day in days:
        pipe.get(keys.session_log(site, shard, day, "visits"))
        pipe.get(keys.session_log(site, shard, day, "items"))
        pipe.strlen(keys.session_log(site, shard, day, "sessions"))
    reply: list[Any] = pipe.execute()
    vocab = {name.decode(): int(i) for name, i in reply[0].items()}
    rolled: list[Rolled] = []
    unrolled: list[str] = []  # days of session logs filed before rollups existed
    for day, at in zip(days, range(2, len(reply), 3), strict=True):
        visits, items, logged = reply[at], reply[at + 1], reply[at + 2]
        if visits:
            rolled.append(Rolled(np.frombuffer(visits, VISIT_ROW), np.frombuffer(items, ITEM_ROW)))
        elif logged:
            unrolled.append(day)
    if unrolled:
        rolled.extend(_from_logs(client, site, shard, unrolled, vocab))
    sids = [s.decode() for s in reply[1]]
    if sids:
        values: Any = client.mget([keys.open_session(site, shard, s) for s in sids])
        blobs: list[bytes] = [b or b"" for b in values]
        rows = np.frombuffer(b"".join(blobs), dtype=OPEN_ROW)
        owner = np.repeat(np.arange(len(blobs)), [len(b) // OPEN_ROW.itemsize for b in blobs])
        closed = sessionize(rows, owner, gap_ms, max_ms)
        rolled.append(roll_up(closed, closed.page))
    return vocab, rolled


def _from_logs(
    client: redis.Redis, site: str, shard: int, days: list[str], vocab: dict[str, int]
) -> list[Rolled]:
    pipe = client.pipeline(transaction=False)
    for day in days:
        pipe.get(keys.session_log(site, shard, day, "sessions"))
        pipe.get(keys.session_log(site, shard, day, "nav"))
    reply: list[Any] = pipe.execute()
    is_page = np.zeros(max(vocab.values(), default=0) + 1, dtype=bool)
    for name, shard_id in vocab.items():
        is_page[shard_id] = name.startswith(PAGE_PREFIX)
    out = []
    for at in range(0, len(reply), 2):
        sessions = np.frombuffer(reply[at] or b"", SESSION_ROW)
        nav = np.frombuffer(reply[at + 1] or b"", NAV_ROW)
        closed = Closed(sessions, nav, np.zeros(0, np.void))
        known = nav["item"] < len(is_page)
        out.append(roll_up(closed, known & is_page[np.where(known, nav["item"], 0)]))
    return out


def _joined(parts: list[Rolled]) -> Rolled:
    """The visits of every part in one Rolled, in new (writable) arrays."""
    visits = np.concatenate([p.visits for p in parts]) if parts else np.zeros(0, VISIT_ROW)
    items = np.concatenate([p.items for p in parts]) if parts else np.zeros(0, ITEM_ROW)
    return Rolled(visits, items)


def _relabelled(rolled: Rolled, lut: npt.NDArray[np.int32]) -> Rolled:
    """The same visits with shard vocabulary ids turned into site-wide ones (an id the shard's
    vocabulary no longer names reads as 0), in place: the arrays are _joined's own."""
    visits, items = rolled.visits, rolled.items
    for name in ("touch", "entry", "exit"):
        visits[name] = _looked_up(visits[name], lut)
    items["item"] = _looked_up(items["item"], lut)
    return Rolled(visits, items)


def _looked_up(ids: npt.NDArray[Any], lut: npt.NDArray[np.int32]) -> npt.NDArray[np.int32]:
    padded = np.append(lut, np.int32(0)).astype(np.int32)  # past the end: unknown, reads 0
    at = np.minimum(ids.astype(np.int32).view(np.uint32), len(lut))  # negative ids: past it
    out: npt.NDArray[np.int32] = padded[at]
    return out


def _in_range(rolled: Rolled, start_ms: int, end_ms: int) -> Rolled:
    start = rolled.visits["start"]
    keep = (start >= start_ms) & (start < end_ms)
    if keep.all():
        return rolled
    item_keep = np.repeat(keep, rolled.visits["items"])
    return Rolled(rolled.visits[keep], rolled.items[item_keep])

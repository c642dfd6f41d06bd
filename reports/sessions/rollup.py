"""Visits rolled up for the traffic overview: one small row per visit and one per distinct page,
event or property value it had, written beside the day logs when sessions close, in the same
script (so exactly once), and read back instead of every page view.

A VISIT_ROW keeps what the overview counts of a visit: its start, daily visitor hash, touch
(vocabulary id: channel, source, device, country are read from it at query time), entry and
exit pages, duration (first to last event, whole seconds), page views and band. Its ITEM_ROWs,
contiguous and in item order, say how often each page was viewed and each event or property
value (`v:` entries: `property_entry`) happened in the visit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

from collector.days import DAY_MS, day_name
from reports.sessions.layout import Closed, offsets_of

PROPERTY_PREFIX = "v:"
_decode = msgspec.json.Decoder(list[str])

VISIT_ROW = np.dtype(
    [
        ("start", "<i8"),  # server-clock ms of the first event
        ("visitor", "<u8"),
        ("touch", "<i4"),  # vocabulary id of the first page view's touch, 0 when none
        ("entry", "<i4"),  # vocabulary id of the first page viewed, 0 when none
        ("exit", "<i4"),  # of the last page viewed
        ("duration_s", "<u4"),
        ("views", "<u4"),  # page views
        ("items", "<u4"),  # ITEM_ROWs of the visit
        ("band", "u1"),
        ("pad", "V3"),
    ]
)
ITEM_ROW = np.dtype([("item", "<i4"), ("count", "<u4")])


@dataclass(frozen=True)
class Rolled:
    """Visits in the rollup layout: VISIT_ROW records and their ITEM_ROWs, in visit order."""

    visits: npt.NDArray[np.void]
    items: npt.NDArray[np.void]


def roll_up(closed: Closed, page: npt.NDArray[np.bool_]) -> Rolled:
    """The rollup rows of closed sessions; `page` flags the nav rows that are page views (fresh
    from sessionize that is `closed.page`; for logs read back, it comes from the vocabulary)."""
    sessions, nav = closed.sessions, closed.nav
    n = len(sessions)
    visits = np.zeros(n, VISIT_ROW)
    if not n:
        return Rolled(visits, np.zeros(0, ITEM_ROW))
    visits["start"] = sessions["start"]
    visits["visitor"] = sessions["visitor"]
    visits["touch"] = sessions["source"]
    visits["band"] = sessions["band"]
    visits["duration_s"] = (sessions["end"] - sessions["start"]) // 1000
    row_session = np.repeat(np.arange(n), sessions["rows"])
    visits["views"] = np.bincount(row_session[page], minlength=n)
    page_rows = np.flatnonzero(page)
    entry = np.full(n, -1, dtype=np.int64)
    entry[row_session[page_rows[::-1]]] = page_rows[::-1]  # reversed: the earliest write wins
    leave = np.full(n, -1, dtype=np.int64)
    leave[row_session[page_rows]] = page_rows  # in order: the latest write wins
    seen = entry >= 0
    visits["entry"][seen] = nav["item"][entry[seen]]
    visits["exit"][seen] = nav["item"][leave[seen]]

    prop_counts = closed.prop_counts if len(closed.prop_counts) == n else np.zeros(n, np.int64)
    owner = np.concatenate([row_session, np.repeat(np.arange(n), prop_counts)])
    item = np.concatenate([nav["item"], closed.props]).astype(np.int64)
    pairs, counts = np.unique((owner << 32) | (item & 0xFFFFFFFF), return_counts=True)
    items = np.zeros(len(pairs), ITEM_ROW)
    items["item"] = (pairs & 0xFFFFFFFF).astype(np.uint32).view(np.int32)
    items["count"] = counts
    visits["items"] = np.bincount(pairs >> 32, minlength=n)
    return Rolled(visits, items)


def item_offsets(visits: npt.NDArray[np.void]) -> npt.NDArray[np.int64]:
    """Row offsets of each visit's ITEM_ROWs."""
    return offsets_of(visits["items"])


def split_rolled(rolled: Rolled) -> dict[str, Rolled]:
    """Visits grouped by the UTC day they started on, each day's item rows kept with them."""
    visits = rolled.visits
    if not len(visits):
        return {}
    day = visits["start"] // DAY_MS
    item_day = np.repeat(day, visits["items"])
    return {
        day_name(d): Rolled(visits[day == d], rolled.items[item_day == d])
        for d in np.unique(day).tolist()
    }


def property_entry(event: str, name: str, value: Any) -> str:
    """The vocabulary entry of one property value of a custom event: "v:" + a JSON array, so
    no stranger's text can forge another field. Values are kept as text: "pro", "3", "true"."""
    text = value if isinstance(value, str) else msgspec.json.encode(value).decode()
    return PROPERTY_PREFIX + msgspec.json.encode([event, name, text]).decode()


def parse_property(entry: str) -> tuple[str, str, str] | None:
    """(event, property, value) of a property entry; None for anything else."""
    if not entry.startswith(PROPERTY_PREFIX):
        return None
    try:
        fields = _decode.decode(entry[len(PROPERTY_PREFIX) :])
    except msgspec.DecodeError:
        return None
    return (fields[0], fields[1], fields[2]) if len(fields) == 3 else None

"""Build SessionTables from plain Python sessions, for the funnel tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from reports.sessions.layout import CLICK_ROW, SessionTable, offsets_of


@dataclass
class S:
    """A session: (ms, "p:/path" or "e:name") in recorded order, plus who and from where."""

    events: list[tuple[int, str]]
    visitor: int = 0
    band: int = 2
    source: str = "(direct)"
    clicks: list[tuple[int, str, int, int]] = field(default_factory=list)  # ms, page, row, col
    open: bool = False  # still open (it may go on)


def table_of(sessions: Sequence[S]) -> SessionTable:
    vocab: dict[str, int] = {}
    sources: dict[str, int] = {}
    ts, item, counts, click_counts, clicks = [], [], [], [], []
    for session in sessions:
        counts.append(len(session.events))
        for ms, name in session.events:
            ts.append(ms)
            item.append(vocab.setdefault(name, len(vocab)))
        click_counts.append(len(session.clicks))
        for ms, page, row, col in session.clicks:
            clicks.append((ms, vocab.setdefault(page, len(vocab)), row, col, 0))
        sources.setdefault(session.source, len(sources))
    return SessionTable(
        offsets=offsets_of(counts),
        ts=np.asarray(ts, dtype=np.int64),
        item=np.asarray(item, dtype=np.int32),
        vocab=list(vocab),
        start=np.asarray([s.events[0][0] if s.events else 0 for s in sessions], dtype=np.int64),
        band=np.asarray([s.band for s in sessions], dtype=np.uint8),
        source=np.asarray([sources[s.source] for s in sessions], dtype=np.int32),
        sources=list(sources),
        visitor=np.asarray([s.visitor for s in sessions], dtype=np.uint64),
        click_offsets=offsets_of(click_counts),
        clicks=np.asarray(clicks, dtype=CLICK_ROW),
        open=np.asarray([s.open for s in sessions], dtype=bool),
    )

"""sessionize: raw rows of browser session ids into sessions, split by inactivity and length."""

from __future__ import annotations

import numpy as np

from reports.sessions.layout import (
    CLICK_RAGE,
    KIND_CLICK,
    KIND_CUSTOM,
    KIND_PAGE,
    KIND_RAGE,
    OPEN_ROW,
    sessionize,
)

MIN = 60_000
HOUR = 60 * MIN


def rows(*spec: tuple[int, int, int]) -> np.ndarray:
    """(ms, kind, item) rows; page views get band 1 and source 7 + item."""
    out = np.zeros(len(spec), OPEN_ROW)
    out["ts"] = [s[0] for s in spec]
    out["kind"] = [s[1] for s in spec]
    out["item"] = [s[2] for s in spec]
    out["band"] = 1
    out["source"] = [7 + s[2] if s[1] == KIND_PAGE else 0 for s in spec]
    return out


def test_rows_come_out_grouped_by_session_and_in_time_order() -> None:
    raw = rows((3 * MIN, KIND_PAGE, 3), (0, KIND_PAGE, 1), (MIN, KIND_CUSTOM, 2), (0, KIND_PAGE, 9))
    closed = sessionize(raw, np.array([0, 0, 0, 1]))
    assert closed.sessions["rows"].tolist() == [3, 1]
    assert closed.nav["item"].tolist() == [1, 2, 3, 9]
    assert closed.sessions["source"].tolist() == [8, 16]  # that of the first page view
    assert closed.sessions["end"].tolist() == [3 * MIN, 0]


def test_thirty_minutes_of_inactivity_start_a_new_session() -> None:
    raw = rows((0, KIND_PAGE, 1), (30 * MIN, KIND_PAGE, 2), (60 * MIN + 1, KIND_PAGE, 3))
    closed = sessionize(raw, np.zeros(3, dtype=np.int64))
    assert closed.sessions["rows"].tolist() == [2, 1]  # a gap of exactly 30 min does not split


def test_a_session_ends_after_its_maximum_length_even_when_active() -> None:
    raw = rows(*[(i * 20 * MIN, KIND_PAGE, 1) for i in range(8)])  # every 20 min for 2 h 20
    closed = sessionize(raw, np.zeros(8, dtype=np.int64), max_ms=HOUR)
    assert closed.sessions["rows"].tolist() == [3, 3, 2]
    assert closed.sessions["start"].tolist() == [0, HOUR, 2 * HOUR]


def test_clicks_ride_along_with_their_flags() -> None:
    raw = rows((0, KIND_PAGE, 1), (5, KIND_CLICK, 1), (6, KIND_RAGE, 1))
    raw["fixed"][1] = 1
    closed = sessionize(raw, np.zeros(3, dtype=np.int64))
    assert closed.sessions["clicks"].tolist() == [2]
    assert closed.clicks["flags"].tolist() == [2, CLICK_RAGE]


def test_nothing_in_nothing_out() -> None:
    closed = sessionize(np.zeros(0, OPEN_ROW), np.zeros(0, dtype=np.int64))
    assert (len(closed.sessions), len(closed.nav), len(closed.clicks)) == (0, 0, 0)

"""Durations as people write and read them: '30m', '1h', '2d' in, '45 s', '12 min', '1.5 h'
out, the same in the CLI, the dashboard and the report."""

from __future__ import annotations

import re

from collector.days import DAY_MS, HOUR_MS, MINUTE_MS

MAX_WINDOW_MS = 7 * DAY_MS
_DURATION = re.compile(r"(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>ms|s|m|min|h|d)?")
_UNIT_MS = {"ms": 1, "s": 1000, "m": MINUTE_MS, "min": MINUTE_MS, "h": HOUR_MS, "d": DAY_MS}


def parse_duration_ms(text: str) -> int:
    """'30m', '1h', '90s', '2d' or a number of seconds -> ms, between 1 s and 7 days."""
    match = _DURATION.fullmatch(text.strip().lower())
    if not match:
        raise ValueError(f"expected a duration like 30m, 1h or 2d, got {text!r}")
    ms = int(float(match["n"]) * _UNIT_MS[match["unit"] or "s"])
    if not 1000 <= ms <= MAX_WINDOW_MS:
        raise ValueError(f"a window runs from 1s to 7d, got {text!r}")
    return ms


def format_duration(seconds: float | None) -> str:
    """'45 s', '12 min', '1.5 h', '2 d'; empty for no value."""
    if seconds is None:
        return ""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400 and seconds % 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86_400:
        return f"{seconds / 3600:.1f} h".replace(".0 h", " h")
    return f"{seconds / 86_400:.1f} d".replace(".0 d", " d")

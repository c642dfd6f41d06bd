"""Values people type, parsed once for the CLI's options, the API's query parameters and the
settings alike. Each parser raises ValueError with a message that says what it expected."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

WHOLE_NUMBER = re.compile(r"-?[0-9]{1,18}")  # ASCII digits only: int() also takes "٣" and "1_0"
FIRST_YEAR, LAST_YEAR = 2000, 2100  # dates outside are typos, not analytics


def int_between(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        text = str(raw).strip()
        if not WHOLE_NUMBER.fullmatch(text) or not low <= int(text) <= high:
            raise ValueError(f"expected a whole number from {low} to {high}, got {text[:40]!r}")
        return int(text)

    return parse


def iso_date(raw: str) -> date:
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"expected a date as YYYY-MM-DD, got {raw[:40]!r}") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(f"expected a year from {FIRST_YEAR} to {LAST_YEAR}, got {day.year}")
    return day

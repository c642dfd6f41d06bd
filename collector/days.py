"""Days as clicktrail keeps them. Per-day keys are named by the UTC day (YYYYMMDD) of an epoch-day
number (ms // DAY_MS), and no read spans more than MAX_RANGE_DAYS days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY_S = 86_400
DAY_MS = DAY_S * 1000
HOUR_MS = 3_600_000
MINUTE_MS = 60_000
MAX_RANGE_DAYS = 366  # the longest range any command, route or report reads: a leap year
PAGES_PERIOD_DAYS = 30  # pages, elements and heatmaps read the last 30 days unless asked
FUNNEL_PERIOD_DAYS = 7  # funnels the last 7: a week of attempts, each day of the week once
JOURNEY_PERIOD_DAYS = 7  # journeys and A-to-B too: a week of visits
OVERVIEW_PERIOD_DAYS = 30  # the overview a month, as Plausible's and Umami's open on


def parse_zone(name: str) -> ZoneInfo:
    """An IANA time zone; ValueError names the bad one."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r} (use an IANA name like Europe/Paris)"
        ) from None


@lru_cache(maxsize=1024)
def day_name(day: int) -> str:
    """The key name of epoch day `day` (days since 1970-01-01, UTC)."""
    return datetime.fromtimestamp(day * DAY_S, UTC).strftime("%Y%m%d")


def day_name_of(day: date) -> str:
    return day.strftime("%Y%m%d")


def check_range(first: date, last: date) -> None:
    """ValueError unless [first, last] is a range a read may span."""
    if last < first:
        raise ValueError(f"the range ends ({last}) before it starts ({first})")
    if (last - first).days >= MAX_RANGE_DAYS:
        raise ValueError(f"a range holds at most {MAX_RANGE_DAYS} days")


def day_names(first: date, last: date) -> list[str]:
    """The key names of every day from `first` to `last`, both included."""
    check_range(first, last)
    return [day_name_of(first + timedelta(d)) for d in range((last - first).days + 1)]


def period(first: date | None, last: date | None, default_days: int) -> tuple[date, date]:
    """The days asked for: by default the last `default_days` up to today (UTC), checked."""
    last = last or datetime.now(UTC).date()
    first = first or last - timedelta(days=default_days - 1)
    check_range(first, last)
    return first, last

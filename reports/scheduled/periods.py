"""The days a report covers: named periods counted back from today in the report's time zone,
and the sentence that says which days they are."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from collector.days import check_range, parse_zone

# name -> (days, days between the last one and today): yesterday is the last full day.
PERIODS = {
    "today": (1, 0),
    "yesterday": (1, 1),
    "7d": (7, 1),
    "30d": (30, 1),
    "7d-today": (7, 0),
    "30d-today": (30, 0),
}
DEFAULT_PERIOD = "yesterday"
PERIOD_HELP = (
    "today, yesterday (the last full day), 7d or 30d (full days, ending yesterday), "
    "7d-today or 30d-today (ending today, so far)"
)


def today_in(zone: str, now: datetime | None = None) -> date:
    """The date it is now (or at `now`) in `zone`: at 05:46 in Paris on Dec 2, Dec 2."""
    tz = parse_zone(zone)
    return (now or datetime.now(tz)).astimezone(tz).date()


def report_period(name: str, today: date) -> tuple[date, date]:
    """The first and last day of period `name`, counted back from `today`."""
    if name not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}, not {name!r}")
    days, gap = PERIODS[name]
    last = today - timedelta(days=gap)
    return last - timedelta(days=days - 1), last


def chosen_period(first: date | None, last: date | None, today: date) -> tuple[date, date]:
    """`--from`/`--to`: from `first` (default: `last`) to `last` (default: today), checked."""
    last = last or today
    first = first or last
    check_range(first, last)
    return first, last


def covers(first: date, last: date, zone: str) -> str:
    """'2026-11-25 to 2026-12-01 (Europe/Paris)', or one day alone."""
    days = first.isoformat() if first == last else f"{first.isoformat()} to {last.isoformat()}"
    return f"{days} ({zone})"

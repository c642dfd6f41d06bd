"""Report periods: counted back from today in the report's time zone, each saying what it
covers."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from reports.scheduled.periods import chosen_period, covers, report_period, today_in

DEC_2 = date(2026, 12, 2)


@pytest.mark.parametrize(
    ("name", "first", "last"),
    [
        ("today", DEC_2, DEC_2),
        ("yesterday", date(2026, 12, 1), date(2026, 12, 1)),
        ("7d", date(2026, 11, 25), date(2026, 12, 1)),
        ("30d", date(2026, 11, 2), date(2026, 12, 1)),
        ("7d-today", date(2026, 11, 26), DEC_2),
        ("30d-today", date(2026, 11, 3), DEC_2),
    ],
)
def test_each_period_counts_back_from_today(name: str, first: date, last: date) -> None:
    assert report_period(name, DEC_2) == (first, last)


def test_yesterday_is_the_last_full_day_in_the_reports_time_zone() -> None:
    at_05_46_in_paris = datetime(2026, 12, 2, 4, 46, tzinfo=UTC)
    assert report_period("yesterday", today_in("Europe/Paris", at_05_46_in_paris))[1] == date(
        2026, 12, 1
    )
    # 00:30 in Paris is still Dec 1 in UTC: the zone decides which day is today.
    just_after_midnight = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)
    assert today_in("Europe/Paris", just_after_midnight) == DEC_2
    assert today_in("UTC", just_after_midnight) == date(2026, 12, 1)


def test_from_and_to_choose_the_days() -> None:
    assert chosen_period(date(2026, 11, 20), None, DEC_2) == (date(2026, 11, 20), DEC_2)
    assert chosen_period(None, date(2026, 11, 20), DEC_2) == (date(2026, 11, 20),) * 2
    with pytest.raises(ValueError, match="before it starts"):
        chosen_period(DEC_2, date(2026, 11, 20), DEC_2)


def test_a_period_says_what_it_covers() -> None:
    assert covers(date(2026, 11, 25), date(2026, 12, 1), "Europe/Paris") == (
        "2026-11-25 to 2026-12-01 (Europe/Paris)"
    )
    assert covers(DEC_2, DEC_2, "UTC") == "2026-12-02 (UTC)"

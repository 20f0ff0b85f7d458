"""The working-day calendar: published schedules, administrators' schedules, weekends alone (DOMAIN.md → Time)."""

from __future__ import annotations

from datetime import date

import pytest

from domain.calendar import (
    PUBLISHED_FIRST_YEAR,
    PUBLISHED_LAST_YEAR,
    Calendar,
    ScheduledDay,
    check_schedule,
    published_schedule,
)
from domain.errors import InvalidInput

# A year no published data will ever cover, so these tests hold whatever chinesecalendar version is installed.
FAR = 2099


def test_published_data_covers_2004_to_2026() -> None:
    assert (PUBLISHED_FIRST_YEAR, PUBLISHED_LAST_YEAR) == (2004, 2026)
    cal = Calendar()
    assert cal.known(2026) and cal.source(2026) == "published"
    assert not cal.known(2027) and cal.source(2027) == "unknown"
    assert not cal.known(2003)


def test_national_day_2025_rests_and_its_make_up_weekends_work() -> None:
    cal = Calendar()
    assert not any(cal.is_working_day(date(2025, 10, d)) for d in range(1, 9))
    assert cal.is_working_day(date(2025, 9, 28))  # Sunday, 调休
    assert cal.is_working_day(date(2025, 10, 11))  # Saturday, 调休
    assert not cal.is_working_day(date(2025, 10, 12))  # an ordinary Sunday
    assert cal.is_working_day(date(2025, 10, 9))


def test_spring_festival_2025_rests_and_its_make_up_weekends_work() -> None:
    cal = Calendar()
    assert not any(cal.is_working_day(date(2025, 1, d)) for d in range(28, 32))
    assert not any(cal.is_working_day(date(2025, 2, d)) for d in range(1, 5))
    assert cal.is_working_day(date(2025, 1, 26)) and cal.is_working_day(date(2025, 2, 8))


def test_published_names_are_chinese() -> None:
    sched = published_schedule(2025)
    assert sched is not None
    assert sched.holidays[date(2025, 10, 1)] == "国庆节"
    assert sched.holidays[date(2025, 1, 29)] == "春节"
    assert [s.kind for s in sched.days() if s.day == date(2025, 10, 11)] == ["workday"]


def test_a_year_without_schedule_is_computed_on_weekends_alone() -> None:
    cal = Calendar()
    assert cal.schedule(FAR) is None
    assert cal.is_working_day(date(FAR, 1, 1))  # a Thursday: New Year's Day is not known
    assert not cal.is_working_day(date(FAR, 1, 3))  # Saturday


def test_an_entered_schedule_makes_its_year_known() -> None:
    cal = Calendar(
        [
            ScheduledDay(date(FAR, 1, 1), "holiday", "元旦"),
            ScheduledDay(date(FAR, 1, 2), "holiday", "元旦"),
            ScheduledDay(date(FAR, 1, 4), "workday", "元旦调休"),
        ]
    )
    assert cal.known(FAR) and cal.source(FAR) == "entered"
    assert not cal.is_working_day(date(FAR, 1, 1))
    assert not cal.is_working_day(date(FAR, 1, 2))
    assert cal.is_working_day(date(FAR, 1, 4))  # a Sunday made a working day
    assert cal.is_working_day(date(FAR, 1, 5))


def test_an_entered_schedule_replaces_the_published_one_for_its_year() -> None:
    cal = Calendar([ScheduledDay(date(2025, 10, 1), "holiday", "国庆节")])
    assert cal.source(2025) == "entered"
    assert cal.is_working_day(date(2025, 10, 2))  # the administrator's schedule wins
    assert cal.source(2024) == "published"


def test_published_data_can_be_left_out() -> None:
    cal = Calendar(published=False)
    assert not cal.known(2025)
    assert cal.is_working_day(date(2025, 10, 1))


def test_day_kind_from_plain_data_is_checked() -> None:
    assert ScheduledDay.of(date(FAR, 1, 1), "holiday").kind == "holiday"
    with pytest.raises(ValueError):
        ScheduledDay.of(date(FAR, 1, 1), "rest")


def _days(*pairs: tuple[date, str]) -> list[ScheduledDay]:
    return [ScheduledDay.of(d, k) for d, k in pairs]


def test_schedule_is_sorted_and_accepted() -> None:
    days = check_schedule(FAR, _days((date(FAR, 2, 1), "holiday"), (date(FAR, 1, 1), "holiday")))
    assert [s.day for s in days] == [date(FAR, 1, 1), date(FAR, 2, 1)]


@pytest.mark.parametrize(
    ("days", "kind"),
    [
        (_days((date(FAR + 1, 1, 1), "holiday")), "DayOutsideYear"),
        (_days((date(FAR, 1, 1), "holiday"), (date(FAR, 1, 1), "holiday")), "DuplicateDay"),
        (
            _days((date(FAR, 1, 1), "holiday"), (date(FAR, 1, 3), "holiday"), (date(FAR, 1, 3), "workday")),
            "DuplicateDay",
        ),
        (_days((date(FAR, 1, 1), "holiday"), (date(FAR, 1, 5), "workday")), "WorkdayNotWeekend"),
        (_days((date(FAR, 1, 4), "workday")), "NoHolidays"),
    ],
)
def test_bad_schedules_are_refused(days: list[ScheduledDay], kind: str) -> None:
    with pytest.raises(InvalidInput) as e:
        check_schedule(FAR, days)
    assert e.value.kind == kind

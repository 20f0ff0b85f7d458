"""Legal periods: days, months, working days (民法典 第二百零一至二百零四条; 民事诉讼法 期间; DOMAIN.md → Time)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from domain.calendar import Calendar, ScheduledDay
from domain.clock import BEIJING, end_of_day
from domain.errors import InvalidInput
from domain.periods import (
    add_months,
    compute_period,
    due_after,
    working_days_back,
    working_days_before,
)

CAL = Calendar()
FIRST_UNPUBLISHED = 2027  # chinesecalendar 1.11.0 ends with 2026 (see test_calendar)


def _last(start: date, length: int, unit: str, cal: Calendar = CAL) -> date:
    return compute_period(cal, start, length, unit).last_day


def test_api_example_five_working_days_across_national_day_2025() -> None:
    """Oct 1–8 rest; Oct 11 (Saturday) is a make-up working day (API.md → Legal periods)."""
    p = compute_period(CAL, date(2025, 9, 30), 5, "working_days")
    assert p.last_day == date(2025, 10, 14)
    assert p.ends_at.isoformat() == "2025-10-14T23:59:59.999999+08:00"
    assert p.confirmed and p.unknown_years == ()
    assert (p.start, p.unit, p.length) == (date(2025, 9, 30), "working_days", 5)


def test_working_days_count_the_make_up_sunday_before_spring_festival_2025() -> None:
    # Jan 25 Saturday rests, Jan 26 Sunday works (调休), Jan 27, then Jan 28 – Feb 4 rest.
    assert _last(date(2025, 1, 24), 3, "working_days") == date(2025, 2, 5)


def test_day_of_the_act_is_not_counted() -> None:
    assert _last(date(2025, 11, 3), 1, "days") == date(2025, 11, 4)
    assert _last(date(2025, 11, 3), 1, "working_days") == date(2025, 11, 4)


def test_days_period_ending_on_a_holiday_moves_to_the_next_working_day() -> None:
    assert _last(date(2025, 9, 24), 10, "days") == date(2025, 10, 9)  # Oct 4 is National Day


def test_days_period_ending_on_a_weekend_moves_to_monday() -> None:
    assert _last(date(2025, 11, 10), 5, "days") == date(2025, 11, 17)


def test_days_period_ending_on_a_make_up_saturday_stays() -> None:
    assert _last(date(2025, 10, 1), 10, "days") == date(2025, 10, 11)


@pytest.mark.parametrize(
    ("start", "months", "corresponding"),
    [
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),  # leap year
        (date(2024, 2, 29), 12, date(2025, 2, 28)),  # no Feb 29 in 2025
        (date(2023, 2, 28), 12, date(2024, 2, 28)),
        (date(2025, 3, 31), 1, date(2025, 4, 30)),
        (date(2025, 11, 30), 3, date(2026, 2, 28)),
        (date(2025, 12, 15), 1, date(2026, 1, 15)),
        (date(2025, 5, 20), 0, date(2025, 5, 20)),
    ],
)
def test_months_end_on_the_corresponding_day_or_the_month_s_last_day(
    start: date, months: int, corresponding: date
) -> None:
    assert add_months(start, months) == corresponding


def test_one_month_from_january_31_ends_on_february_28_or_29() -> None:
    assert _last(date(2025, 1, 31), 1, "months") == date(2025, 2, 28)  # a Friday
    assert _last(date(2024, 1, 31), 1, "months") == date(2024, 2, 29)  # a Thursday, leap year


def test_month_period_ending_on_a_make_up_saturday_stays() -> None:
    # 2026-02-28 is a Saturday made a working day for the Spring Festival (调休).
    assert _last(date(2026, 1, 31), 1, "months") == date(2026, 2, 28)


def test_month_period_ending_on_national_day_moves_past_the_holiday() -> None:
    assert _last(date(2025, 9, 1), 1, "months") == date(2025, 10, 9)


def test_due_after_counts_from_the_beijing_date_of_the_act() -> None:
    # 17:00 UTC on Mar 31 is 01:00 on Apr 1 in Beijing; a month later is May 1, Labour Day (May 1–5 rest).
    p = due_after(CAL, datetime(2025, 3, 31, 17, 0, tzinfo=UTC), 1, "months")
    assert p.start == date(2025, 4, 1)
    assert p.last_day == date(2025, 5, 6)
    assert p.ends_at == end_of_day(date(2025, 5, 6))
    assert p.ends_at.utcoffset() == BEIJING.utcoffset(None)


def test_due_after_refuses_a_naive_instant() -> None:
    with pytest.raises(InvalidInput):
        due_after(CAL, datetime(2025, 3, 31, 17, 0), 1, "days")


def test_a_year_beyond_published_data_is_computed_on_weekends_alone_and_unconfirmed() -> None:
    # 2027-01-01 is a Friday; without the 2027 schedule New Year's Day counts as a working day.
    p = compute_period(CAL, date(2026, 12, 30), 2, "days")
    assert p.last_day == date(2027, 1, 1)
    assert not p.confirmed and p.unknown_years == (FIRST_UNPUBLISHED,)
    w = compute_period(CAL, date(2026, 12, 28), 5, "working_days")
    assert w.last_day == date(2027, 1, 4)
    assert not w.confirmed


def test_an_entered_schedule_confirms_the_year_and_moves_the_last_day() -> None:
    cal = Calendar([ScheduledDay(date(2027, 1, d), "holiday", "元旦") for d in (1, 2, 3)])
    p = compute_period(cal, date(2026, 12, 30), 2, "days")
    assert p.last_day == date(2027, 1, 4)
    assert p.confirmed and p.unknown_years == ()


def test_a_period_within_known_years_is_confirmed_even_when_a_later_year_is_unknown() -> None:
    assert compute_period(CAL, date(2026, 12, 1), 10, "days").confirmed


def test_working_days_before_a_due_day() -> None:
    assert working_days_before(CAL, date(2025, 10, 9), 1) == date(2025, 9, 30)  # across National Day
    assert working_days_before(CAL, date(2025, 10, 13), 1) == date(2025, 10, 11)  # a make-up Saturday
    assert working_days_before(CAL, date(2025, 10, 13), 2) == date(2025, 10, 10)
    assert working_days_before(CAL, date(2025, 10, 13), 0) == date(2025, 10, 13)


def test_working_days_back_into_an_unknown_year_is_unconfirmed() -> None:
    r = working_days_back(CAL, date(FIRST_UNPUBLISHED, 1, 5), 1)
    assert r.day == date(FIRST_UNPUBLISHED, 1, 4)
    assert not r.confirmed and r.unknown_years == (FIRST_UNPUBLISHED,)


@pytest.mark.parametrize(
    ("length", "unit", "kind"),
    [(5, "weeks", "InvalidUnit"), (0, "days", "InvalidLength"), (-1, "months", "InvalidLength")],
)
def test_bad_unit_or_length_is_invalid_input(length: int, unit: str, kind: str) -> None:
    with pytest.raises(InvalidInput) as e:
        compute_period(CAL, date(2025, 1, 1), length, unit)
    assert e.value.kind == kind


def test_a_period_beyond_the_last_representable_day_is_invalid_input() -> None:
    with pytest.raises(InvalidInput):
        compute_period(CAL, date(9999, 12, 30), 5, "days")
    with pytest.raises(InvalidInput):
        compute_period(CAL, date(9999, 12, 30), 5, "months")

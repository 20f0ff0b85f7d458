"""Beijing time and the entry rule (rule entry-3d, seed 002 第二条)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from domain.clock import (
    BEIJING,
    beijing_date,
    end_of_day,
    entry_due,
    format_beijing,
    format_day,
    is_late_entry,
)


def _bj(text: str) -> datetime:
    return datetime.fromisoformat(text + "+08:00")


def test_act_late_in_the_evening_is_due_at_the_end_of_the_third_following_day() -> None:
    due = entry_due(_bj("2026-11-21T23:00:00"))
    assert beijing_date(due) == date(2026, 11, 24)
    assert due == end_of_day(date(2026, 11, 24))


def test_entry_deadline_ends_at_midnight_beijing() -> None:
    due = entry_due(_bj("2026-11-21T08:00:00"))
    assert due.astimezone(BEIJING).time().hour == 23
    assert due < _bj("2026-11-25T00:00:00")
    assert due > _bj("2026-11-24T23:59:59")


def test_entry_on_the_third_day_is_on_time() -> None:
    act = _bj("2026-11-21T23:00:00")
    assert not is_late_entry(act, _bj("2026-11-24T23:59:59"))
    assert not is_late_entry(act, _bj("2026-11-21T23:30:00"))


def test_entry_on_the_fourth_day_is_late() -> None:
    act = _bj("2026-11-21T23:00:00")
    assert is_late_entry(act, _bj("2026-11-25T00:00:00"))
    assert is_late_entry(act, _bj("2026-11-25T09:00:00"))


def test_act_given_in_utc_counts_from_its_beijing_day() -> None:
    # 15:00 UTC on Nov 21 is 23:00 on Nov 21 in Beijing.
    assert entry_due(datetime(2026, 11, 21, 15, 0, tzinfo=UTC)) == end_of_day(date(2026, 11, 24))
    # 16:30 UTC on Nov 21 is 00:30 on Nov 22 in Beijing: one day more.
    assert entry_due(datetime(2026, 11, 21, 16, 30, tzinfo=UTC)) == end_of_day(date(2026, 11, 25))


def test_entry_given_in_utc_is_compared_as_an_instant() -> None:
    act = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)  # Nov 21, 23:00 Beijing
    # 15:59 UTC on Nov 24 is 23:59 Beijing on Nov 24: on time; 16:00 UTC is Nov 25 in Beijing: late.
    assert not is_late_entry(act, datetime(2026, 11, 24, 15, 59, tzinfo=UTC))
    assert is_late_entry(act, datetime(2026, 11, 24, 16, 0, tzinfo=UTC))


def test_entry_period_runs_across_a_month_end() -> None:
    assert beijing_date(entry_due(_bj("2026-11-29T10:00:00"))) == date(2026, 12, 2)


def test_beijing_date_of_an_utc_evening_is_the_next_day() -> None:
    assert beijing_date(datetime(2026, 11, 19, 23, 30, tzinfo=UTC)) == date(2026, 11, 20)


def test_format_beijing_shows_beijing_time_as_courts_write_it() -> None:
    assert format_beijing(datetime(2026, 11, 21, 2, 0, tzinfo=UTC)) == "2026年11月21日10时00分"


def test_format_beijing_pads_hours_and_minutes_but_not_months_and_days() -> None:
    assert format_beijing(_bj("2026-01-05T09:05:00")) == "2026年1月5日09时05分"


def test_format_beijing_rolls_the_date_over_at_beijing_midnight() -> None:
    moment = datetime(2026, 12, 31, 16, 0, tzinfo=UTC)
    assert format_beijing(moment) == "2027年1月1日00时00分"
    assert format_beijing(moment.astimezone(BEIJING)) == format_beijing(moment)


def test_beijing_has_no_daylight_saving() -> None:
    summer = datetime(2026, 7, 1, tzinfo=BEIJING)
    winter = datetime(2026, 1, 1, tzinfo=BEIJING)
    assert summer.utcoffset() == winter.utcoffset() == timedelta(hours=8)


def test_format_day() -> None:
    assert format_day(date(2026, 11, 20)) == "2026年11月20日"

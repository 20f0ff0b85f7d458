"""The calendar activities on a migrated database: deadlines as instants, and alerts for unknown years."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import ActivityEnvironment

from activities.calendar import CalendarActivities, raise_alerts
from db.models import CalendarAlert, HolidaySchedule
from domain.clock import BEIJING
from domain.period_models import DueInput, DueResult, WarnInput, WarnResult

UNPUBLISHED = 2027  # the first year chinesecalendar 1.11.0 does not cover


@pytest.fixture
def acts(sessions: async_sessionmaker[AsyncSession]) -> CalendarActivities:
    return CalendarActivities(sessions)


async def due(acts: CalendarActivities, start: str, length: int, unit: str) -> DueResult:
    """Run the activity as the worker would, so ``activity.logger`` has its context."""
    inp = DueInput(start=datetime.fromisoformat(start), length=length, unit=unit)
    return await ActivityEnvironment().run(acts.compute_due, inp)


async def warn(acts: CalendarActivities, due_at: datetime, working_days: int) -> WarnResult:
    return await ActivityEnvironment().run(acts.warn_at, WarnInput(due_at=due_at, working_days=working_days))


async def alerts(sessions: async_sessionmaker[AsyncSession]) -> list[CalendarAlert]:
    async with sessions() as s:
        return list(await s.scalars(select(CalendarAlert).order_by(CalendarAlert.year)))


async def enter_new_year_2027(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as s:
        s.add_all(
            HolidaySchedule(
                year=UNPUBLISHED, day=date(UNPUBLISHED, 1, d), kind="holiday", name="元旦",
                entered_by="admin", entered_at=datetime.now(UTC),
            )
            for d in (1, 2, 3)
        )  # fmt: skip


async def test_due_instant_of_five_working_days_across_national_day(
    acts: CalendarActivities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    r = await due(acts, "2025-09-30T10:00:00+08:00", 5, "working_days")
    assert r == DueResult(
        due_at=datetime(2025, 10, 14, 23, 59, 59, 999999, BEIJING), last_day=date(2025, 10, 14), confirmed=True
    )
    assert r.due_at.utcoffset() is not None
    assert await alerts(sessions) == []


async def test_due_counts_from_the_beijing_date_of_the_act(acts: CalendarActivities) -> None:
    # 17:00 UTC on Mar 31 is Apr 1 in Beijing; one month later is Labour Day, which rests until May 5.
    r = await due(acts, "2025-03-31T17:00:00+00:00", 1, "months")
    assert r.last_day == date(2025, 5, 6)


async def test_unknown_year_is_unconfirmed_and_raises_one_alert_for_the_administrators(
    acts: CalendarActivities, sessions: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        r1 = await due(acts, "2026-12-30T09:00:00+08:00", 2, "days")
        r2 = await due(acts, "2026-12-28T09:00:00+08:00", 5, "working_days")
    assert (r1.last_day, r1.confirmed) == (date(UNPUBLISHED, 1, 1), False)  # weekends alone: Jan 1 is a Friday
    assert not r2.confirmed
    rows = await alerts(sessions)
    assert [(a.year, a.resolved_at) for a in rows] == [(UNPUBLISHED, None)]
    assert rows[0].first_seen_at.tzinfo is not None
    assert any("holiday schedule unknown" in rec.getMessage() for rec in caplog.records)


async def test_an_entered_schedule_confirms_the_deadline_and_moves_it(
    acts: CalendarActivities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await enter_new_year_2027(sessions)
    r = await due(acts, "2026-12-30T09:00:00+08:00", 2, "days")
    assert (r.last_day, r.confirmed) == (date(UNPUBLISHED, 1, 4), True)
    assert await alerts(sessions) == []


async def test_a_resolved_alert_reopens_when_the_year_is_still_unknown(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await raise_alerts(sessions, [UNPUBLISHED])
    async with sessions.begin() as s:
        alert = await s.get(CalendarAlert, UNPUBLISHED)
        assert alert is not None
        alert.resolved_at, alert.resolved_by = datetime.now(UTC), "admin"
    await raise_alerts(sessions, [UNPUBLISHED, UNPUBLISHED])
    assert [(a.year, a.resolved_at, a.resolved_by) for a in await alerts(sessions)] == [(UNPUBLISHED, None, None)]


async def test_an_open_alert_is_raised_once_and_only_its_opening_is_reported(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Every deadline into an unknown year asks for the alert; only the first opens it (and warns in the log)."""
    assert await raise_alerts(sessions, [UNPUBLISHED]) == [UNPUBLISHED]
    assert await raise_alerts(sessions, [UNPUBLISHED, UNPUBLISHED]) == []
    async with sessions.begin() as s:
        alert = await s.get(CalendarAlert, UNPUBLISHED)
        assert alert is not None
        alert.resolved_at, alert.resolved_by = datetime.now(UTC), "admin"
    assert await raise_alerts(sessions, [UNPUBLISHED]) == [UNPUBLISHED]  # reopened
    assert len(await alerts(sessions)) == 1


async def test_no_alert_for_a_year_entered_in_the_meantime(sessions: async_sessionmaker[AsyncSession]) -> None:
    await enter_new_year_2027(sessions)
    await raise_alerts(sessions, [UNPUBLISHED])
    assert await alerts(sessions) == []


async def test_warning_starts_one_working_day_before_the_due_day(acts: CalendarActivities) -> None:
    r = await warn(acts, datetime(2025, 10, 9, 23, 59, 59, 999999, BEIJING), 1)
    assert r.at == datetime(2025, 9, 30, 0, 0, tzinfo=BEIJING)  # Oct 1–8 rest
    same_day = await warn(acts, datetime(2025, 10, 13, 15, 0, tzinfo=UTC), 0)  # 23:00 Beijing, Oct 13
    assert same_day.at == datetime(2025, 10, 13, 0, 0, tzinfo=BEIJING)


async def test_warning_in_an_unknown_year_raises_the_alert(
    acts: CalendarActivities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    r = await warn(acts, datetime(UNPUBLISHED, 1, 4, 23, 59, tzinfo=BEIJING), 1)
    assert r.at == datetime(UNPUBLISHED, 1, 1, 0, 0, tzinfo=BEIJING)
    assert [a.year for a in await alerts(sessions)] == [UNPUBLISHED]


def test_inputs_refuse_unknown_units_naive_times_and_empty_periods() -> None:
    aware = datetime(2025, 1, 1, tzinfo=BEIJING)
    with pytest.raises(ValidationError):
        DueInput(start=aware, length=5, unit="weeks")
    with pytest.raises(ValidationError):
        DueInput(start=datetime(2025, 1, 1), length=5, unit="days")
    with pytest.raises(ValidationError):
        DueInput(start=aware, length=0, unit="days")
    with pytest.raises(ValidationError):
        WarnInput(due_at=aware, working_days=-1)

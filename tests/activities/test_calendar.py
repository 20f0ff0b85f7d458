"""The calendar activity on a migrated database: every period of a transition as instants (its due instant, the
handler's reminder and the bureau chief's warning), and alerts for unknown years (decision 3)."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.calendar import CalendarActivities, raise_alerts
from db.models import CalendarAlert, HolidaySchedule
from domain.clock import BEIJING, end_of_day, start_of_day
from domain.models import ScheduleInput
from domain.obligations import PeriodRequest, Schedule

UNPUBLISHED = 2027  # the first year chinesecalendar 1.11.0 does not cover


@pytest.fixture
def acts(sessions: async_sessionmaker[AsyncSession]) -> CalendarActivities:
    return CalendarActivities(sessions)


def period(start: str, length: int, unit: str, *, key: str = "p", **ladder: int) -> PeriodRequest:
    """A period as the obligation book asks for it; ``ladder``: offset_months, remind_before, warn_before."""
    inp = {"key": key, "start": datetime.fromisoformat(start), "length": length, "unit": unit, **ladder}
    return PeriodRequest.model_validate(inp)


async def schedule(acts: CalendarActivities, *requests: PeriodRequest) -> list[Schedule]:
    """Run the activity as the worker would, so ``activity.logger`` has its context."""
    result = await ActivityEnvironment().run(acts.schedule_periods, ScheduleInput(requests=list(requests)))
    return result.schedules


async def one(acts: CalendarActivities, start: str, length: int, unit: str, **ladder: int) -> Schedule:
    [s] = await schedule(acts, period(start, length, unit, key="p", **ladder))
    return s


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


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


async def test_due_instant_of_five_working_days_across_national_day(
    acts: CalendarActivities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    start = "2025-09-30T10:00:00+08:00"
    s = await one(acts, start, 5, "working_days")
    # Oct 1–8 rest; Saturday Oct 11 is a make-up working day (调休): Oct 9, 10, 11, 13, 14.
    assert s.due_at == datetime(2025, 10, 14, 23, 59, 59, 999999, BEIJING)
    assert (s.key, s.start, s.confirmed) == ("p", datetime.fromisoformat(start), True)
    assert s.due_at.utcoffset() is not None
    assert await alerts(sessions) == []


async def test_due_counts_from_the_beijing_date_of_the_act(acts: CalendarActivities) -> None:
    # 17:00 UTC on Mar 31 is Apr 1 in Beijing; one month later is Labour Day, which rests until May 5.
    s = await one(acts, "2025-03-31T17:00:00+00:00", 1, "months")
    assert s.due_at == end_of_day(date(2025, 5, 6))


async def test_reminder_and_warning_come_the_given_working_days_before_the_due_day(acts: CalendarActivities) -> None:
    """The handler is reminded and the bureau chief warned N working days before the due day, at 00:00 Beijing
    (seed 004); rest days and holidays are skipped, make-up days count."""
    s = await one(acts, "2025-10-06T10:00:00+08:00", 3, "days")  # due Thursday Oct 9, the first day after the holiday
    assert s.due_at == end_of_day(date(2025, 10, 9))
    assert s.remind_at == s.warn_at == datetime(2025, 9, 30, 0, 0, tzinfo=BEIJING)  # Oct 1–8 rest

    same_day = await one(acts, "2025-10-06T10:00:00+08:00", 3, "days", remind_before=0, warn_before=0)
    assert same_day.remind_at == same_day.warn_at == datetime(2025, 10, 9, 0, 0, tzinfo=BEIJING)

    make_up = await one(acts, "2025-09-30T10:00:00+08:00", 5, "working_days", remind_before=1, warn_before=2)
    assert make_up.remind_at == start_of_day(date(2025, 10, 13))
    assert make_up.warn_at == start_of_day(date(2025, 10, 11))  # the make-up Saturday is a working day


async def test_a_checkpoint_period_counts_from_the_checkpoint(acts: CalendarActivities) -> None:
    """Feedback is due 15 days after each checkpoint, the checkpoint N months after filing (seed 002 第五条)."""
    s = await one(acts, "2025-01-10T10:00:00+08:00", 15, "days", offset_months=1)
    assert s.start == end_of_day(date(2025, 2, 10))  # one month after filing
    assert s.due_at == end_of_day(date(2025, 2, 25))
    assert s.confirmed


async def test_every_period_of_a_transition_in_one_call_in_order(acts: CalendarActivities) -> None:
    got = await schedule(
        acts,
        period("2025-09-30T10:00:00+08:00", 5, "working_days", key="entry-3d:n1"),
        period("2025-03-31T17:00:00+00:00", 1, "months", key="investigate-1m"),
        period("2025-01-10T10:00:00+08:00", 6, "months", key="term-6m"),
    )
    assert [(s.key, s.due_at.date()) for s in got] == [
        ("entry-3d:n1", date(2025, 10, 14)),
        ("investigate-1m", date(2025, 5, 6)),
        ("term-6m", date(2025, 7, 10)),
    ]


async def test_unknown_year_is_unconfirmed_and_raises_one_alert_for_the_administrators(
    acts: CalendarActivities, sessions: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        s1, s2, known = await schedule(
            acts,
            period("2026-12-30T09:00:00+08:00", 2, "days", key="a"),
            period("2026-12-28T09:00:00+08:00", 5, "working_days", key="b"),
            period("2026-10-20T09:00:00+08:00", 1, "months", key="c"),
        )
    assert (s1.due_at, s1.confirmed) == (end_of_day(date(UNPUBLISHED, 1, 1)), False)  # weekends alone: a Friday
    assert not s2.confirmed
    assert known.confirmed  # a period inside the published years stays confirmed
    rows = await alerts(sessions)
    assert [(a.year, a.resolved_at) for a in rows] == [(UNPUBLISHED, None)]
    assert rows[0].first_seen_at.tzinfo is not None
    assert [m for m in warnings(caplog) if "holiday schedule unknown" in m] != []

    # Every later period into the year asks again; the open alert is not rewritten and not warned about again.
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        again = await one(acts, "2026-12-31T09:00:00+08:00", 10, "days")
    assert not again.confirmed
    assert [(a.year, a.first_seen_at) for a in await alerts(sessions)] == [(UNPUBLISHED, rows[0].first_seen_at)]
    assert [m for m in warnings(caplog) if "holiday schedule unknown" in m] == []


async def test_a_reminder_in_an_unknown_year_leaves_the_period_unconfirmed_and_raises_the_alert(
    acts: CalendarActivities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    s = await one(acts, "2026-12-31T09:00:00+08:00", 4, "days")  # due Monday Jan 4, 2027
    assert s.remind_at == datetime(UNPUBLISHED, 1, 1, 0, 0, tzinfo=BEIJING)  # the Friday, on weekends alone
    assert not s.confirmed
    assert [a.year for a in await alerts(sessions)] == [UNPUBLISHED]


async def test_an_entered_schedule_confirms_the_deadline_and_moves_it(
    acts: CalendarActivities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await enter_new_year_2027(sessions)
    s = await one(acts, "2026-12-30T09:00:00+08:00", 2, "days")
    assert (s.due_at, s.confirmed) == (end_of_day(date(UNPUBLISHED, 1, 4)), True)
    assert s.remind_at == start_of_day(date(2026, 12, 31))
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


@pytest.mark.parametrize(
    ("request_", "kind"),
    [
        (period("2025-01-01T09:00:00+08:00", 5, "weeks"), "InvalidUnit"),
        (period("2025-01-01T09:00:00+08:00", 0, "days"), "InvalidLength"),
        (period("2025-01-01T09:00:00+08:00", 10_001, "days"), "InvalidLength"),
        (period("2025-01-01T09:00:00+08:00", 5, "days", remind_before=-1), "InvalidLength"),
        (period("2025-01-01T09:00:00+08:00", 5, "days", warn_before=-1), "InvalidLength"),
        (period("9999-12-01T09:00:00+08:00", 2, "months"), "InvalidPeriod"),
    ],
)
async def test_an_invalid_period_fails_the_whole_call_for_good(
    acts: CalendarActivities, sessions: async_sessionmaker[AsyncSession], request_: PeriodRequest, kind: str
) -> None:
    """A period that cannot be computed is a bug in the caller, not a passing failure: no retry, no schedule, and
    no alert raised by the valid periods beside it."""
    into_unknown_year = period("2026-12-30T09:00:00+08:00", 2, "days", key="ok")
    with pytest.raises(ApplicationError) as err:
        await schedule(acts, into_unknown_year, request_)
    assert (err.value.type, err.value.non_retryable) == (kind, True)
    assert await alerts(sessions) == []


def test_a_period_refuses_a_naive_start() -> None:
    with pytest.raises(ValidationError):
        PeriodRequest(key="p", start=datetime(2025, 1, 1), length=5, unit="days")

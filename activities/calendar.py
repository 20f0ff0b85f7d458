"""Deadlines as absolute instants: legal periods on the working-day calendar (ARCHITECTURE.md decision 3).

The calendar (``queries.working_calendar``) is loaded from the database on every call, with no cache: the
query reads one small table, and a workflow signalled after an administrator enters a year's schedule must
see that schedule at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from contracts.activities import SCHEDULE_PERIODS
from db import queries
from db.models import CalendarAlert
from domain.calendar import Calendar
from domain.errors import InvalidInput
from domain.models import ScheduleInput, ScheduleResult
from domain.periods import schedule_period

__all__ = ["CalendarActivities", "raise_alerts"]


async def raise_alerts(sessions: async_sessionmaker[AsyncSession], years: Iterable[int]) -> list[int]:
    """One open alert per unknown year ("enter the schedule for year N"); reopened if it was resolved. Returns
    the years whose alert this call opened: an alert already open costs one read, not a write."""
    opened = []
    for year in sorted(set(years)):
        async with sessions() as s:
            alert = await s.get(CalendarAlert, year)
            if alert is not None and alert.resolved_at is None:
                continue
        try:
            async with sessions.begin() as s:
                if await queries.holiday_days(s, year=year):
                    continue  # entered since the calendar was loaded: the workflows are being signalled
                alert = await s.get(CalendarAlert, year, with_for_update=True)
                if alert is None:
                    s.add(CalendarAlert(year=year, first_seen_at=datetime.now(UTC)))
                elif alert.resolved_at is not None:
                    alert.resolved_at, alert.resolved_by = None, None
                else:
                    continue
            opened.append(year)
        except IntegrityError:
            pass  # another activity raised the same year's alert at the same moment: one row is enough
    return opened


class CalendarActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def _calendar(self) -> Calendar:
        async with self._sessions() as s:
            return await queries.working_calendar(s)

    async def _unknown(self, years: tuple[int, ...]) -> None:
        """Unconfirmed: weekends alone were used; ask the administrators for the schedule (DOMAIN.md → Time).
        Logged as a warning when the alert opens; while it stays open, every such period is only a debug line."""
        opened = await raise_alerts(self._sessions, years)
        log = activity.logger.warning if opened else activity.logger.debug
        log("holiday schedule unknown, period computed on weekends alone", extra={"years": years})

    @activity.defn(name=SCHEDULE_PERIODS)
    async def schedule_periods(self, inp: ScheduleInput) -> ScheduleResult:
        """Every period of one transition on one calendar load: its due instant (民法典 第二百零一至二百零四条) and
        the ladder's reminder and warning days (seed 004)."""
        calendar = await self._calendar()
        schedules, unknown = [], set[int]()
        for req in inp.requests:
            try:
                schedule, years = schedule_period(calendar, req)
            except InvalidInput as e:
                raise ApplicationError(e.detail, type=e.kind, non_retryable=True) from None
            schedules.append(schedule)
            unknown.update(years)
        if unknown:
            await self._unknown(tuple(sorted(unknown)))
        return ScheduleResult(schedules=schedules)

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

from db import queries
from db.models import CalendarAlert
from domain.calendar import Calendar
from domain.clock import beijing_date, start_of_day
from domain.errors import InvalidInput
from domain.period_models import COMPUTE_DUE, WARN_AT, DueInput, DueResult, WarnInput, WarnResult
from domain.periods import due_after, working_days_back

__all__ = ["COMPUTE_DUE", "WARN_AT", "CalendarActivities", "raise_alerts"]


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

    @activity.defn(name=COMPUTE_DUE)
    async def compute_due(self, inp: DueInput) -> DueResult:
        """The end of a period counted from the Beijing date of an act (民法典 第二百零一至二百零四条)."""
        try:
            period = due_after(await self._calendar(), inp.start, inp.length, inp.unit)
        except InvalidInput as e:
            raise ApplicationError(e.detail, type=e.kind, non_retryable=True) from None
        if not period.confirmed:
            await self._unknown(period.unknown_years)
        return DueResult(due_at=period.ends_at, last_day=period.last_day, confirmed=period.confirmed)

    @activity.defn(name=WARN_AT)
    async def warn_at(self, inp: WarnInput) -> WarnResult:
        """00:00 Beijing of the day N working days before the due day (ladder: about to expire, seed 004)."""
        try:
            found = working_days_back(await self._calendar(), beijing_date(inp.due_at), inp.working_days)
        except InvalidInput as e:
            raise ApplicationError(e.detail, type=e.kind, non_retryable=True) from None
        if not found.confirmed:
            await self._unknown(found.unknown_years)
        return WarnResult(at=start_of_day(found.day))

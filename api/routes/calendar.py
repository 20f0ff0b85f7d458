"""Legal periods and the holiday schedules behind them (API.md → Legal periods; DOMAIN.md → Time)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api.access import require_role
from api.deps import CurrentStaff, SessionDep, TemporalDep
from api.errors import ERROR_RESPONSES
from api.schemas import Text
from contracts.case import CALENDAR_CHANGED
from db import queries
from db.models import CalendarAlert, CalendarAudit, HolidaySchedule
from domain import guard
from domain.calendar import PUBLISHED_LAST_YEAR, ScheduledDay, Source, check_enterable, check_schedule
from domain.errors import Conflict, Unavailable
from domain.models import CalendarChangedInput
from domain.period_models import MAX_LENGTH, Unit
from domain.periods import compute_period
from domain.rules import CURRENT_VERSION, rule_set

router = APIRouter(prefix="/api", tags=["calendar"], responses=ERROR_RESPONSES)

Year = Annotated[int, Path(ge=1900, le=2999, description="公历年份")]


class PeriodOut(BaseModel):
    start: date
    unit: Unit
    length: int
    last_day: date
    ends_at: datetime
    confirmed: bool


class DayIn(BaseModel):
    day: date
    name: Text = Field(default="", max_length=64)


class DayOut(BaseModel):
    day: date
    name: str


class ScheduleIn(BaseModel):
    """A year's schedule as the State Council publishes it: the holidays (放假) and make-up working days (调休上班)."""

    holidays: list[DayIn] = Field(min_length=1, max_length=366)
    workdays: list[DayIn] = Field(default_factory=list, max_length=366)


class ScheduleOut(BaseModel):
    year: int
    source: Source  # published (chinesecalendar) | entered (an administrator) | unknown (weekends alone)
    confirmed: bool
    holidays: list[DayOut]
    workdays: list[DayOut]
    published_last_year: int
    entered_by: str | None = None
    entered_at: datetime | None = None


class AlertOut(BaseModel):
    year: int
    open: bool
    first_seen_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    message: str


class AlertsOut(BaseModel):
    items: list[AlertOut]


class AuditOut(BaseModel):
    who: str
    at: datetime
    change: dict[str, Any]


class AuditsOut(BaseModel):
    items: list[AuditOut]


async def notify_schedule_entered(client: Client, session: AsyncSession, year: int) -> None:
    """Signals every workflow whose deadlines may depend on ``year``'s schedule (``calendar_changed`` with the
    year): each recomputes its open deadlines whose period touches that year, and those computed on weekends alone.

    A workflow that is gone (ended, or deleted by retention) has nothing to recompute."""
    workflow_ids = await queries.workflows_depending_on_year(session, year=year)
    await session.commit()  # no connection held while the signals go out
    batch = 50  # signals in flight at once
    failed = 0

    async def signal(workflow_id: str) -> None:
        nonlocal failed
        try:
            await client.get_workflow_handle(workflow_id).signal(CALENDAR_CHANGED, CalendarChangedInput(year=year))
        except RPCError as e:
            if e.status != RPCStatusCode.NOT_FOUND:
                failed += 1
                logging.getLogger(__name__).warning(
                    "calendar_changed not delivered", extra={"workflow_id": workflow_id, "error": str(e)}
                )

    for i in range(0, len(workflow_ids), batch):
        await asyncio.gather(*(signal(w) for w in workflow_ids[i : i + batch]))
    if failed:
        raise Unavailable(
            f"{year}年安排已保存，但有{failed}个案件流程未能收到通知，请再次提交同一安排 (retry the same PUT)",
            kind="TemporalUnavailable",
        )


@router.get("/periods")
async def get_period(
    staff: CurrentStaff,
    session: SessionDep,
    start: date,
    length: Annotated[int, Query(ge=1, le=MAX_LENGTH)],
    unit: Unit,
) -> PeriodOut:
    """The last day of a period and the instant it ends (民法典 第二百零一至二百零四条; 民事诉讼法 期间)."""
    p = compute_period(await queries.working_calendar(session), start, length, unit)
    return PeriodOut(
        start=p.start, unit=p.unit, length=p.length, last_day=p.last_day, ends_at=p.ends_at, confirmed=p.confirmed
    )


@router.get("/calendar/alerts")
async def list_alerts(staff: CurrentStaff, session: SessionDep) -> AlertsOut:
    """Years deadlines needed without a holiday schedule (administrators): enter them to confirm the deadlines."""
    require_role(staff, "admin")
    return AlertsOut(
        items=[
            AlertOut(
                year=a.year,
                open=a.resolved_at is None,
                first_seen_at=a.first_seen_at,
                resolved_at=a.resolved_at,
                resolved_by=a.resolved_by,
                message=f"请录入{a.year}年节假日安排 (enter the holiday schedule for {a.year})",
            )
            for a in await queries.calendar_alerts(session)
        ]
    )


async def _schedule_out(session: AsyncSession, year: int) -> ScheduleOut:
    rows = await queries.holiday_days(session, year=year)
    sched = (await queries.working_calendar(session)).schedule(year)
    latest = max(rows, key=lambda r: r.entered_at) if rows else None
    return ScheduleOut(
        year=year,
        source=sched.source if sched else "unknown",
        confirmed=sched is not None,
        holidays=[DayOut(day=d, name=n) for d, n in (sched.holidays.items() if sched else ())],
        workdays=[DayOut(day=d, name=n) for d, n in (sched.workdays.items() if sched else ())],
        published_last_year=PUBLISHED_LAST_YEAR,
        entered_by=latest.entered_by if latest else None,
        entered_at=latest.entered_at if latest else None,
    )


@router.get("/calendar/{year}")
async def get_schedule(year: Year, staff: CurrentStaff, session: SessionDep) -> ScheduleOut:
    """A year's holidays and make-up working days, and where they come from (published, entered or unknown)."""
    return await _schedule_out(session, year)


def _as_json(days: list[ScheduledDay]) -> list[dict[str, str]]:
    return [{"day": s.day.isoformat(), "kind": s.kind, "name": s.name} for s in days]


@router.put("/calendar/{year}")
async def put_schedule(
    year: Year, body: ScheduleIn, staff: CurrentStaff, session: SessionDep, client: TemporalDep
) -> ScheduleOut:
    """Enter or change the schedule of a year after the published ones (an administrator of a high court: it moves
    every court's deadlines); replaces the year's days, audited, resolves the year's alert, and signals every case
    whose deadlines depend on the year."""
    guard.check_decider(rule_set(CURRENT_VERSION), kind="calendar", role=staff.role, court_level=staff.court.level)
    check_enterable(year)
    days = check_schedule(
        year,
        [ScheduledDay(d.day, "holiday", d.name) for d in body.holidays]
        + [ScheduledDay(d.day, "workday", d.name) for d in body.workdays],
    )
    now = datetime.now(UTC)
    entered = [ScheduledDay.of(r.day, r.kind, r.name) for r in await queries.holiday_days(session, year=year)]
    if set(entered) != set(days):
        # The audit compares with what applied until now: the entered days, else the published ones.
        calendar = await queries.working_calendar(session)
        source_before = calendar.source(year)
        before = sched.days() if (sched := calendar.schedule(year)) else []
        await session.execute(delete(HolidaySchedule).where(HolidaySchedule.year == year))
        session.add_all(
            HolidaySchedule(year=year, day=s.day, kind=s.kind, name=s.name, entered_by=staff.username, entered_at=now)
            for s in days
        )
        session.add(
            CalendarAudit(
                year=year,
                who=staff.username,
                at=now,
                change={
                    "source_before": source_before,
                    "before": _as_json(before),
                    "after": _as_json(days),
                    "added": _as_json(sorted(set(days) - set(before), key=lambda s: s.day)),
                    "removed": _as_json(sorted(set(before) - set(days), key=lambda s: s.day)),
                },
            )
        )
    await session.execute(
        update(CalendarAlert)
        .where(CalendarAlert.year == year, CalendarAlert.resolved_at.is_(None))
        .values(resolved_at=now, resolved_by=staff.username)
    )
    try:
        await session.commit()
    except IntegrityError as e:
        await session.rollback()
        raise Conflict(f"{year} 年的安排正被他人同时修改，请重试 (concurrent change)", kind="ConcurrentChange") from e
    # After the commit, so that workflows recomputing their deadlines read the new schedule.
    await notify_schedule_entered(client, session, year)
    return await _schedule_out(session, year)


@router.get("/calendar/{year}/audit")
async def get_audit(year: Year, staff: CurrentStaff, session: SessionDep) -> AuditsOut:
    """Who changed a year's schedule, when, and what changed (administrators)."""
    require_role(staff, "admin")
    return AuditsOut(
        items=[AuditOut(who=a.who, at=a.at, change=a.change) for a in await queries.calendar_audit(session, year=year)]
    )

"""Small query functions: the session first, keyword arguments after; the caller owns the transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    CalendarAlert,
    CalendarAudit,
    Case,
    Court,
    HolidaySchedule,
    Node,
    ObligationRow,
    Party,
    SmsMessage,
    Staff,
)
from domain.calendar import Calendar, ScheduledDay


async def staff_by_username(session: AsyncSession, *, username: str) -> Staff | None:
    return await session.scalar(select(Staff).where(Staff.username == username))


async def court_by_code(session: AsyncSession, *, code: str) -> Court | None:
    return await session.get(Court, code)


async def courts(session: AsyncSession) -> Sequence[Court]:
    return (await session.scalars(select(Court).order_by(Court.path))).all()


async def case_by_id(session: AsyncSession, *, case_id: str) -> Case | None:
    return await session.get(Case, case_id)


async def case_by_number(session: AsyncSession, *, case_number: str) -> Case | None:
    return await session.scalar(select(Case).where(Case.case_number == case_number))


async def nodes_of_case(session: AsyncSession, *, case_id: str) -> Sequence[Node]:
    return (await session.scalars(select(Node).where(Node.case_id == case_id).order_by(Node.seq))).all()


async def node_by_key(session: AsyncSession, *, case_id: str, idempotency_key: str) -> Node | None:
    return await session.scalar(select(Node).where(Node.case_id == case_id, Node.idempotency_key == idempotency_key))


async def obligations_of_case(session: AsyncSession, *, case_id: str) -> Sequence[ObligationRow]:
    query = select(ObligationRow).where(ObligationRow.case_id == case_id)
    return (await session.scalars(query.order_by(ObligationRow.opened_at, ObligationRow.id))).all()


async def sms_of_case(session: AsyncSession, *, case_id: str) -> Sequence[SmsMessage]:
    return (
        await session.scalars(select(SmsMessage).where(SmsMessage.case_id == case_id).order_by(SmsMessage.id))
    ).all()


async def staff_with_phone(session: AsyncSession, *, phone: str) -> Staff | None:
    """A court staff member whose own mobile or office number this is (seed 000: staff numbers entered for parties)."""
    return await session.scalar(select(Staff).where((Staff.mobile == phone) | (Staff.office_phone == phone)).limit(1))


async def other_applicant_with_phone(
    session: AsyncSession, *, phone: str, name: str, id_number: str | None
) -> Party | None:
    """An applicant of another case, a different person, already using this number (seed 000: shared numbers)."""
    rows = await session.scalars(select(Party).where(Party.phone == phone, Party.role.in_(("applicant", "agent"))))
    for p in rows:
        same_person = (id_number and p.id_number == id_number) or (not id_number and p.name == name)
        if not same_person:
            return p
    return None


async def cases_in_subtree(session: AsyncSession, *, court_path: str, limit: int = 200) -> Sequence[Case]:
    """The newest cases of a court and the courts below it."""
    return (
        await session.scalars(
            select(Case)
            .join(Court, Case.court_code == Court.code)
            .where(Court.path.startswith(court_path))
            .order_by(Case.created_at.desc())
            .limit(limit)
        )
    ).all()


# calendar


async def holiday_days(session: AsyncSession, *, year: int | None = None) -> Sequence[HolidaySchedule]:
    """The days administrators entered, of one year or of all years, in date order."""
    q = select(HolidaySchedule).order_by(HolidaySchedule.day)
    if year is not None:
        q = q.where(HolidaySchedule.year == year)
    return (await session.scalars(q)).all()


async def working_calendar(session: AsyncSession) -> Calendar:
    """Published data plus every schedule administrators entered (an entered year replaces a published one)."""
    return Calendar(ScheduledDay.of(r.day, r.kind, r.name) for r in await holiday_days(session))


async def calendar_audit(session: AsyncSession, *, year: int) -> Sequence[CalendarAudit]:
    return (
        await session.scalars(select(CalendarAudit).where(CalendarAudit.year == year).order_by(CalendarAudit.id))
    ).all()


async def calendar_alert(session: AsyncSession, *, year: int) -> CalendarAlert | None:
    return await session.get(CalendarAlert, year)


async def calendar_alerts(session: AsyncSession, *, open_only: bool = False) -> Sequence[CalendarAlert]:
    """Years a deadline needed without a holiday schedule; open ones first, then by year."""
    q = select(CalendarAlert).order_by(CalendarAlert.resolved_at.is_not(None), CalendarAlert.year)
    if open_only:
        q = q.where(CalendarAlert.resolved_at.is_(None))
    return (await session.scalars(q)).all()


# public lists
from datetime import date  # noqa: E402
from decimal import Decimal  # noqa: E402

from sqlalchemy import Row, func  # noqa: E402

from db.models import PublicListEntry  # noqa: E402

# What a served row joins from the case and its court: public data only, never the parties table.
# entry, case number, filed on, amount, court name, court code
PublicListRow = Row[PublicListEntry, str, date, Decimal, str, str]


async def respondents_of_case(session: AsyncSession, *, case_id: str) -> Sequence[Party]:
    return (
        await session.scalars(
            select(Party).where(Party.case_id == case_id, Party.role == "respondent").order_by(Party.id)
        )
    ).all()


async def public_entries_of_case(
    session: AsyncSession, *, case_id: str, lists: Sequence[str] | None = None
) -> Sequence[PublicListEntry]:
    """Every entry of a case, in any state; only in the given lists when ``lists`` is not None."""
    query = select(PublicListEntry).where(PublicListEntry.case_id == case_id)
    if lists is not None:
        query = query.where(PublicListEntry.list_name.in_(lists))
    return (await session.scalars(query.order_by(PublicListEntry.id))).all()


async def lists_showing_case(session: AsyncSession, *, case_id: str) -> list[str]:
    """The lists on which the public still sees the case: what GET /api/public/{list} would serve."""
    rows = await session.scalars(
        select(PublicListEntry.list_name)
        .where(PublicListEntry.case_id == case_id, PublicListEntry.status == "visible")
        .distinct()
    )
    return sorted(rows.all())


async def public_list_page(
    session: AsyncSession, *, list_name: str, court_path: str | None = None, limit: int = 20, offset: int = 0
) -> tuple[Sequence[PublicListRow], int]:
    """Visible entries of one list, newest first, in a court and the courts below it; and how many there are."""
    conditions = [PublicListEntry.list_name == list_name, PublicListEntry.status == "visible"]
    if court_path is not None:
        conditions.append(Court.path.startswith(court_path))
    joined = (
        select(PublicListEntry.id)
        .join(Case, PublicListEntry.case_id == Case.id)
        .join(Court, Case.court_code == Court.code)
        .where(*conditions)
    )
    total = await session.scalar(select(func.count()).select_from(joined.subquery()))
    rows = await session.execute(
        select(PublicListEntry, Case.case_number, Case.filed_on, Case.amount, Court.name, Court.code)
        .join(Case, PublicListEntry.case_id == Case.id)
        .join(Court, Case.court_code == Court.code)
        .where(*conditions)
        .order_by(PublicListEntry.since.desc(), PublicListEntry.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return rows.all(), int(total or 0)

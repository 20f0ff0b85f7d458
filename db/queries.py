"""Small query functions: the session first, keyword arguments after; the caller owns the transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Case, Court, Node, Party, SmsMessage, Staff


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

"""The court information page (seed 002 第一条; seed 001 第二条): each court's guide to applying, fees, risk notice,
supervision hotline and bureau chief's mailbox, written by the court's administrator as plain text; every change is
kept with who made it and when. The JSON API is here; the pages are in api/routes/public_pages.py."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import AfterValidator, AwareDatetime, BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.access import require_role
from api.deps import CurrentStaff, SessionDep
from api.errors import ERROR_RESPONSES
from api.schemas import clean_text
from db import queries
from db.models import Court, CourtInformation, CourtInformationChange, Staff
from domain.court_information import SECTION_SPECS, SECTIONS, Section, section_title
from domain.errors import Forbidden, NotFound

CHANGES_LIMIT = 50

router = APIRouter(prefix="/api/courts", tags=["court information"], responses=ERROR_RESPONSES)


class SectionOut(BaseModel):
    section: Section
    title: str
    text: str  # plain text, paragraphs separated by blank lines; never markup
    updated_at: AwareDatetime | None


class CourtInformationOut(BaseModel):
    court_code: str
    court: str
    sections: list[SectionOut]


def _limit(section: Section) -> Any:
    """A string bounded by the section's length, checked as a string (a 422 says characters), then cleaned."""
    return Field(max_length=SECTION_SPECS[section].max_length)


class CourtInformationIn(BaseModel):
    """The sections to change; a section left out (null) stays as it is, an empty text clears it."""

    guide: Annotated[str, _limit("guide"), AfterValidator(clean_text)] | None = None
    fees: Annotated[str, _limit("fees"), AfterValidator(clean_text)] | None = None
    risk: Annotated[str, _limit("risk"), AfterValidator(clean_text)] | None = None
    hotline: Annotated[str, _limit("hotline"), AfterValidator(clean_text)] | None = None
    mailbox: Annotated[str, _limit("mailbox"), AfterValidator(clean_text)] | None = None


class ChangeOut(BaseModel):
    section: str  # one of SECTIONS
    title: str
    changed_at: AwareDatetime
    changed_by: str  # the administrator's name
    text: str


class ChangesOut(BaseModel):
    items: list[ChangeOut]


def clean(text: str) -> str:
    """Line ends as \\n, no trailing spaces, no leading or trailing blank lines: what the page shows."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return "\n".join(lines).strip("\n")


async def court_of(session: AsyncSession, court_code: str) -> Court:
    court = await queries.court_by_code(session, code=court_code)
    if court is None:
        raise NotFound(f"法院代码“{court_code}”不存在", kind="UnknownCourt")
    return court


def require_court_admin(staff: Staff, court: Court) -> None:
    """Only an administrator of the court itself writes its information page."""
    require_role(staff, "admin")
    if staff.court_code != court.code:
        raise Forbidden(
            f"只能维护本院（{staff.court.name}）的公开信息 (only the court's own administrator)", kind="CourtNotAllowed"
        )


async def information(session: AsyncSession, court: Court) -> CourtInformationOut:
    rows = {
        r.section: r
        for r in await session.scalars(select(CourtInformation).where(CourtInformation.court_code == court.code))
    }
    return CourtInformationOut(
        court_code=court.code,
        court=court.name,
        sections=[
            SectionOut(
                section=s,
                title=SECTION_SPECS[s].title,
                text=rows[s].text if s in rows else "",
                updated_at=rows[s].updated_at if s in rows else None,
            )
            for s in SECTIONS
        ],
    )


async def save(session: AsyncSession, *, staff: Staff, court: Court, body: CourtInformationIn) -> list[Section]:
    """Write the sections that changed, each with its audit row, in one transaction; return those sections."""
    require_court_admin(staff, court)
    now = datetime.now(UTC)
    changed: list[Section] = []
    for section in SECTIONS:
        given = getattr(body, section)
        if given is None:
            continue
        text = clean(given)
        row = await session.get(CourtInformation, (court.code, section))
        if row is not None and row.text == text:
            continue
        if row is None:
            row = CourtInformation(court_code=court.code, section=section)
            session.add(row)
        row.text, row.updated_at, row.updated_by_id = text, now, staff.id
        session.add(
            CourtInformationChange(
                court_code=court.code, section=section, text=text, changed_at=now, changed_by_id=staff.id
            )
        )
        changed.append(section)
    await session.commit()
    return changed


async def changes(session: AsyncSession, court: Court, *, limit: int = CHANGES_LIMIT) -> ChangesOut:
    rows = await session.scalars(
        select(CourtInformationChange)
        .where(CourtInformationChange.court_code == court.code)
        .order_by(CourtInformationChange.changed_at.desc(), CourtInformationChange.id.desc())
        .limit(limit)
    )
    return ChangesOut(
        items=[
            ChangeOut(
                section=c.section,
                title=section_title(c.section),
                changed_at=c.changed_at,
                changed_by=c.changed_by.name,
                text=c.text,
            )
            for c in rows
        ]
    )


@router.get("/{court_code}/information")
async def get_information(court_code: str, session: SessionDep) -> CourtInformationOut:
    """A court's public information (no login): guide, fees, risk notice, hotline, the bureau chief's mailbox."""
    return await information(session, await court_of(session, court_code))


@router.put("/{court_code}/information")
async def put_information(
    court_code: str, body: CourtInformationIn, staff: CurrentStaff, session: SessionDep
) -> CourtInformationOut:
    """The court's administrator changes sections of its information page; each change is audited."""
    court = await court_of(session, court_code)
    await save(session, staff=staff, court=court, body=body)
    return await information(session, court)


@router.get("/{court_code}/information/changes")
async def get_changes(court_code: str, staff: CurrentStaff, session: SessionDep) -> ChangesOut:
    """Who changed the court's information page, when, and to what (the court's administrator), newest first."""
    court = await court_of(session, court_code)
    require_court_admin(staff, court)
    return await changes(session, court)

"""Public lists, no login (API.md → Public lists; seed 002 第一条): masked ID numbers, addresses to the district."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import SessionDep
from api.errors import ERROR_RESPONSES
from api.schemas import Text
from db import queries
from domain.errors import NotFound
from domain.public_lists import LIST_TITLES, PUBLIC_LISTS, UNFINISHED_CASES, PublicList, is_public_list

router = APIRouter(prefix="/api/public", tags=["public"], responses=ERROR_RESPONSES)


class PublicListItem(BaseModel):
    """One respondent on a list: the name in full, never a whole ID number or address."""

    case_number: str
    court: str
    court_code: str
    name: str
    id_number_masked: str | None
    address_masked: str | None
    since: datetime
    list: PublicList
    list_title: str
    filed_on: date | None = None  # unfinished-cases: 立案日期
    amount: Decimal | None = None  # unfinished-cases, dishonest: 执行标的


class PublicListPage(BaseModel):
    items: list[PublicListItem]
    total: int
    limit: int
    offset: int


# Past this an offset pages nothing anyway, and the database's 64-bit integer must never overflow.
MAX_OFFSET = 1_000_000

# List-specific fields: what each list in China publishes about the case besides the respondent.
_WITH_FILED_ON = {UNFINISHED_CASES}
_WITH_AMOUNT = {UNFINISHED_CASES, "dishonest"}


@router.get("/{list_name}")
async def public_list(
    list_name: str,
    session: SessionDep,
    court: Annotated[Text | None, Query(max_length=32, description="法院代码；包括其下级法院")] = None,
    q: Annotated[Text | None, Query(max_length=64, description="按被执行人姓名或名称、案号查找（包含即可）")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> PublicListPage:
    """The visible entries of one list, newest first (lists: unfinished-cases, dishonest, exit-restrictions,
    consumption-restrictions, bidding-restrictions)."""
    return await list_page(session, list_name, court=court, search=q, limit=limit, offset=offset)


async def list_page(
    session: AsyncSession,
    list_name: str,
    *,
    court: str | None = None,
    search: str | None = None,
    limit: int = 20,
    offset: int = 0,
) -> PublicListPage:
    """One page of a list as the public sees it, for the JSON API and the public pages alike (one masking: the
    entries hold only masked data, written by activities/public_lists.py)."""
    if not is_public_list(list_name):
        raise NotFound(f"没有名为“{list_name}”的公开名单，可选：{'、'.join(PUBLIC_LISTS)}", kind="UnknownList")
    court_path = None
    if court is not None:
        found = await queries.court_by_code(session, code=court)
        if found is None:
            raise NotFound(f"法院代码“{court}”不存在", kind="UnknownCourt")
        court_path = found.path
    rows, total = await queries.public_list_page(
        session,
        list_name=list_name,
        court_path=court_path,
        search=search.strip() if search and search.strip() else None,
        limit=limit,
        offset=offset,
    )
    items = [
        PublicListItem(
            case_number=case_number,
            court=court_name,
            court_code=court_code,
            name=entry.name,
            id_number_masked=entry.id_number_masked,
            address_masked=entry.address_masked,
            since=entry.since,
            list=list_name,
            list_title=LIST_TITLES[list_name],
            filed_on=filed_on if list_name in _WITH_FILED_ON else None,
            amount=amount if list_name in _WITH_AMOUNT else None,
        )
        for entry, case_number, filed_on, amount, court_name, court_code in rows
    ]
    return PublicListPage(items=items, total=total, limit=limit, offset=offset)

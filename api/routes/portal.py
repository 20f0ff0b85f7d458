"""The party portal (seed 001 第九条, seed 002 第三/四条): the applicant's own case, feedback and replies."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, status
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import CurrentParty, SessionDep, SettingsDep
from api.errors import ERROR_RESPONSES, ErrorBody
from api.portal_auth import PortalUser, portal_login
from api.routes.feedback import feedback_fields
from api.schemas import (
    FeedbackOut,
    FeedbackReplyIn,
    PortalCaseOut,
    PortalLoginIn,
    PortalNodeOut,
    PortalPartyOut,
    Token,
)
from db import queries
from db.models import Feedback
from domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from domain.nodes import node_type

RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    429: {"model": ErrorBody, "description": "Too many failed logins / 登录失败次数过多"},
}
router = APIRouter(prefix="/api/portal", tags=["portal"], responses=RESPONSES)


@router.post("/token")
async def token(body: PortalLoginIn, session: SessionDep, settings: SettingsDep) -> Token:
    """Log in with case number, ID number, mobile number and query code; the token works only on /api/portal."""
    return await portal_login(session, body, secret=settings.secret_key)


@router.get("/case")
async def my_case(me: CurrentParty, session: SessionDep) -> PortalCaseOut:
    """The party's case: disclosed nodes only, and nobody's ID number or phone."""
    case = me.case
    nodes = await queries.disclosed_nodes_of_case(session, case_id=case.id)
    return PortalCaseOut(
        case_number=case.case_number,
        court=case.court.name,
        cause=case.cause,
        amount=case.amount,
        filed_on=case.filed_on,
        status=case.status,
        closed_at=case.closed_at,
        query_ends_at=case.query_ends_at,
        handler_name=case.handler.name if case.handler else None,
        handler_office_phone=case.handler.office_phone if case.handler else None,
        you=PortalPartyOut(role=me.party.role, name=me.party.name),
        parties=[PortalPartyOut(role=p.role, name=p.name) for p in case.parties if p.dismissed_at is None],
        nodes=[
            PortalNodeOut(
                type=n.type,
                name=nt.name if (nt := node_type(n.type)) else n.type,
                occurred_at=n.occurred_at,
                summary=n.summary,
                fields=n.fields,
            )
            for n in nodes
        ],
    )


@router.get("/feedback")
async def my_feedback(me: CurrentParty, session: SessionDep) -> list[FeedbackOut]:
    """Every progress feedback of the case in full (seed 002 第五条)."""
    return [FeedbackOut(**feedback_fields(f)) for f in await queries.feedback_of_case(session, case_id=me.case.id)]


@router.post("/feedback/{feedback_id}/reply", status_code=status.HTTP_201_CREATED)
async def reply(feedback_id: str, body: FeedbackReplyIn, me: CurrentParty, session: SessionDep) -> FeedbackOut:
    """The applicant's views and suggestions on a feedback (听取其对案件执行的意见和建议), recorded once."""
    return FeedbackOut(**feedback_fields(await reply_to_feedback(session, me, feedback_id=feedback_id, text=body.text)))


async def reply_to_feedback(session: AsyncSession, me: PortalUser, *, feedback_id: str, text: str) -> Feedback:
    """Record the party's reply once (this endpoint and the portal page's form): the feedback as it now is."""
    text = text.strip()
    if me.party.role == "respondent":  # feedback is reported to the applicant (seed 002 第五条)
        raise Forbidden("执行进展反馈由申请执行人及其代理人提出意见 (feedback is the applicant's)", kind="NotApplicant")
    if not text:
        raise InvalidInput("请填写对案件执行的意见和建议", kind="MissingField")
    found = await queries.feedback_by_id(session, case_id=me.case.id, feedback_id=feedback_id)
    if found is None:
        raise NotFound("没有这次执行进展反馈 (feedback not found)", kind="FeedbackNotFound")
    recorded = await queries.record_feedback_reply(
        session, case_id=me.case.id, feedback_id=feedback_id, text=text, party_id=me.party.id, at=datetime.now(UTC)
    )
    await session.commit()
    if not recorded:
        raise Conflict("已对这次执行进展反馈提出过意见，不能重复提交", kind="AlreadyReplied")
    await session.refresh(found)
    return found

"""Progress feedback by the handler (seed 002 第五条): a draft from the nodes, submission through the workflow."""

from __future__ import annotations

import hashlib
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Response, status
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api import idempotency
from api.access import visible_case
from api.deps import CurrentStaff, SessionDep, TemporalDep
from api.errors import ERROR_RESPONSES
from api.schemas import FeedbackDraft, FeedbackIn, StaffFeedbackOut
from api.updates import send_update
from contracts.case import SUBMIT_FEEDBACK
from db import queries
from db.models import Case, Feedback, Staff
from domain import guard
from domain.errors import Forbidden
from domain.feedback import FeedbackResult, SubmitFeedbackInput, draft_feedback
from domain.rules import rule_set

router = APIRouter(prefix="/api/cases", tags=["feedback"], responses=ERROR_RESPONSES)

# What seed 002 第五条 asks every feedback to tell; what the applicant must do may be nothing.


@router.get("/{case_id}/feedback/draft")
async def get_draft(case_id: str, staff: CurrentStaff, session: SessionDep) -> FeedbackDraft:
    """The measures taken since the last feedback, as the handler's starting text (handler or clerk)."""
    case = await visible_case(session, staff, case_id)
    if staff.id not in (case.handler_id, case.clerk_id):
        raise Forbidden("只有本案承办人或书记员可以起草执行进展反馈 (not on this case)", kind="NotOnCase")
    since = await queries.last_feedback_at(session, case_id=case.id)
    nodes = await queries.nodes_of_case(session, case_id=case.id)
    return FeedbackDraft(measures=draft_feedback(nodes, since), since=since)


@router.post("/{case_id}/feedback", status_code=status.HTTP_201_CREATED)
async def post_feedback(
    case_id: str,
    body: FeedbackIn,
    staff: CurrentStaff,
    session: SessionDep,
    client: TemporalDep,
    response: Response,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> FeedbackResult:
    """Submit a progress feedback (the case's handler); the same Idempotency-Key again returns 200 and the same one."""
    result, created = await submit_feedback(
        session, client, staff=staff, case_id=case_id, body=body, key=idempotency_key
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return result


@router.get("/{case_id}/feedback")
async def list_feedback(case_id: str, staff: CurrentStaff, session: SessionDep) -> list[StaffFeedbackOut]:
    """Every feedback of the case with the applicant's replies (staff who may see the case)."""
    case = await visible_case(session, staff, case_id)
    names = {p.id: p.name for p in case.parties}
    return [
        StaffFeedbackOut(
            **feedback_fields(f),
            submitted_by=f.submitted_by,
            replied_by=names.get(f.replied_by_party_id) if f.replied_by_party_id else None,
        )
        for f in await queries.feedback_of_case(session, case_id=case.id)
    ]


def feedback_fields(f: Feedback) -> dict[str, Any]:
    """What staff and the applicant both see of a feedback."""
    return {
        "feedback_id": f.id,
        "n": f.n,
        "obligation_id": f.obligation_id,
        "measures": f.measures,
        "next_steps": f.next_steps,
        "applicant_tasks": f.applicant_tasks,
        "submitted_at": f.submitted_at,
        "late": f.late,
        "reply": f.reply,
        "replied_at": f.replied_at,
    }


async def submit_feedback(
    session: AsyncSession, client: Client, *, staff: Staff, case_id: str, body: FeedbackIn, key: str | None
) -> tuple[FeedbackResult, bool]:
    """Send update ``submit_feedback``; a repeated key is answered from the read model or by the workflow, the same
    key with another body is refused (api/idempotency.py)."""
    case = await visible_case(session, staff, case_id)
    if staff.id != case.handler_id:
        raise Forbidden("只有本案承办人可以反馈执行进展 (not the handler of this case)", kind="NotHandler")
    claimed = None
    if key is None:
        key = str(uuid.uuid4())
    else:
        claimed = await idempotency.claim(session, scope="feedback", case_id=case.id, key=key, body=body)
    done = await queries.feedback_by_request(session, case_id=case.id, request_id=key)
    if done is not None:
        return _result(done), False
    first = claimed is None or claimed.first
    async with idempotency.freed_if_refused(session, claimed):
        if first:
            rules = rule_set(case.rule_version)
            view = await queries.case_view(session, case=case, rules=rules)
            guard.check_feedback(view, measures=body.measures, next_steps=body.next_steps)
        before = {f.id for f in await queries.feedback_of_case(session, case_id=case.id)}
        result = await _send(session, client, case, key, body, staff)
    return result, first and result.feedback_id not in before


async def _send(
    session: AsyncSession, client: Client, case: Case, key: str, body: FeedbackIn, staff: Staff
) -> FeedbackResult:
    return await send_update(
        session,
        client,
        case.workflow_id,
        SUBMIT_FEEDBACK,
        SubmitFeedbackInput(
            request_id=key,
            measures=body.measures.strip(),
            next_steps=body.next_steps.strip(),
            applicant_tasks=body.applicant_tasks.strip(),
            submitted_by=staff.username,
        ),
        update_id="feedback-" + hashlib.sha256(key.encode()).hexdigest()[:40],
        result_type=FeedbackResult,
        failed="执行进展反馈未能提交",
        ended="案件流程已结束，不能再反馈执行进展",
    )


def _result(f: Feedback) -> FeedbackResult:
    return FeedbackResult(feedback_id=f.id, n=f.n, obligation_id=f.obligation_id, late=f.late)

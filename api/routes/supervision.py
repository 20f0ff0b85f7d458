"""Supervision (督办) and the staff inbox of ladder rungs (API.md → Supervision; seed 004)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query

from api import approvals, messages, workbench
from api.access import require_role
from api.deps import CurrentStaff, SessionDep, TemporalDep
from api.errors import ERROR_RESPONSES
from api.schemas import FeedbackReplyInboxItem, InboxItem, InboxOut, SupervisionOut
from api.supervision import SUPERVISORS, supervision
from db import queries
from domain.ladder import RUNG_NAMES

router = APIRouter(prefix="/api", tags=["supervision"], responses=ERROR_RESPONSES)


@router.get("/supervision")
async def get_supervision(
    staff: CurrentStaff,
    session: SessionDep,
    client: TemporalDep,
    within_days: Annotated[int, Query(ge=0, le=90, description="列出多少天内到期的事项")] = 3,
) -> SupervisionOut:
    """Obligations about to expire or overdue in the caller's court and the courts below it (seed 004 天德)."""
    require_role(staff, *SUPERVISORS)
    return await supervision(session, client, staff=staff, within_days=within_days)


@router.get("/inbox")
async def get_inbox(
    staff: CurrentStaff,
    session: SessionDep,
    include_met: Annotated[bool, Query(alias="all", description="包括期限已履行的督办")] = False,
) -> InboxOut:
    """The ladder's reminders and warnings addressed to the caller, until their deadline is met (seed 004), and the
    parties' messages (complaints, for the discipline head) waiting for the caller's reply (seed 001 第十条), the
    requests waiting for the caller's decision and the decisions on the caller's requests (api/approvals.py)."""
    waiting = await messages.inbox_items(session, staff=staff, include_replied=include_met)
    asked = await approvals.inbox_items(session, staff=staff, include_done=include_met)
    rungs = [
        InboxItem(
            id=r.id,
            case_id=r.case_id,
            case_number=r.case.case_number,
            obligation_id=r.obligation_id,
            rule=r.rule,
            subject=r.subject,
            rung=r.rung,
            rung_name=RUNG_NAMES.get(r.rung, r.rung),
            due_at=r.due_at,
            created_at=r.created_at,
            met_at=r.met_at,
        )
        for r in await queries.inbox(session, staff_id=staff.id, include_met=include_met)
    ]
    replies = [
        FeedbackReplyInboxItem(**asdict(r), subject=f"申请执行人回复了第{r.n}次执行进展反馈")
        for r in await workbench.feedback_replies(session, staff=staff, include_all=include_met)
    ]
    return InboxOut(items=[*waiting, *asked, *replies, *rungs])

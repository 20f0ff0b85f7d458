"""Approvals waiting for me (API.md → Approvals): one list and one decision path for every kind of request."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.approvals import ApprovalDecided, ApprovalsOut, approvals, decide_approval
from api.deps import CurrentStaff, SessionDep, TemporalDep
from api.errors import ERROR_RESPONSES
from api.schemas import ExtensionDecisionIn

router = APIRouter(prefix="/api/approvals", tags=["approvals"], responses=ERROR_RESPONSES)

ApprovalId = Annotated[str, Path(min_length=1, max_length=64, description="审批申请编号")]


@router.get("")
async def list_approvals(staff: CurrentStaff, session: SessionDep) -> ApprovalsOut:
    """The requests waiting for the caller's decision (any staff; the kinds their role decides, in their own court),
    oldest first: term extensions (the president or vice president), 终本 exceptions (the bureau chief)."""
    return await approvals(session, staff=staff)


@router.post("/{approval_id}/decision")
async def decide(
    approval_id: ApprovalId, body: ExtensionDecisionIn, staff: CurrentStaff, session: SessionDep, client: TemporalDep
) -> ApprovalDecided:
    """Approve or refuse with a note; the requester is told by SMS and in their inbox."""
    return await decide_approval(session, client, staff=staff, approval_id=approval_id, body=body)

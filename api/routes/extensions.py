"""Extending the execution term (延长执行期限, 法发〔2006〕35号): the handler asks, the president or vice president
decides, the case's workflow moves the term and tells the applicant (DOMAIN.md → term-6m)."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Header, Path, Response, status
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api import idempotency
from api.access import visible_case
from api.deps import CurrentStaff, SessionDep, TemporalDep
from api.errors import ERROR_RESPONSES
from api.schemas import ExtensionDecided, ExtensionDecisionIn, ExtensionIn, ExtensionOut, ExtensionsOut
from api.updates import send_update
from contracts.case import DECIDE_EXTENSION, REQUEST_EXTENSION
from db import queries
from db.models import Case, ExtensionRequest, Staff
from domain import guard
from domain.errors import Conflict, Forbidden, NotFound
from domain.models import DecideExtensionInput, Extension, RequestExtensionInput
from domain.rules import rule_set

router = APIRouter(prefix="/api/cases", tags=["extensions"], responses=ERROR_RESPONSES)

ExtensionId = Annotated[str, Path(min_length=1, max_length=64, description="延长申请编号")]


def approval_out(case_id: str, e: Extension | ExtensionRequest) -> ExtensionOut:
    return ExtensionOut(
        id=e.id,
        case_id=case_id,
        months=e.months,
        reason=e.reason,
        status=e.status,
        requested_by=e.requested_by,
        requested_at=e.requested_at,
        decided_by=e.decided_by,
        decided_at=e.decided_at,
        note=e.note,
        waived_conditions=list(e.waived),
    )


def request_id_for(case_id: str, idempotency_key: str | None) -> str:
    """Deterministic from the case and the caller's key (decision 2); unique across cases, it is the row's key."""
    if idempotency_key is None:
        return "ext-" + uuid.uuid4().hex
    idempotency.check_key(idempotency_key)
    return "ext-" + hashlib.sha256(f"{case_id}:{idempotency_key}".encode()).hexdigest()[:40]


async def execute_approval_update(
    session: AsyncSession, client: Client, case: Case, update: str, arg: BaseModel, *, update_id: str
) -> Extension:
    """Send an extension update; the validator's refusal becomes the caller's 4xx."""
    return await send_update(
        session,
        client,
        case.workflow_id,
        update,
        arg,
        update_id=update_id,
        result_type=Extension,
        failed="延长执行期限未能办理",
        ended="案件流程已结束，无需延长执行期限",
    )


async def require_decider(session: AsyncSession, staff: Staff, case: Case, request_id: str) -> ExtensionRequest:
    """Who decides a request is rule data, by its kind (the one guard); and only in the case's own court."""
    row = await queries.extension_of_case(session, case_id=case.id, extension_id=request_id)
    if row is None:
        raise NotFound("没有这个申请", kind="ExtensionNotFound")
    guard.check_decider(rule_set(case.rule_version), kind=row.kind, role=staff.role)
    if staff.court_code != case.court_code:
        raise Forbidden("只有本院领导可以审批本院案件的申请", kind="OtherCourt")
    return row


async def decide(
    session: AsyncSession, client: Client, case: Case, request_id: str, body: ExtensionDecisionIn, *, decided_by: str
) -> Extension:
    """Send a decision on a pending request (extension or 终本 exception); the same decision again is a no-op."""
    decision = "approved" if body.approve else "refused"
    ext = await execute_approval_update(
        session,
        client,
        case,
        DECIDE_EXTENSION,
        DecideExtensionInput(request_id=request_id, approve=body.approve, decided_by=decided_by, note=body.note),
        update_id="decide-" + hashlib.sha256(f"{request_id}:{decision}".encode()).hexdigest()[:40],
    )
    if ext.status != decision:
        done = "批准" if ext.status == "approved" else "驳回"
        who = await session.scalar(select(Staff.name).where(Staff.username == ext.decided_by)) or ext.decided_by
        raise Conflict(f"该申请已由{who}{done}，不能再作相反决定", kind="ExtensionDecided")
    return ext


@router.get("/{case_id}/extensions")
async def list_extensions(case_id: str, staff: CurrentStaff, session: SessionDep) -> ExtensionsOut:
    """The case's term-extension requests and their decisions, oldest first."""
    case = await visible_case(session, staff, case_id)
    return ExtensionsOut(
        items=[approval_out(case.id, e) for e in await queries.extensions_of_case(session, case_id=case.id)]
    )


@router.post("/{case_id}/extensions", status_code=status.HTTP_201_CREATED)
async def request_extension(
    case_id: str,
    body: ExtensionIn,
    staff: CurrentStaff,
    session: SessionDep,
    client: TemporalDep,
    response: Response,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> ExtensionOut:
    """Ask for a longer term (the case's handler), at least 5 days before it expires; the same key again → 200, with
    another body → 409."""
    case = await visible_case(session, staff, case_id)
    if staff.id != case.handler_id:
        raise Forbidden("只有本案承办人可以申请延长执行期限 (not the handler of this case)", kind="NotHandler")
    request_id = request_id_for(case.id, idempotency_key)
    claimed = None
    if idempotency_key is not None:
        claimed = await idempotency.claim(session, scope="extension", case_id=case.id, key=idempotency_key, body=body)
    done = await queries.extension_of_case(session, case_id=case.id, extension_id=request_id)
    if done is not None:
        response.status_code = status.HTTP_200_OK
        return approval_out(case.id, done)
    first = claimed is None or claimed.first
    async with idempotency.freed_if_refused(session, claimed):
        if first:
            rules = rule_set(case.rule_version)
            view = await queries.case_view(session, case=case, rules=rules)
            guard.check_extension_request(rules, view, months=body.months, reason=body.reason, now=datetime.now(UTC))
        ext = await execute_approval_update(
            session,
            client,
            case,
            REQUEST_EXTENSION,
            RequestExtensionInput(
                request_id=request_id, months=body.months, reason=body.reason, requested_by=staff.username
            ),
            update_id=request_id,
        )
    if not first:
        response.status_code = status.HTTP_200_OK
    return approval_out(case.id, ext)


@router.post("/{case_id}/extensions/{extension_id}/decision")
async def decide_extension(
    case_id: str,
    extension_id: ExtensionId,
    body: ExtensionDecisionIn,
    staff: CurrentStaff,
    session: SessionDep,
    client: TemporalDep,
) -> ExtensionDecided:
    """Approve or refuse (the president or vice president of the case's court); approval moves the term."""
    case = await visible_case(session, staff, case_id)
    await require_decider(session, staff, case, extension_id)
    ext = await decide(session, client, case, extension_id, body, decided_by=staff.username)
    term = await queries.obligation_of_case(
        session, case_id=case.id, obligation_id=rule_set(case.rule_version).extendable.id
    )
    return ExtensionDecided(**approval_out(case.id, ext).model_dump(), term_due_at=term.due_at if term else None)

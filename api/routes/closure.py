"""终本 exceptions and restoring a 终本 case (终本规定 第一条, 第九条; seed 003)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Response, status
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api import idempotency
from api.access import visible_case
from api.deps import CurrentStaff, SessionDep, SettingsDep, TemporalDep
from api.errors import ERROR_RESPONSES
from api.filing import file_case
from api.routes.extensions import approval_out, decide, execute_approval_update, request_id_for, require_decider
from api.schemas import CaseFiled, CaseIn, ExtensionDecisionIn, ExtensionOut, Text
from contracts.case import REQUEST_ZHONGBEN, RESTORED
from core.settings import Settings
from db import queries
from db.models import Staff
from domain import guard
from domain.case_numbers import parse_case_number
from domain.errors import Conflict, Forbidden, InvalidInput
from domain.models import RequestZhongbenInput, RestoredInput
from domain.rules import rule_set

router = APIRouter(prefix="/api/cases", tags=["closure"], responses=ERROR_RESPONSES)


class ZhongbenRequestIn(BaseModel):
    reason: Text = Field(min_length=1, max_length=2000)


@router.post("/{case_id}/zhongben-requests", status_code=status.HTTP_201_CREATED)
async def request_zhongben(
    case_id: str,
    body: ZhongbenRequestIn,
    staff: CurrentStaff,
    session: SessionDep,
    client: TemporalDep,
    response: Response,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> ExtensionOut:
    """The handler asks the bureau chief to approve a 终本 closure that misses conditions; the unmet ones are kept
    with the request (``waived_conditions``), apart from the bureau chief's note."""
    case = await visible_case(session, staff, case_id)
    if staff.id != case.handler_id:
        raise Forbidden("只有本案承办人可以申请终本审批 (not the handler of this case)", kind="NotHandler")
    request_id = "zb-" + request_id_for(case.id, idempotency_key).removeprefix("ext-")
    claimed = None
    if idempotency_key is not None:
        claimed = await idempotency.claim(session, scope="zhongben", case_id=case.id, key=idempotency_key, body=body)
    done = await queries.extension_of_case(session, case_id=case.id, extension_id=request_id)
    if done is not None:
        response.status_code = status.HTTP_200_OK
        return approval_out(case.id, done)
    first = claimed is None or claimed.first
    async with idempotency.freed_if_refused(session, claimed):
        if first:
            rules = rule_set(case.rule_version)
            view = await queries.case_view(session, case=case, rules=rules)
            guard.check_zhongben_request(rules, view, reason=body.reason)
        ext = await execute_approval_update(
            session,
            client,
            case,
            REQUEST_ZHONGBEN,
            RequestZhongbenInput(request_id=request_id, reason=body.reason, requested_by=staff.username),
            update_id=request_id,
        )
    if not first:
        response.status_code = status.HTTP_200_OK
    return approval_out(case.id, ext)


@router.post("/{case_id}/zhongben-requests/{request_id}/decision")
async def decide_zhongben(
    case_id: str,
    request_id: str,
    body: ExtensionDecisionIn,
    staff: CurrentStaff,
    session: SessionDep,
    client: TemporalDep,
) -> ExtensionOut:
    """The bureau chief of the case's court approves or refuses; approval lets the 终本 closure be recorded."""
    case = await visible_case(session, staff, case_id)
    await require_decider(session, staff, case, request_id)
    return approval_out(case.id, await decide(session, client, case, request_id, body, decided_by=staff.username))


@router.post("/{case_id}/restore", status_code=status.HTTP_201_CREATED)
async def restore(
    case_id: str,
    body: CaseIn,
    staff: CurrentStaff,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
    response: Response,
) -> CaseFiled:
    """Restore a 终本 case (恢复执行) as a new linked 执恢 case; the old case's 5-year follow-up ends. The link is
    written with the new case; a 执恢 number that is already another case's (filed on its own, or restoring another
    case) is refused (409), never relinked; the same restoration again answers 200."""
    filed, created = await restore_case(session, client, settings, staff=staff, case_id=case_id, body=body)
    if not created:
        response.status_code = status.HTTP_200_OK
    return filed


async def restore_case(
    session: AsyncSession, client: Client, settings: Settings, *, staff: Staff, case_id: str, body: CaseIn
) -> tuple[CaseFiled, bool]:
    """File the 执恢 case restoring a 终本 case and tell the old case's workflow (this endpoint and the console's
    form on the case page); whether this call filed it."""
    old = await visible_case(session, staff, case_id)
    rules = rule_set(old.rule_version)
    number = parse_case_number(body.case_number)
    if number.word != "执恢":
        raise InvalidInput("恢复执行案件的案号应为“执恢”字号", kind="InvalidCaseNumber")
    earlier = await queries.case_by_number(session, case_number=number.text)
    if earlier is None or earlier.restored_from != old.id:  # not a repeat of this restoration (answered 200 below)
        guard.check_restore(rules, await queries.case_view(session, case=old, rules=rules))
    filed, created = await file_case(session, client, settings, staff=staff, body=body, restored_from=old.id)
    if not created:
        existing = await queries.case_by_id(session, case_id=filed.case_id)
        if existing is None or existing.restored_from != old.id:
            raise Conflict(
                f"案号{filed.case_number}已被另一案件使用，不能作为本案的恢复执行案号，未作任何更改"
                " (the number belongs to another case)",
                kind="CaseNumberTaken",
            )
    try:
        await client.get_workflow_handle(old.workflow_id).signal(RESTORED, RestoredInput(case_number=filed.case_number))
    except RPCError as e:
        if e.status != RPCStatusCode.NOT_FOUND:
            raise
    return filed, created

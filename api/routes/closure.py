"""终本 exceptions and restoring a 终本 case (终本规定 第一条, 第九条; seed 003)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Response, status
from pydantic import BaseModel, Field
from sqlalchemy import update
from temporalio.service import RPCError, RPCStatusCode

from api.access import visible_case
from api.deps import CurrentStaff, SessionDep, SettingsDep, TemporalDep
from api.errors import ERROR_RESPONSES
from api.filing import file_case
from api.routes.extensions import approval_out, decide, execute_approval_update, request_id_for, require_decider
from api.schemas import CaseFiled, CaseIn, ExtensionDecisionIn, ExtensionOut, Text
from contracts.case import REQUEST_ZHONGBEN, RESTORED
from db import queries
from db.models import Case
from domain import guard
from domain.case_numbers import parse_case_number
from domain.errors import Forbidden, InvalidInput
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
    if await queries.extension_of_case(session, case_id=case.id, extension_id=request_id) is not None:
        response.status_code = status.HTTP_200_OK
    else:
        rules = rule_set(case.rule_version)
        guard.check_zhongben_request(
            rules, await queries.case_view(session, case=case, rules=rules), reason=body.reason
        )
    ext = await execute_approval_update(
        session,
        client,
        case,
        REQUEST_ZHONGBEN,
        RequestZhongbenInput(request_id=request_id, reason=body.reason, requested_by=staff.username),
        update_id=request_id,
    )
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
    """Restore a 终本 case (恢复执行) as a new linked 执恢 case; the old case's 5-year follow-up ends."""
    old = await visible_case(session, staff, case_id)
    rules = rule_set(old.rule_version)
    guard.check_restore(rules, await queries.case_view(session, case=old, rules=rules))
    if parse_case_number(body.case_number).word != "执恢":
        raise InvalidInput("恢复执行案件的案号应为“执恢”字号", kind="InvalidCaseNumber")
    filed, created = await file_case(session, client, settings, staff=staff, body=body)
    await session.execute(update(Case).where(Case.id == filed.case_id).values(restored_from=old.id))
    await session.commit()
    try:
        await client.get_workflow_handle(old.workflow_id).signal(RESTORED, RestoredInput(case_number=filed.case_number))
    except RPCError as e:
        if e.status != RPCStatusCode.NOT_FOUND:
            raise
    if not created:
        response.status_code = status.HTTP_200_OK
    return filed

"""Assigning a case's handler and clerk (API.md → Assignment; seed 004: the case moves with its file)."""

from __future__ import annotations

import hashlib

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api import idempotency
from api.access import visible_case
from api.schemas import AssignmentIn, AssignmentOut
from api.updates import send_update
from contracts.case import ASSIGN
from db import queries
from db.models import Case, Staff
from domain import guard
from domain.errors import Forbidden, InvalidInput
from domain.models import AssignInput, AssignResult
from domain.rules import rule_set

# The role each post must hold (DOMAIN.md → roles).
POSTS = {"handler": ("handler", "承办人"), "clerk": ("clerk", "书记员")}


async def assign_case(
    session: AsyncSession, client: Client, *, staff: Staff, case_id: str, body: AssignmentIn, key: str | None
) -> tuple[AssignmentOut, bool]:
    """The bureau chief or vice president of the case's court names the handler (and clerk); a 确定承办人 node tells
    the applicant, ``assign-7d`` is met, later reminders reach the new handler and the previous one can no longer
    record nodes. Returns the assignment and whether it changed anything."""
    case = await visible_case(session, staff, case_id)
    rules = rule_set(case.rule_version)
    guard.check_decider(rules, kind="assignment", role=staff.role)
    if staff.court_code != case.court_code:
        raise Forbidden("只有本院执行局长或分管副院长可以指定本院案件的承办人", kind="OtherCourt")
    claimed = None
    if key:  # the same key with another assignment is refused, not answered with the first one
        claimed = await idempotency.claim(session, scope="assignment", case_id=case.id, key=key, body=body)
    async with idempotency.freed_if_refused(session, claimed):
        return await _assign(session, client, staff=staff, case=case, body=body, key=key)


async def _assign(
    session: AsyncSession, client: Client, *, staff: Staff, case: Case, body: AssignmentIn, key: str | None
) -> tuple[AssignmentOut, bool]:
    handler = await _colleague(session, case, body.handler, "handler")
    clerk = await _colleague(session, case, body.clerk, "clerk") if body.clerk else case.clerk
    view = await queries.case_view(session, case=case, rules=rule_set(case.rule_version))
    guard.check_assignment(view, handler=handler.username, clerk=clerk.username if clerk else None)
    if case.handler_id == handler.id and (clerk is None or case.clerk_id == clerk.id):
        return AssignmentOut(handler=handler.username, clerk=clerk.username if clerk else None), False
    seed = f"{case.id}:{key}" if key else f"{case.id}:{handler.username}:{body.clerk}:{case.handler_id}"
    request_id = hashlib.sha256(seed.encode()).hexdigest()[:40]
    result = await send_update(
        session,
        client,
        case.workflow_id,
        ASSIGN,
        AssignInput(
            request_id=request_id,
            handler=handler.username,
            clerk=body.clerk,
            assigned_by=staff.username,
            handler_name=handler.name,
        ),
        update_id="assign-" + request_id,
        result_type=AssignResult,
        failed="承办人未能指定",
        ended="案件流程已结束，不能再指定承办人",
    )
    return AssignmentOut(handler=result.handler, clerk=clerk.username if clerk else None), True


async def _colleague(session: AsyncSession, case: Case, username: str, post: str) -> Staff:
    """An active member of the case's court who holds the post's role."""
    role, name = POSTS[post]
    person = await queries.staff_by_username(session, username=username)
    if person is None or not person.active or person.court_code != case.court_code or person.role != role:
        raise InvalidInput(f"“{username}”不是本院在职的{name}", kind="UnknownStaff")
    return person

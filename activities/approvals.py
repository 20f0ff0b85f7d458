"""The SMS of a request and of its decision, queued in the transaction that writes the request's row (decision 8): a
new request to each of its approvers, the decision to the one who asked. The outbox's unique (case, reason,
recipient) key and a look-up first make a retried activity queue nothing twice; the workflow then sends the rows
with ``Notice(kind="deliver", reason=...)``."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Case, SmsMessage, Staff
from domain.approvals import (
    decider_roles,
    decision_message,
    decision_reason,
    may_decide,
    request_message,
    request_reason,
)
from domain.models import Extension
from domain.rules import rule_set


async def approvers(s: AsyncSession, case: Case, kind: str) -> list[Staff]:
    """The active staff of the case's own court who decide this kind of request (rule data, the one guard)."""
    rules = rule_set(case.rule_version)
    roles = decider_roles(rules, kind=kind)
    if not roles:
        return []
    rows = await s.scalars(
        select(Staff)
        .where(Staff.court_code == case.court_code, Staff.role.in_(roles), Staff.active.is_(True))
        .order_by(Staff.id)
    )
    return [st for st in rows.all() if may_decide(rules, kind=kind, role=st.role, court_level=case.court.level)]


async def queue_request_sms(s: AsyncSession, *, case_id: str, request: Extension, provider: str) -> None:
    """Queue the SMS this snapshot of a request calls for (none twice)."""
    case = await s.get(Case, case_id)
    if case is None:
        raise LookupError(f"case {case_id} not in the read model")
    by_username = await _names(s, {u for u in (request.requested_by, request.decided_by) if u})
    if request.status == "pending":
        reason = request_reason(request.id)
        requester = by_username.get(request.requested_by)
        body = request_message(
            case.court.name,
            case_number=case.case_number,
            kind=request.kind,
            requester=requester.name if requester else request.requested_by,
            months=request.months,
        )
        recipients = await approvers(s, case, request.kind)
    else:
        reason = decision_reason(request.id)
        decider = by_username.get(request.decided_by or "")
        body = decision_message(
            case.court.name,
            case_number=case.case_number,
            kind=request.kind,
            approved=request.status == "approved",
            decider=decider.name if decider else (request.decided_by or ""),
        )
        requester = by_username.get(request.requested_by)
        recipients = [requester] if requester else []
    queued = set(
        (
            await s.scalars(
                select(SmsMessage.recipient).where(SmsMessage.case_id == case.id, SmsMessage.reason == reason)
            )
        ).all()
    )
    now = datetime.now(UTC)
    for staff in recipients:
        recipient = f"staff:{staff.id}"
        if not staff.mobile or recipient in queued:
            continue
        s.add(
            SmsMessage(
                case_id=case.id,
                reason=reason,
                recipient=recipient,
                to=staff.mobile,
                body=body,
                status="pending",
                provider=provider,
                created_at=now,
            )
        )


async def _names(s: AsyncSession, usernames: set[str]) -> dict[str, Staff]:
    if not usernames:
        return {}
    return {st.username: st for st in (await s.scalars(select(Staff).where(Staff.username.in_(usernames)))).all()}

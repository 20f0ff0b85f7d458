"""Approvals waiting for me (API.md → Approvals; issue 11): the requests of my own court whose kind my role decides —
who decides is rule data (``RuleSet.deciders`` / ``decider_courts``), asked of ``guard.check_decider`` through
``domain.approvals.may_decide`` — and the decision, through the same service as the per-kind decision endpoints
(api/routes/extensions.py). Kinds now: ``extension``, ``zhongben``; requests live in ``extension_requests``."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.access import visible_case
from api.routes.extensions import decide, require_decider
from api.schemas import ApprovalInboxItem, ExtensionDecisionIn
from db import queries
from db.models import Case, ExtensionRequest, Staff
from domain.approvals import STATUS_NAMES, decider_roles, kind_name, may_decide
from domain.errors import NotFound
from domain.rules import RULE_SETS, rule_set

DECISIONS_SHOWN = timedelta(days=7)  # a decision on my request stays in my inbox this long (all=1: always)
MAX_ITEMS = 500


class ApprovalItem(BaseModel):
    """A request waiting for the caller's decision (API.md → Approvals), with what the decider needs to read."""

    approval_id: str
    case_id: str
    case_number: str
    kind: str  # extension | zhongben
    kind_name: str
    months: int  # an extension's months (0 for a 终本 exception)
    requested_by: str  # the requester's name (issue 11 item 5: names, not usernames)
    requested_at: datetime
    reason: str
    waived_conditions: list[str]  # a 终本 exception: the conditions it would waive (seed 003)


class ApprovalsOut(BaseModel):
    items: list[ApprovalItem]


class ApprovalDecided(BaseModel):
    """The decision as recorded; an approved extension also says the term's new end."""

    approval_id: str
    case_id: str
    case_number: str
    kind: str
    status: str  # approved | refused
    status_name: str
    decided_by: str  # the decider's name
    decided_at: datetime | None
    note: str
    term_due_at: datetime | None = None


async def names_of(session: AsyncSession, usernames: Iterable[str | None]) -> dict[str, str]:
    """Staff names by username (requests keep the username, as the workflow received it)."""
    wanted = {u for u in usernames if u}
    if not wanted:
        return {}
    rows = await session.execute(select(Staff.username, Staff.name).where(Staff.username.in_(wanted)))
    return {username: name for username, name in rows}


async def waiting_for(session: AsyncSession, *, staff: Staff) -> list[tuple[ExtensionRequest, Case]]:
    """Pending requests of open cases of the caller's own court whose kind the caller's role decides, oldest first."""
    kinds = {
        kind for rules in RULE_SETS.values() for kind in rules.deciders if staff.role in decider_roles(rules, kind=kind)
    }
    if not kinds:  # most staff decide nothing
        return []
    rows = (
        await session.execute(
            select(ExtensionRequest, Case)
            .join(Case, Case.id == ExtensionRequest.case_id)
            .where(
                ExtensionRequest.status == "pending",
                ExtensionRequest.kind.in_(kinds),
                Case.court_code == staff.court_code,
                Case.status != "closed",
            )
            .order_by(ExtensionRequest.requested_at, ExtensionRequest.id)
            .limit(MAX_ITEMS)
        )
    ).all()
    return [
        (r, c)
        for r, c in rows
        if may_decide(rule_set(c.rule_version), kind=r.kind, role=staff.role, court_level=staff.court.level)
    ]


async def approvals(session: AsyncSession, *, staff: Staff) -> ApprovalsOut:
    rows = await waiting_for(session, staff=staff)
    names = await names_of(session, (r.requested_by for r, _ in rows))
    return ApprovalsOut(
        items=[
            ApprovalItem(
                approval_id=r.id,
                case_id=c.id,
                case_number=c.case_number,
                kind=r.kind,
                kind_name=kind_name(r.kind),
                months=r.months,
                requested_by=names.get(r.requested_by, r.requested_by),
                requested_at=r.requested_at,
                reason=r.reason,
                waived_conditions=list(r.waived),
            )
            for r, c in rows
        ]
    )


async def decide_approval(
    session: AsyncSession, client: Client, *, staff: Staff, approval_id: str, body: ExtensionDecisionIn
) -> ApprovalDecided:
    """Approve or refuse a request by its id alone: a case outside the caller's courts is not found, a decider of
    another role or court is refused (403); the same decision again answers the same, the opposite one is 409."""
    row = await session.get(ExtensionRequest, approval_id)
    if row is None:
        raise NotFound("没有这个审批申请", kind="ApprovalNotFound")
    case = await visible_case(session, staff, row.case_id)
    await require_decider(session, staff, case, row.id)
    done = await decide(session, client, case, row.id, body, decided_by=staff.username)
    term_due_at = None
    if done.kind == "extension" and done.status == "approved":
        term = await queries.obligation_of_case(
            session, case_id=case.id, obligation_id=rule_set(case.rule_version).extendable.id
        )
        term_due_at = term.due_at if term else None
    names = await names_of(session, [done.decided_by])
    return ApprovalDecided(
        approval_id=done.id,
        case_id=case.id,
        case_number=case.case_number,
        kind=done.kind,
        status=done.status,
        status_name=STATUS_NAMES.get(done.status, done.status),
        decided_by=names.get(done.decided_by or "", done.decided_by or ""),
        decided_at=done.decided_at,
        note=done.note,
        term_due_at=term_due_at,
    )


async def inbox_items(session: AsyncSession, *, staff: Staff, include_done: bool) -> list[ApprovalInboxItem]:
    """What the inbox shows of requests: those waiting for my decision (with ``include_done``, also those I decided)
    and the decisions on my own requests of the last days (with ``include_done``, all of them)."""
    waiting = [r for r, _ in await waiting_for(session, staff=staff)]
    mine = select(ExtensionRequest).where(
        ExtensionRequest.requested_by == staff.username, ExtensionRequest.status != "pending"
    )
    if not include_done:
        mine = mine.where(ExtensionRequest.decided_at >= datetime.now(UTC) - DECISIONS_SHOWN)
    decisions = list((await session.scalars(mine.order_by(ExtensionRequest.decided_at.desc()).limit(MAX_ITEMS))).all())
    decided: list[ExtensionRequest] = []
    if include_done:
        by_me = select(ExtensionRequest).where(ExtensionRequest.decided_by == staff.username)
        decided = list(
            (await session.scalars(by_me.order_by(ExtensionRequest.decided_at.desc()).limit(MAX_ITEMS))).all()
        )
    rows = [("approval", r) for r in [*waiting, *decided]] + [("decision", r) for r in decisions]
    query = select(Case.id, Case.case_number).where(Case.id.in_({r.case_id for _, r in rows}))
    numbers = {case_id: number for case_id, number in await session.execute(query)}
    names = await names_of(session, (u for _, r in rows for u in (r.requested_by, r.decided_by)))
    items = []
    for kind, r in rows:
        status_name = STATUS_NAMES.get(r.status, r.status)
        subject = (
            f"待您审批：{kind_name(r.kind)}" if kind == "approval" else f"审批结果：{kind_name(r.kind)}{status_name}"
        )
        items.append(
            ApprovalInboxItem(
                kind="approval" if kind == "approval" else "decision",
                approval_id=r.id,
                case_id=r.case_id,
                case_number=numbers.get(r.case_id, ""),
                request_kind=r.kind,
                kind_name=kind_name(r.kind),
                subject=subject,
                months=r.months,
                reason=r.reason,
                requested_by=names.get(r.requested_by, r.requested_by),
                requested_at=r.requested_at,
                status=r.status,
                status_name=status_name,
                decided_by=names.get(r.decided_by, r.decided_by) if r.decided_by else None,
                decided_at=r.decided_at,
                note=r.note,
            )
        )
    return items


async def requests_panel(session: AsyncSession, case: Case, staff: Staff) -> dict[str, object] | None:
    """The case page's request forms (case_requests.html), for the case's handler while it is open: an extension
    (months and reason) and a 终本 exception (reason), each keyed when drawn so a double submit asks once."""
    if staff.id != case.handler_id or case.status != "open":
        return None
    rules = rule_set(case.rule_version)
    pending = {r.kind for r in await queries.extensions_of_case(session, case_id=case.id) if r.status == "pending"}
    return {
        "max_months": rules.extendable.params["max_extension_months"],
        "pending": pending,
        "extension_key": str(uuid.uuid4()),
        "zhongben_key": str(uuid.uuid4()),
    }

"""The console's home (我的待办): my cases with what is due and overdue, searched, filtered and paged in one query.

A case's deadlines are its open, running obligations (a paused one's clock is stopped by a stay); the badge counts
Beijing calendar days between today and the day a deadline falls due (DOMAIN.md → Time)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from api.messages import shows_clock
from db import queries
from db.models import Case, Court, Feedback, Node, ObligationRow, Party, Staff
from domain import guard
from domain.clock import BEIJING, beijing_date
from domain.errors import YgError
from domain.feedback import draft_feedback
from domain.nodes import CATALOGUE
from domain.rules import CURRENT_VERSION, rule_set

PER_PAGE = 20
MAX_PAGE = 10_000  # a page number past any court's case count; larger is refused as input, not run
SOON_DAYS = 3  # a deadline this many Beijing days away or fewer is shown as about to expire
WORKERS = ("handler", "clerk")  # roles whose home defaults to their own cases
STATUSES = {"filing": "立案中", "open": "执行中", "closed": "已结案"}


@dataclass(frozen=True)
class Badge:
    """Days left or days overdue of a deadline, in Beijing days: ``tone`` is late, soon or ok."""

    text: str
    tone: str
    days: int


def due_badge(due_at: datetime, *, now: datetime | None = None) -> Badge:
    """剩N天 / 今日到期 / 已超期N天 for a running deadline (its last day ends at 24:00 Beijing)."""
    now = now or datetime.now(UTC)
    days = (beijing_date(due_at) - beijing_date(now)).days
    if due_at < now:
        late = max(1, -days)
        return Badge(f"已超期{late}天", "late", -late)
    if days == 0:
        return Badge("今日到期", "soon", 0)
    return Badge(f"剩{days}天", "soon" if days <= SOON_DAYS else "ok", days)


@dataclass(frozen=True)
class Filters:
    """What the home's search form asks; unknown values fall back to "any" (the form only offers known ones)."""

    q: str = ""
    status: str = ""
    overdue: bool = False
    rule: str = ""
    node: str = ""
    mine: bool = True
    page: int = 1
    worker: bool = True  # a handler or clerk: may switch between their cases and the court's

    @classmethod
    def of(cls, params: Mapping[str, str], *, staff: Staff) -> Filters:
        rules = {r.id for r in rule_set(CURRENT_VERSION).rules}
        nodes = {t.code for t in CATALOGUE}
        try:
            page = min(max(int(params.get("page", "1")), 1), MAX_PAGE)
        except ValueError:
            page = 1
        scope = params.get("scope", "")
        return cls(
            q=params.get("q", "").strip()[:64],
            status=s if (s := params.get("status", "")) in STATUSES else "",
            overdue=params.get("overdue") == "1",
            rule=r if (r := params.get("rule", "")) in rules and shows_clock(staff, r) else "",
            node=n if (n := params.get("node", "")) in nodes else "",
            mine=staff.role in WORKERS and scope != "court",
            page=page,
            worker=staff.role in WORKERS,
        )

    def query(self, **changes: Any) -> str:
        """This search as a query string (the pager's links keep the filters)."""
        values = {
            "q": self.q,
            "status": self.status,
            "overdue": "1" if self.overdue else "",
            "rule": self.rule,
            "node": self.node,
            "scope": "court" if self.worker and not self.mine else "",
            "page": str(self.page) if self.page > 1 else "",
        }
        values |= {k: str(v) for k, v in changes.items()}
        return urlencode({k: v for k, v in values.items() if v and not (k == "page" and v == "1")})


@dataclass(frozen=True)
class WorkRow:
    case_id: str
    case_number: str
    court: str
    cause: str
    status: str
    status_code: str
    handler: str
    filed_on: date
    applicant: str
    respondent: str
    open_deadlines: int
    overdue: int
    next_subject: str | None
    next_due: datetime | None
    badge: Badge | None


@dataclass(frozen=True)
class WorkPage:
    rows: list[WorkRow]
    total: int
    page: int
    pages: int
    per_page: int = PER_PAGE
    counts: dict[str, int] = field(default_factory=dict)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _running(staff: Staff) -> ColumnElement[bool]:
    """An obligation whose clock runs now and that this staff member may see (complaints: the leaders)."""
    running = and_(ObligationRow.status == "open", ObligationRow.paused.is_(False))
    if not shows_clock(staff, "complaint"):
        running = and_(running, ObligationRow.rule != "complaint")
    return running


def _scope(staff: Staff, filters: Filters) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [Court.path.startswith(staff.court.path)]
    if filters.mine:
        where.append(or_(Case.handler_id == staff.id, Case.clerk_id == staff.id))
    return where


async def my_cases(session: AsyncSession, *, staff: Staff, filters: Filters, now: datetime | None = None) -> WorkPage:
    """One page of the cases this staff member works on (or, with ``mine`` off, of the court's subtree): a single
    SELECT with the deadlines aggregated per case and the total counted by a window, so a page costs one query."""
    now = now or datetime.now(UTC)
    running = _running(staff)
    deadlines = (
        select(
            ObligationRow.case_id.label("case_id"),
            func.min(ObligationRow.due_at).label("next_due"),
            func.count().label("open_n"),
            func.sum(case((ObligationRow.due_at < now, 1), else_=0)).label("overdue_n"),
        )
        .where(running)
        .group_by(ObligationRow.case_id)
        .subquery()
    )
    next_subject = (
        select(ObligationRow.subject)
        .where(ObligationRow.case_id == Case.id, running)
        .order_by(ObligationRow.due_at, ObligationRow.id)
        .limit(1)
        .correlate(Case)
        .scalar_subquery()
    )

    def first_party(role: str) -> Any:
        return (
            select(Party.name)
            .where(Party.case_id == Case.id, Party.role == role)
            .order_by(Party.id)
            .limit(1)
            .correlate(Case)
            .scalar_subquery()
        )

    handler = aliased(Staff)
    where = _scope(staff, filters)
    if filters.q:
        like = f"%{_escape(filters.q)}%"
        named = exists().where(Party.case_id == Case.id, Party.name.like(like, escape="\\"))
        where.append(or_(Case.case_number.like(like, escape="\\"), named))
    if filters.status:
        where.append(Case.status == filters.status)
    if filters.overdue:
        where.append(deadlines.c.overdue_n > 0)
    if filters.rule:
        where.append(exists().where(ObligationRow.case_id == Case.id, ObligationRow.rule == filters.rule, running))
    if filters.node:
        where.append(exists().where(Node.case_id == Case.id, Node.type == filters.node))
    if filters.mine:  # a to-do list: the most urgent first, cases with nothing running last
        order = [deadlines.c.next_due.is_(None), deadlines.c.next_due, Case.created_at.desc()]
    else:
        order = [Case.created_at.desc()]
    query = (
        select(
            Case.id,
            Case.case_number,
            Case.cause,
            Case.status,
            Case.filed_on,
            Court.name,
            handler.name,
            first_party("applicant"),
            first_party("respondent"),
            deadlines.c.open_n,
            deadlines.c.overdue_n,
            deadlines.c.next_due,
            next_subject,
            func.count().over().label("total"),
        )
        .join(Court, Case.court_code == Court.code)
        .outerjoin(handler, Case.handler_id == handler.id)
        .outerjoin(deadlines, deadlines.c.case_id == Case.id)
        .where(*where)
        .order_by(*order, Case.id)
        .limit(PER_PAGE)
        .offset((filters.page - 1) * PER_PAGE)
    )
    result = (await session.execute(query)).all()
    total = int(result[0].total) if result else 0
    if not result and filters.page > 1:  # past the last page: count to draw the pager
        counted = (
            select(func.count())
            .select_from(Case)
            .join(Court, Case.court_code == Court.code)
            .outerjoin(deadlines, deadlines.c.case_id == Case.id)
            .where(*where)
        )
        total = int(await session.scalar(counted) or 0)
    rows = [
        WorkRow(
            case_id=r[0],
            case_number=r[1],
            cause=r[2],
            status_code=r[3],
            status=STATUSES.get(r[3]) or str(r[3]),
            filed_on=r[4],
            court=r[5],
            handler=r[6] or "未指定",
            applicant=r[7] or "",
            respondent=r[8] or "",
            open_deadlines=int(r[9] or 0),
            overdue=int(r[10] or 0),
            next_due=(due := r[11]),
            next_subject=r[12],
            badge=due_badge(due, now=now) if due is not None else None,
        )
        for r in result
    ]
    pages = max(1, -(-total // PER_PAGE))
    return WorkPage(rows=rows, total=total, page=filters.page, pages=pages)


async def counts(session: AsyncSession, *, staff: Staff, mine: bool, now: datetime | None = None) -> dict[str, int]:
    """The home's figures in one query: cases open, cases with an overdue deadline, cases with one due within
    SOON_DAYS Beijing days."""
    now = now or datetime.now(UTC)
    today = now.astimezone(BEIJING).date()
    soon = datetime.combine(date.fromordinal(today.toordinal() + SOON_DAYS + 1), datetime.min.time(), BEIJING)
    running = _running(staff)
    late = exists().where(ObligationRow.case_id == Case.id, running, ObligationRow.due_at < now)
    near = exists().where(
        ObligationRow.case_id == Case.id, running, ObligationRow.due_at >= now, ObligationRow.due_at < soon
    )
    query = (
        select(
            func.count(),
            func.sum(case((Case.status == "open", 1), else_=0)),
            func.sum(case((late, 1), else_=0)),
            func.sum(case((near, 1), else_=0)),
        )
        .select_from(Case)
        .join(Court, Case.court_code == Court.code)
        .where(*_scope(staff, Filters(mine=mine)))
    )
    total, open_n, late_n, near_n = (await session.execute(query)).one()
    return {"total": int(total or 0), "open": int(open_n or 0), "overdue": int(late_n or 0), "soon": int(near_n or 0)}


def rule_choices(staff: Staff) -> list[tuple[str, str]]:
    """The rules a deadline may come from, by their Chinese names, as the filter offers them."""
    return [(r.id, r.name) for r in rule_set(CURRENT_VERSION).rules if shows_clock(staff, r.id)]


def node_choices() -> list[tuple[str, str]]:
    return [(t.code, t.name) for t in CATALOGUE]


# ---------------------------------------------------------------- progress feedback on the case page (seed 002 第五条)

REPLY_WINDOW_DAYS = 30  # the applicant's replies stay in the handler's list this long (all of them on request)


async def feedback_panel(
    session: AsyncSession,
    case: Case,
    staff: Staff,
    *,
    form: Mapping[str, str] | None = None,
    preview: bool = False,
    error: Any = None,
    sent: bool = False,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The feedback card's form: draft (the measures recorded since the last feedback) → edit (kept in the browser
    until sent, console.js) → preview → send; and the feedback due now with its days left or overdue."""
    now = now or datetime.now(UTC)
    due = [
        {"subject": o.subject, "due_at": o.due_at, "badge": due_badge(o.due_at, now=now)}
        for o in await session.scalars(
            select(ObligationRow)
            .where(
                ObligationRow.case_id == case.id,
                ObligationRow.rule == "feedback",
                ObligationRow.status == "open",
                ObligationRow.paused.is_(False),
            )
            .order_by(ObligationRow.due_at)
        )
    ]
    can_write = staff.id == case.handler_id and case.status == "open"
    if can_write and form is None:
        since = await queries.last_feedback_at(session, case_id=case.id)
        nodes = await queries.nodes_of_case(session, case_id=case.id)
        form = {
            "measures": draft_feedback(nodes, since),
            "next_steps": "",
            "applicant_tasks": "",
            "idempotency_key": str(uuid.uuid4()),
            "fresh": "1",  # drawn from the server's draft: the browser's own saved draft may replace it
        }
    return {
        "can_write": can_write,
        "form": form or {},
        "preview": preview and error is None,
        "error": error,
        "due": due,
        "draft_key": f"feedback:{case.id}",
        "sent": sent,
    }


@dataclass(frozen=True)
class ReplyItem:
    feedback_id: str
    case_id: str
    case_number: str
    n: int
    reply: str
    replied_at: datetime
    replied_by: str


async def feedback_replies(
    session: AsyncSession, *, staff: Staff, include_all: bool = False, now: datetime | None = None
) -> list[ReplyItem]:
    """The applicant's replies to the progress feedback of the cases this staff member handles, newest first: of
    the last REPLY_WINDOW_DAYS days, or all of them."""
    now = now or datetime.now(UTC)
    party = aliased(Party)
    query = (
        select(Feedback, Case.case_number, party.name)
        .join(Case, Feedback.case_id == Case.id)
        .outerjoin(party, Feedback.replied_by_party_id == party.id)
        .where(Case.handler_id == staff.id, Feedback.reply.is_not(None), Feedback.replied_at.is_not(None))
        .order_by(Feedback.replied_at.desc())
        .limit(200)
    )
    if not include_all:
        query = query.where(Feedback.replied_at >= now - timedelta(days=REPLY_WINDOW_DAYS))
    return [
        ReplyItem(
            feedback_id=f.id,
            case_id=f.case_id,
            case_number=number,
            n=f.n,
            reply=f.reply or "",
            replied_at=f.replied_at,
            replied_by=name or "申请执行人",
        )
        for f, number, name in (await session.execute(query)).all()
        if f.replied_at is not None
    ]


# ---------------------------------------------------------------- restoring a 终本 case (终本规定 第九条)


async def restore_panel(
    session: AsyncSession,
    case: Case,
    staff: Staff,
    *,
    form: Mapping[str, str] | None = None,
    error: Any = None,
) -> dict[str, Any] | None:
    """The card of a case closed by 终本: the 执恢 case restoring it, or the registrar's form to file one (the
    parties carried over); None for any other case (the guard decides, domain/guard.py)."""
    if case.status != "closed":
        return None
    restored = await session.scalar(select(Case).where(Case.restored_from == case.id))
    if restored is None:  # whether it may be restored at all is the guard's to say
        rules = rule_set(case.rule_version)
        try:
            guard.check_restore(rules, await queries.case_view(session, case=case, rules=rules))
        except YgError:
            return None
    can_file = staff.role == "registrar" and staff.court_code == case.court_code and restored is None
    today = datetime.now(BEIJING).date()
    panel: dict[str, Any] = {"restored": restored, "can_file": can_file, "error": error}
    if can_file:
        court_staff = (
            await session.scalars(
                select(Staff)
                .where(Staff.court_code == case.court_code, Staff.role.in_(WORKERS), Staff.active.is_(True))
                .order_by(Staff.username)
            )
        ).all()
        panel |= {
            "form": form
            or {
                "filed_on": today.isoformat(),
                "amount": f"{case.amount:.2f}",
                "handler": case.handler.username if case.handler else "",
                "clerk": case.clerk.username if case.clerk else "",
            },
            "handlers": [s for s in court_staff if s.role == "handler"],
            "clerks": [s for s in court_staff if s.role == "clerk"],
            "example_number": f"（{today.year}）{case.court.case_prefix}执恢1号",
            "parties": [p for p in case.parties if p.dismissed_at is None],
        }
    return panel


def restore_body(case: Case, form: Mapping[str, str]) -> dict[str, Any]:
    """The 执恢 case's filing (CaseIn's fields): the number, date, amount and staff from the form, the parties of
    the 终本 case as they now are (corrections included, dismissed agents not)."""

    def party(p: Party) -> dict[str, Any]:
        return {
            "name": p.name,
            "id_type": p.id_type,
            "id_number": p.id_number,
            "phone": p.phone,
            "address": p.address,
            "eservice_consent": p.eservice_consent,
        }

    kept = [p for p in case.parties if p.dismissed_at is None]
    return {
        "case_number": form.get("case_number", ""),
        "court_code": case.court_code,
        "cause": case.cause,
        "amount": form.get("amount", "").replace(",", "") or None,
        "filed_on": form.get("filed_on") or None,
        "has_property": True,  # restored because property appeared (终本规定 第九条)
        "handler": form.get("handler") or None,
        "clerk": form.get("clerk") or None,
        "applicants": [party(p) for p in kept if p.role == "applicant"],
        "agents": [party(p) for p in kept if p.role == "agent"],
        "respondents": [party(p) for p in kept if p.role == "respondent"],
    }


async def follow_up_types(session: AsyncSession, case: Case) -> tuple[str, ...]:
    """The node types still recorded on a closed case: the 终本 follow-up inquiry until the case is restored
    (终本规定 第九条; guard.follow_up_open decides)."""
    rules = rule_set(case.rule_version)
    view = await queries.case_view(session, case=case, rules=rules)
    return (rules.zhongben.inquiry_node,) if guard.follow_up_open(rules, view) else ()

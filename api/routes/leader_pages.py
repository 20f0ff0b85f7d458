"""The leaders' console pages (issue 11 item 2): "待我审批" — the requests waiting for my decision, decided in place —
and the supervision page (督办) of my court and, for an upper court, its subtree: about-to-expire and overdue counts
per court and per handler, the escalations addressed to me, complaints for the discipline head. Every read and
decision goes through the JSON API's own services (api/approvals.py, api/supervision.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api import messages as party_messages
from api.access import ROLE_NAMES
from api.approvals import ApprovalDecided, ApprovalItem, approvals, decide_approval
from api.deps import SessionDep, TemporalDep
from api.routes import pages
from api.routes.closure import ZhongbenRequestIn, request_zhongben
from api.routes.extensions import request_extension
from api.routes.pages import PageStaff
from api.schemas import ExtensionDecisionIn, ExtensionIn, SupervisionItem
from api.supervision import SUPERVISORS, supervision
from db import queries
from db.models import Court, Staff
from domain.errors import Forbidden, InvalidInput, YgError
from domain.ladder import RUNG_NAMES

router = APIRouter(include_in_schema=False)

WITHIN_DAYS = 3  # "about to expire": due within this many days (the JSON's default)
SHOWN_ITEMS = 100  # rows of the overdue / about-to-expire list on the page
NOTICES = {"approved": "已批准，已短信通知承办人。", "refused": "已驳回，已短信通知承办人。"}

# The case page's notices after a request (case_requests.html), beside the console's own.
pages.NOTICES.update(
    {
        "extension_requested": "延长执行期限申请已提交，已短信通知院长、分管副院长审批。",
        "zhongben_requested": "终本审批申请已提交，已短信通知执行局长审批。",
    }
)
# The base template shows the leaders' entry to these roles (by their Chinese names, as ``me.role`` holds them).
pages.TEMPLATES.env.globals["leader_roles"] = frozenset(ROLE_NAMES[r] for r in SUPERVISORS)


@dataclass
class Count:
    """About to expire and overdue, for one court or one handler (seed 004, the 天德 per-judge count)."""

    name: str
    court: str = ""
    due_soon: int = 0
    overdue: int = 0


async def _items(session: AsyncSession, staff: Staff) -> list[ApprovalItem]:
    return (await approvals(session, staff=staff)).items


def _forbidden(request: Request, staff: Staff, detail: str) -> HTMLResponse:
    context = {"me": pages._me(staff), "active": "leader", "detail": detail}
    return pages._render(request, "leader/forbidden.html", context, status=403)


# ---------------------------------------------------------------- 待我审批


@router.get("/approvals")
async def approvals_page(
    request: Request, staff: PageStaff, session: SessionDep, notice: str | None = None
) -> Response:
    """The requests waiting for my decision, each with approve / refuse and a note (any staff: empty for most)."""
    if staff is None:
        return pages._to_login(request)
    context = {
        "me": pages._me(staff),
        "active": "leader",
        "items": await _items(session, staff),
        "notice": NOTICES.get(notice or ""),
    }
    return pages._render(request, "leader/approvals.html", context)


@router.get("/approvals/items")
async def approval_cards(
    request: Request, staff: PageStaff, session: SessionDep, shown: Annotated[list[str] | None, Query()] = None
) -> Response:
    """The page's poll (htmx, out of band): the requests it does not show yet join its list, those it shows that no
    longer wait for me say so, and the count follows; nothing the user is typing in another card is touched."""
    if staff is None:
        return pages._to_login(request, back_to="/approvals")
    items = await _items(session, staff)
    showing = set(shown or [])
    waiting = {i.approval_id for i in items}
    context = {
        "new": [i for i in items if i.approval_id not in showing],
        "gone": sorted(showing - waiting),
        "waiting": len(items),
    }
    return pages._render(request, "leader/_approval_poll.html", context)


@router.post("/approvals/{approval_id}/decision")
async def decision_form(
    request: Request, approval_id: str, staff: PageStaff, session: SessionDep, client: TemporalDep
) -> Response:
    """Approve or refuse through the same service as POST /api/approvals/{id}/decision; htmx gets the decided card
    back with the count of what still waits, a plain form post the page again."""
    if staff is None:
        return pages._to_login(request, back_to="/approvals")
    form = await pages._form(request)
    error: YgError | None = None
    decided: ApprovalDecided | None = None
    if pages._cross_site(request):
        error = Forbidden("请求来源不正确", kind="CrossSite")
    elif form.get("decision") not in ("approve", "refuse"):
        error = InvalidInput("请选择批准或驳回", kind="MissingField")
    else:
        try:
            body = ExtensionDecisionIn(approve=form["decision"] == "approve", note=form.get("note", ""))
            decided = await decide_approval(session, client, staff=staff, approval_id=approval_id, body=body)
        except ValidationError:
            error = InvalidInput("审批意见不能超过2000字", kind="InvalidInput")
        except YgError as e:
            error = e
    if decided is not None and not pages._htmx(request):
        return RedirectResponse(f"/approvals?notice={decided.status}", status_code=303)
    items = await _items(session, staff)
    if decided is not None:
        return pages._render(request, "leader/_approval_done.html", {"d": decided, "waiting": len(items)})
    assert error is not None
    if pages._htmx(request):
        item = next((i for i in items if i.approval_id == approval_id), None)
        failed: dict[str, Any] = {"a": item, "error": error, "note": form.get("note", ""), "approval_id": approval_id}
        failed["waiting"] = len(items)
        return pages._render(request, "leader/_approval_failed.html", failed, status=error.status)
    page: dict[str, Any] = {"me": pages._me(staff), "active": "leader", "items": items, "error": error}
    return pages._render(request, "leader/approvals.html", page, status=error.status)


# ---------------------------------------------------------------- 督办


async def _court_names(session: AsyncSession, codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    rows = await session.execute(select(Court.code, Court.name).where(Court.code.in_(codes)))
    return {code: name for code, name in rows}


def _counts(items: list[SupervisionItem], courts: dict[str, str]) -> tuple[list[Count], list[Count]]:
    """Per court and per handler (a handler within their court), overdue first."""
    by_court: dict[str, Count] = {}
    by_handler: dict[tuple[str, str | None], Count] = {}
    for i in items:
        court = by_court.setdefault(i.court_code, Count(name=courts.get(i.court_code, i.court_code)))
        handler = by_handler.setdefault(
            (i.court_code, i.handler),
            Count(name=i.handler_name or "未指定承办人", court=courts.get(i.court_code, i.court_code)),
        )
        for c in (court, handler):
            if i.overdue:
                c.overdue += 1
            else:
                c.due_soon += 1

    def order(c: Count) -> tuple[int, int, str, str]:
        return (-c.overdue, -c.due_soon, c.court, c.name)

    return sorted(by_court.values(), key=order), sorted(by_handler.values(), key=order)


def _days(due_at: datetime, now: datetime) -> str:
    """Days left or overdue, in words (a badge beside the due day)."""
    seconds = (due_at - now).total_seconds()
    days = int(abs(seconds) // 86400)
    if seconds < 0:
        return f"已超期{days}天" if days else "已超期"
    return f"剩余{days}天" if days else "今日到期"


@router.get("/supervision")
async def supervision_page(request: Request, staff: PageStaff, session: SessionDep, client: TemporalDep) -> Response:
    """督办 for leaders (seed 004): my court's (and for an upper court, its subtree's) deadlines about to expire and
    overdue, counted per court and per handler; the escalations addressed to me; what waits for my decision; for the
    discipline head, the complaints waiting for a reply."""
    if staff is None:
        return pages._to_login(request)
    if staff.role not in SUPERVISORS:
        allowed = "、".join(ROLE_NAMES[r] for r in SUPERVISORS)
        return _forbidden(request, staff, f"督办页面仅供{allowed}查看。")
    now = datetime.now(UTC)
    error: YgError | None = None
    items: list[SupervisionItem] = []
    try:
        items = (await supervision(session, client, staff=staff, within_days=WITHIN_DAYS)).items
    except YgError as e:  # visibility unreachable: the rest of the page still helps
        error = e
    courts = await _court_names(session, {i.court_code for i in items})
    per_court, per_handler = _counts(items, courts)
    escalations = [
        {
            "case_id": r.case_id,
            "case_number": r.case.case_number,
            "subject": r.subject,
            "rung": RUNG_NAMES.get(r.rung, r.rung),
            "due_at": r.due_at,
            "overdue": r.due_at < now,
            "days": _days(r.due_at, now),
            "created_at": r.created_at,
        }
        for r in await queries.inbox(session, staff_id=staff.id)
    ]
    complaints: list[Any] = []
    if staff.role == "discipline":
        waiting = await party_messages.inbox_items(session, staff=staff, include_replied=False)
        complaints = [m for m in waiting if m.kind == "complaint"]
    rows = [
        {"i": i, "court": courts.get(i.court_code, i.court_code), "days": _days(i.due_at, now)}
        for i in items[:SHOWN_ITEMS]
    ]
    context = {
        "me": pages._me(staff),
        "active": "leader",
        "error": error,
        "within_days": WITHIN_DAYS,
        "subtree": staff.court.level != "basic",
        "court_name": staff.court.name,
        "overdue": sum(1 for i in items if i.overdue),
        "due_soon": sum(1 for i in items if not i.overdue),
        "per_court": per_court,
        "per_handler": per_handler,
        "rows": rows,
        "total": len(items),
        "escalations": escalations,
        "approvals": await _items(session, staff),
        "complaints": complaints,
        "discipline": staff.role == "discipline",
    }
    return pages._render(request, "leader/supervision.html", context)


# ---------------------------------------------------------------- the handler's requests (case page)


@router.post("/cases/{case_id}/requests/{kind}")
async def request_form(
    request: Request, case_id: str, kind: str, staff: PageStaff, session: SessionDep, client: TemporalDep
) -> Response:
    """The case page's extension and 终本 request forms, through the JSON routes' own functions (their guard, their
    idempotency: the form's key makes a double submit one request)."""
    posted = await pages._case_form(request, case_id, staff, session)
    if isinstance(posted, Response):
        return posted
    staff, case, form = posted
    key = form.get("idempotency_key") or None
    reason = form.get("reason", "")
    try:
        if kind == "extension":
            try:
                body = ExtensionIn(months=int(form.get("months", "")), reason=reason)
            except (ValueError, ValidationError):
                raise InvalidInput("请选择延长期限并填写延长理由", kind="InvalidInput") from None
            await request_extension(case.id, body, staff, session, client, Response(), key)
        elif kind == "zhongben":
            try:
                zb = ZhongbenRequestIn(reason=reason)
            except ValidationError:
                raise InvalidInput("请填写终本理由（不超过2000字）", kind="InvalidInput") from None
            await request_zhongben(case.id, zb, staff, session, client, Response(), key)
        else:
            return pages._not_found(request, staff, "没有这种申请")
    except YgError as e:
        extra = {"request_error": e, "request_form": {**form, "kind": kind}}
        return await pages._case_page(request, session, staff, case, extra=extra, status=e.status)
    return RedirectResponse(f"/cases/{case.id}?notice={kind}_requested#requests", status_code=303)

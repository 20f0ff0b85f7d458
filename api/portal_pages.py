"""The party portal's pages (当事人查询平台; seed 001 第九条, seed 002 第三至五条, seed 004), phone-first.

Login takes what ``POST /api/portal/token`` takes, through the same function (its lockout included); the party
token goes into an HttpOnly, SameSite=Lax cookie, and logout revokes it. Posted forms are refused from another
origin, as the staff console's are. Other parts of the portal build on this module:

- ``PortalParty`` (the dependency ``portal_party``): the logged-in party and its case, or a redirect to the login.
- ``render_portal``: a page under ``api/templates/portal/`` with the shell (``portal/base.html``) filled in.
- ``refuse_cross_site``: the CSRF check of a posted form.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import SessionDep, SettingsDep
from api.documents import documents_by_node
from api.portal_auth import PORTAL_ROLES, PORTAL_TOKEN_MINUTES, PortalUser, party_of_token, portal_login, portal_logout
from api.routes.pages import (
    PARTY_ROLE_NAMES,
    STATUS_NAMES,
    TEMPLATES,
    _chinese,
    _cross_site,
    _form,
    _node_details,
)
from api.routes.portal import reply_to_feedback
from api.schemas import PortalLoginIn
from db import queries
from db.models import Case, Feedback, Node, Staff
from domain.clock import beijing_date, format_day
from domain.errors import Forbidden, InvalidInput, NotAuthenticated, TooManyAttempts, YgError
from domain.nodes import node_type
from domain.rules import rule_set

COOKIE = "yg_portal"
LOGIN = "/portal"
# The sections of the portal's nav: (key, label, path). 留言 and 文书 are other modules' pages.
NAV = (
    ("case", "案件概况", "/portal/case"),
    ("progress", "办理进程", "/portal/progress"),
    ("messages", "留言", "/portal/messages"),
    ("documents", "文书", "/portal/documents"),
)
# Notices after a redirect, chosen by key: a URL can never put arbitrary text on a page.
NOTICES = {
    "expired": "登录已过期或已在别处退出，请重新登录。",
    "ended": "本案已结案满一个月，网上查询已结束。如需了解案件情况，请联系执行法院。",
    "logged_out": "您已安全退出。",
    "replied": "您的意见已提交，承办人将会看到。",
}
WRONG_LOGIN = "案号、证件号码、手机号码或查询码不正确，请核对后重新输入。"
CROSS_SITE = "请求来源不正确，请在本页面重新提交。"

router = APIRouter(include_in_schema=False)
TEMPLATES.env.filters["beijing_day"] = lambda moment: format_day(beijing_date(moment))


# ---------------------------------------------------------------- the logged-in party, for every portal page


def _to_login(notice: str | None = None) -> HTTPException:
    """A redirect raised from a dependency (a 303 with its Location: the browser follows it, the body is unread)."""
    target = f"{LOGIN}?notice={notice}" if notice else LOGIN
    return HTTPException(status_code=303, detail="请先登录", headers={"Location": target})


async def portal_party(request: Request, session: SessionDep, settings: SettingsDep) -> PortalUser:
    """The party of the portal cookie; otherwise to the login page (with why, when it had been logged in)."""
    token = request.cookies.get(COOKIE)
    if not token:
        raise _to_login()
    try:
        return await party_of_token(session, token, secret=settings.secret_key)
    except NotAuthenticated:
        raise _to_login("expired") from None
    except Forbidden as e:
        raise _to_login("ended" if e.kind == "QueryEnded" else "expired") from None


PortalParty = Annotated[PortalUser, Depends(portal_party)]


async def _maybe_party(request: Request, session: AsyncSession, secret: str) -> PortalUser | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    try:
        return await party_of_token(session, token, secret=secret)
    except YgError:
        return None


def refuse_cross_site(request: Request) -> None:
    """CSRF: a form posted from another origin is refused (the staff console's check; the cookie is SameSite=Lax)."""
    if _cross_site(request):
        raise Forbidden(CROSS_SITE, kind="CrossSite")


def render_portal(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    me: PortalUser | None = None,
    active: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    """A portal page: ``me`` fills in the header (case number, who is logged in) and the nav, ``active`` marks a
    section of NAV. Never cached: a party's case on a shared phone or computer."""
    shell: dict[str, Any] = {"nav": NAV, "active": active, "me": None}
    if me is not None:
        shell["me"] = {
            "case_number": me.case.case_number,
            "court": me.case.court.name,
            "name": me.party.name,
            "role": PARTY_ROLE_NAMES.get(me.party.role, me.party.role),
        }
    response = TEMPLATES.TemplateResponse(request, name, shell | context, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response


# ---------------------------------------------------------------- login and logout


def _login_page(
    request: Request,
    form: dict[str, str],
    *,
    error: str | None = None,
    notice: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    return render_portal(
        request,
        "portal/login.html",
        {"form": form, "error": error, "notice": NOTICES.get(notice or "")},
        status=status,
    )


@router.get(LOGIN)
async def login_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    case: str | None = None,
    notice: str | None = None,
) -> Response:
    """The login form; ``?case=<number>`` (the case's QR code and the filing SMS) fills in the case number."""
    me = await _maybe_party(request, session, settings.secret_key)
    if me is not None and (case is None or case.strip() == me.case.case_number):
        return RedirectResponse("/portal/case", status_code=303)
    number = (case or "").strip()[:64]
    return _login_page(request, {"case_number": number}, notice=notice)


@router.post(LOGIN)
async def login(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """Same check and lockout as POST /api/portal/token; the token goes into an HttpOnly, SameSite=Lax cookie."""
    posted = await _form(request)
    form = {k: posted.get(k, "") for k in ("case_number", "id_number", "phone")}
    if _cross_site(request):
        return _login_page(request, form, error=CROSS_SITE, status=403)
    missing = [label for key, label in _LOGIN_LABELS if not posted.get(key)]
    if missing:
        return _login_page(request, form, error=f"请填写{'、'.join(missing)}。", status=422)
    try:
        body = PortalLoginIn.model_validate({**form, "query_code": posted.get("query_code", "")})
    except ValidationError:
        return _login_page(request, form, error=WRONG_LOGIN, status=422)  # too long to be right
    try:
        token = await portal_login(session, body, secret=settings.secret_key)
    except TooManyAttempts as e:
        refused = _login_page(request, form, error=_chinese(e.detail), status=429)
        refused.headers["Retry-After"] = str(e.retry_after)
        return refused
    except NotAuthenticated:
        return _login_page(request, form, error=WRONG_LOGIN, status=401)
    except Forbidden as e:  # the online query has ended (one month after closure)
        return _login_page(request, form, error=_chinese(e.detail), status=403)
    response = RedirectResponse("/portal/case", status_code=303)
    response.set_cookie(
        COOKIE,
        token.access_token,
        max_age=PORTAL_TOKEN_MINUTES * 60,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/portal",
    )
    return response


_LOGIN_LABELS = (("case_number", "案号"), ("id_number", "证件号码"), ("phone", "手机号码"), ("query_code", "查询码"))


@router.post("/portal/logout")
async def logout(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """Ends the cookie's token (refused from then on, wherever it was copied), then forgets the cookie."""
    token = request.cookies.get(COOKIE)
    if token and not _cross_site(request):
        with contextlib.suppress(NotAuthenticated):  # expired or invalid already: nothing to end
            await portal_logout(session, token, secret=settings.secret_key)
    response = RedirectResponse(f"{LOGIN}?notice=logged_out", status_code=303)
    response.delete_cookie(COOKIE, path="/portal", httponly=True, samesite="lax")
    return response


# ---------------------------------------------------------------- the case at a glance


@dataclass(frozen=True)
class Contact:
    role: str
    name: str
    phone: str | None


@dataclass(frozen=True)
class Todo:
    """Something the party is asked to do, with where to do it."""

    text: str
    href: str | None = None
    action: str | None = None


@dataclass(frozen=True)
class Glance:
    term_due: datetime | None = None
    term_paused: bool = False
    contacts: list[Contact] = field(default_factory=list)


def _contact(role: str, staff: Staff | None) -> Contact:
    return Contact(role=role, name=staff.name if staff else "尚未确定", phone=staff.office_phone if staff else None)


async def _glance(session: AsyncSession, case: Case) -> Glance:
    """The execution term (the extendable rule's latest deadline), the handler and the clerk (seed 001 第三条(二))."""
    term_rule = rule_set(case.rule_version).extendable.id
    terms = [o for o in await queries.obligations_of_case(session, case_id=case.id) if o.rule == term_rule]
    term = terms[-1] if terms else None
    return Glance(
        term_due=term.due_at if term else None,
        term_paused=bool(term and term.paused),
        contacts=[_contact("承办人", case.handler), _contact("书记员", case.clerk)],
    )


def _applicant_side(me: PortalUser) -> bool:
    """Progress feedback is the applicant's and its agents' (seed 002 第五条), not a respondent's served documents."""
    return me.party.role in PORTAL_ROLES


def _todos(me: PortalUser, feedback: Sequence[Feedback]) -> list[Todo]:
    """What the party is asked to do now: open feedback to answer, what the court asked for, e-service consent."""
    if not _applicant_side(me):
        return []
    todos = [
        Todo(f"第{f.n}次执行进展反馈等待您提出意见和建议", href=f"/portal/progress#feedback-{f.n}", action="去回复")
        for f in reversed(feedback)
        if f.reply is None
    ]
    latest = feedback[-1] if feedback else None
    if latest is not None and latest.applicant_tasks.strip():
        todos.append(Todo(f"法院请您配合：{latest.applicant_tasks.strip()}"))
    if not me.party.eservice_consent and me.case.status != "closed":
        todos.append(
            Todo("您尚未同意电子送达。同意后，法律文书可在本平台直接查阅下载，无需等待邮寄；如需办理请联系书记员。")
        )
    return todos


@router.get("/portal/case")
async def case_page(request: Request, me: PortalParty, session: SessionDep) -> Response:
    """The case at a glance: court, cause, amount, status, term, who handles it and how to reach them; what to do."""
    case = me.case
    feedback = await queries.feedback_of_case(session, case_id=case.id)
    context = {
        "case": case,
        "status": STATUS_NAMES.get(case.status, case.status),
        "glance": await _glance(session, case),
        "todos": _todos(me, feedback),
        "query_ends_at": case.query_ends_at,
    }
    return render_portal(request, "portal/case.html", context, me=me, active="case")


# ---------------------------------------------------------------- the timeline and progress feedback


@dataclass(frozen=True)
class TimelineItem:
    node_id: str
    name: str
    occurred_at: datetime
    summary: str
    details: list[str]


def _timeline(nodes: Sequence[Node]) -> list[TimelineItem]:
    """The disclosed nodes, newest first, by their Chinese names."""
    items = [
        TimelineItem(
            node_id=n.id,
            name=nt.name if (nt := node_type(n.type)) else n.type,
            occurred_at=n.occurred_at,
            summary=n.summary,
            details=_node_details(n),
        )
        for n in sorted(nodes, key=lambda n: (n.occurred_at, n.seq), reverse=True)
    ]
    return items


async def _progress(
    request: Request,
    session: AsyncSession,
    me: PortalUser,
    *,
    notice: str | None = None,
    error: tuple[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    """``error``: (feedback id, what was wrong with the reply posted to it)."""
    nodes = await queries.disclosed_nodes_of_case(session, case_id=me.case.id)
    applicant_side = _applicant_side(me)
    feedback = await queries.feedback_of_case(session, case_id=me.case.id) if applicant_side else []
    context = {
        "timeline": _timeline(nodes),
        "show_feedback": applicant_side,
        "node_documents": await documents_by_node(session, me=me),  # portal/_node_documents.html
        "feedback": list(reversed(feedback)),
        "notice": NOTICES.get(notice or ""),
        "error": error,
    }
    return render_portal(request, "portal/progress.html", context, me=me, active="progress", status=status)


@router.get("/portal/progress")
async def progress_page(request: Request, me: PortalParty, session: SessionDep, notice: str | None = None) -> Response:
    return await _progress(request, session, me, notice=notice)


@router.post("/portal/feedback/{feedback_id}/reply")
async def reply_form(request: Request, feedback_id: str, me: PortalParty, session: SessionDep) -> Response:
    """The reply form of a feedback, through the same function as POST /api/portal/feedback/{id}/reply."""
    form = await _form(request)
    try:
        refuse_cross_site(request)
        text = form.get("text", "")
        if len(text) > REPLY_MAX:
            raise InvalidInput(f"意见和建议不能超过{REPLY_MAX}字", kind="TooLong")
        found = await reply_to_feedback(session, me, feedback_id=feedback_id, text=text)
    except YgError as e:
        return await _progress(request, session, me, error=(feedback_id, _chinese(e.detail)), status=e.status)
    return RedirectResponse(f"/portal/progress?notice=replied#feedback-{found.n}", status_code=303)


REPLY_MAX = 2000  # FeedbackReplyIn.text's max_length

"""The staff console (执行案件工作台): server-rendered pages in Simplified Chinese over the JSON API's services."""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api import filing_form, security, workbench
from api import messages as party_messages
from api.access import ROLE_NAMES, require_role, visible_case
from api.approvals import requests_panel
from api.assignment import assign_case
from api.deps import ClientAddress, SessionDep, SettingsDep, TemporalDep
from api.documents import documents_panel
from api.errors import error_message, field_label
from api.filing import file_case
from api.parties import panel_context
from api.recording import record_node
from api.schemas import AssignmentIn, NodeIn
from api.security import issue_token, staff_of_token
from db import queries
from db.models import Case, Court, Node, ObligationRow, Party, SmsMessage, Staff
from domain import guard
from domain.approvals import reason_name as approval_reason_name
from domain.case_numbers import parse_case_number
from domain.clock import BEIJING, beijing_date, format_beijing, format_day
from domain.documents import NOT_ESERVED_NOTE
from domain.errors import Forbidden, InvalidInput, NotAuthenticated, TooManyAttempts, YgError
from domain.identity import ID_TYPE_LABELS
from domain.ladder import RUNG_NAMES
from domain.nodes import CATALOGUE, CLOSURE_MODES, NodeType, node_type
from domain.phones import mask_phone
from domain.rules import Ladder, rule_set
from domain.sms import redact_query_code

HERE = Path(__file__).resolve().parent.parent
TEMPLATES = Jinja2Templates(directory=HERE / "templates")
COOKIE = "yg_token"
OUTBOX_LIMIT = 200
# While a message of the last few minutes is still on its way, the case page reloads itself (no JS needed).
REFRESH_WINDOW = timedelta(minutes=2)
REFRESH_SECONDS = 2

STATUS_NAMES = {"filing": "立案中", "open": "执行中", "closed": "已结案"}
SMS_STATUS_NAMES = {"pending": "待发送", "sending": "发送中", "sent": "已发送", "failed": "发送失败"}
OBLIGATION_STATUS_NAMES = {"open": "进行中", "met": "已完成", "ended": "结案终止"}
PROVIDER_NAMES = {"outbox": "站内发件箱", "twilio": "Twilio 短信"}
PARTY_ROLE_NAMES = {"applicant": "申请执行人", "agent": "委托代理人", "respondent": "被执行人"}
REQUEST_KIND_NAMES = {"extension": "延长执行期限", "zhongben": "终本结案（不符合条件，报请审批）"}
REQUEST_STATUS_NAMES = {"pending": "待审批", "approved": "已批准", "refused": "已驳回"}
# The 18 kinds of information of seed 001 第三条, as the node form groups them.
CATEGORY_NAMES = {
    1: "立案信息",
    2: "承办人",
    3: "执行措施",
    4: "强制措施",
    5: "财产处置",
    6: "分配与案款",
    7: "程序变化",
    8: "执行和解",
    9: "结案",
    10: "异议、复议与变更追加",
    11: "信访与执行监督",
    12: "听证与约谈",
    13: "执行期限",
    14: "通知书及笔录",
    15: "裁定书与决定书",
    16: "送达",
    17: "文书公开",
    18: "其他",
}
FIELD_NAMES = {"mode": "结案方式", "recovered_amount": "执行到位金额", "scheduled_at": "定于", "amount": "金额"}
# Notices after a redirect are chosen by key, so a URL can never put arbitrary text on the page.
NOTICES = {
    "filed": "案件已立案，流程已启动，立案短信将推送给申请执行人。",
    "exists": "该案号已经立案，已为您打开原案件（未重复立案）。",
    "shared": "已立案。注意：申请执行人的手机号码已被其他案件的不同当事人使用，请核实。",
    "recorded": "节点已录入，短信将推送给当事人。",
    "recorded_late": "节点已录入，但已超过3日录入期限，记为逾期录入。",
    "duplicate": "该表单已经提交过，节点未重复录入。",
    "assigned": "承办人已指定，已通知申请执行人；此前的承办人不能再录入本案节点。",
    "assigned_same": "承办人、书记员未变化。",
    "message_replied": "答复已保存，将以短信告知当事人登录查看。",  # api/routes/messages.py
    # progress feedback (api/routes/workbench_pages.py)
    "feedback_sent": "执行进展反馈已发送，申请执行人将收到短信，登录后可查看并回复。",
    "feedback_repeat": "该反馈已经发送过，未重复发送。",
    "restored": "已立案恢复执行，新案件的流程已启动，原终本案件的定期查询随之结束。",
    # the parties' card (api/routes/parties.py)
    "agent_added": "委托代理人已登记，查询码将以短信发送给代理人。",
    "agent_repeat": "该委托代理人已经登记，未重复登记，也未重复发送短信。",
    "agent_dismissed": "已解除委托：该代理人不能再登录；本案此前的登录均已失效，新的查询码将以短信发送给申请执行人。",
    "agent_dismissed_closed": "已解除委托：该代理人不能再登录，本案此前的登录均已失效（已结案，不再发送新查询码）。",
    "dismissed_repeat": "该委托代理人此前已解除委托，未重复处理。",
    "corrected": "当事人信息已更正并记录在变更记录中；此后的短信发往更正后的号码。",
    "corrected_code": "当事人信息已更正；新的查询码将以短信发送到更正后的号码，原查询码作废。",
    "corrected_same": "填写的内容与现有信息相同，未作更改。",
}
_ENGLISH_TAIL = re.compile(r"\s*\([\x20-\x7e]*\)\s*$")

router = APIRouter(include_in_schema=False)
router.mount("/static", StaticFiles(directory=HERE / "static"), name="static")


def _chinese(detail: str) -> str:
    """The Chinese part of an error detail: the English gloss in brackets is for API clients."""
    return _ENGLISH_TAIL.sub("", detail) or detail


def _money(amount: Decimal | None) -> str:
    return "" if amount is None else f"{amount:,.2f} 元"


def _datetime_local(moment: datetime) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m-%dT%H:%M")


TEMPLATES.env.filters["beijing"] = format_beijing
TEMPLATES.env.filters["day"] = format_day
TEMPLATES.env.filters["money"] = _money
TEMPLATES.env.filters["chinese"] = _chinese
TEMPLATES.env.globals["id_types"] = ID_TYPE_LABELS  # the filing form's document types
TEMPLATES.env.globals["not_eserved_note"] = NOT_ESERVED_NOTE  # a ruling or decision (seed 001 第六条)


# ---------------------------------------------------------------- who is logged in


async def _page_staff(request: Request, session: SessionDep, settings: SettingsDep) -> Staff | None:
    """The staff member of the ``yg_token`` cookie, or None (not logged in, expired, logged out, disabled)."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    try:
        return await staff_of_token(session, token, secret=settings.secret_key)
    except NotAuthenticated:
        return None


PageStaff = Annotated[Staff | None, Depends(_page_staff)]


def _htmx(request: Request) -> bool:
    """A request of htmx, the pages' partial updates: it wants a fragment, not a whole page."""
    return request.headers.get("hx-request") == "true"


def _to_login(request: Request, *, back_to: str | None = None) -> Response:
    """To the login form, coming back afterwards to this page (or, after a post, to the page of the form); a partial
    update whose session ended sends the whole window there (HX-Redirect), not a login form into a card."""
    target = back_to or request.url.path + (f"?{request.url.query}" if request.url.query else "")
    url = f"/login?next={quote(target)}"
    if _htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def _safe_next(value: str) -> str:
    """Only a path of this site: never redirect a login to another host."""
    if value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def _cross_site(request: Request) -> bool:
    """A form posted from another origin (SameSite=Lax already keeps the cookie off cross-site posts)."""
    origin = request.headers.get("origin")
    if not origin:
        return False
    return urlsplit(origin).netloc != request.headers.get("host", "")


def _render(request: Request, name: str, context: dict[str, Any], *, status: int = 200) -> HTMLResponse:
    response = TEMPLATES.TemplateResponse(request, name, context, status_code=status)
    response.headers["Cache-Control"] = "no-store"  # case data on a shared court computer
    return response


def _me(staff: Staff) -> dict[str, str]:
    return {"name": staff.name, "role": ROLE_NAMES.get(staff.role, staff.role), "court": staff.court.name}


def _not_found(request: Request, staff: Staff, detail: str) -> HTMLResponse:
    return _render(request, "not_found.html", {"me": _me(staff), "detail": _chinese(detail)}, status=404)


async def not_found_page(request: Request) -> HTMLResponse:
    """The staff 404 page in Chinese for a console path that does not exist (api/errors.py sends every 404 of a
    page there); with the console's bar when the visitor is signed in."""
    me = None
    token = request.cookies.get(COOKIE)
    if token:
        async with request.app.state.sessions() as session:
            with contextlib.suppress(NotAuthenticated):
                me = _me(await staff_of_token(session, token, secret=request.app.state.settings.secret_key))
    context = {"me": me, "title": "未找到该页面", "detail": "您访问的页面不存在，请检查网址，或从案件列表进入。"}
    return _render(request, "not_found.html", context, status=404)


async def _form(request: Request) -> dict[str, str]:
    data = await request.form()
    return {k: v.strip() for k, v in data.items() if isinstance(v, str)}


# ---------------------------------------------------------------- login


@router.get("/login")
async def login_page(request: Request, staff: PageStaff, next: str = "/") -> Response:
    if staff is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return _render(request, "login.html", {"username": "", "next": _safe_next(next), "error": None})


@router.post("/login")
async def login(request: Request, session: SessionDep, settings: SettingsDep, address: ClientAddress) -> Response:
    """Same check and throttling as POST /api/auth/token; the token goes into an HttpOnly, SameSite=Lax cookie."""
    form = await _form(request)
    username, target = form.get("username", ""), _safe_next(form.get("next", "/"))
    if _cross_site(request):
        return _render(
            request, "login.html", {"username": username, "next": target, "error": "请求来源不正确"}, status=403
        )
    try:
        staff = await security.login(session, username, form.get("password", ""), address=address)
    except TooManyAttempts as e:
        context = {"username": username, "next": target, "error": _chinese(e.detail)}
        refused = _render(request, "login.html", context, status=429)
        refused.headers["Retry-After"] = str(e.retry_after)
        return refused
    except NotAuthenticated:
        context = {"username": username, "next": target, "error": "用户名或密码错误，请重新输入。"}
        return _render(request, "login.html", context, status=401)
    token = issue_token(staff, secret=settings.secret_key, minutes=settings.token_minutes)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        max_age=settings.token_minutes * 60,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/logout")
async def logout(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """Ends the cookie's token (refused from then on, wherever it was copied), then forgets the cookie."""
    token = request.cookies.get(COOKIE)
    if token and not _cross_site(request):
        with contextlib.suppress(NotAuthenticated):  # expired or invalid already: nothing to end
            await security.logout(session, token, secret=settings.secret_key)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax")
    return response


# ---------------------------------------------------------------- home: the cases, and filing for registrars


async def _court_staff(session: AsyncSession, *, court_code: str, role: str) -> Sequence[Staff]:
    """Active staff of one role in one court (the filing form's handler and clerk choices)."""
    rows = await session.scalars(
        select(Staff)
        .where(Staff.court_code == court_code, Staff.role == role, Staff.active.is_(True))
        .order_by(Staff.username)
    )
    return rows.all()


async def _home(
    request: Request,
    session: AsyncSession,
    staff: Staff,
    *,
    form: Mapping[str, str] | None = None,
    error: YgError | None = None,
    filing: Mapping[str, Any] | None = None,
    status: int = 200,
) -> HTMLResponse:
    filters = workbench.Filters.of(request.query_params, staff=staff)  # 我的待办 (api/workbench.py)
    context: dict[str, Any] = {
        "me": _me(staff),
        "work": await workbench.my_cases(session, staff=staff, filters=filters),
        "figures": await workbench.counts(session, staff=staff, mine=filters.mine),
        "filters": filters,
        "choices": {
            "status": workbench.STATUSES,
            "rule": workbench.rule_choices(staff),
            "node": workbench.node_choices(),
            "scope": staff.role in workbench.WORKERS,
        },
        "replies": await workbench.feedback_replies(session, staff=staff) if staff.role == "handler" else [],
        "can_file": staff.role == "registrar",
        "error": error,
    }
    if staff.role == "registrar":
        today = datetime.now(BEIJING).date()
        context |= {
            "handlers": await _court_staff(session, court_code=staff.court_code, role="handler"),
            "clerks": await _court_staff(session, court_code=staff.court_code, role="clerk"),
            "form": form or {"filed_on": today.isoformat(), "has_property": "1"},
            "example_number": f"（{today.year}）{staff.court.case_prefix}执123号",
            # the rows of parties, their fields' errors, the case already filed under the number (filing.html)
            "rows": filing_form.blank_rows(),
            "blank": {kind: filing_form.blank(kind) for kind in filing_form.KINDS},
            "kind_names": filing_form.KIND_NAMES,
            "min_rows": filing_form.MIN_ROWS,
            "field_errors": {},
            "existing": None,
        } | dict(filing or {})
    return _render(request, "home.html", context, status=status)


@router.get("/")
async def home(request: Request, staff: PageStaff, session: SessionDep) -> Response:
    if staff is None:
        return _to_login(request)
    return await _home(request, session, staff)


def _decimal(text: str, label: str) -> Decimal:
    try:
        value = Decimal(text.replace(",", "").replace("，", ""))
    except InvalidOperation:
        raise InvalidInput(f"{label}“{text}”不是有效的金额", kind="InvalidAmount") from None
    if not value.is_finite() or value < 0:
        raise InvalidInput(f"{label}不能为负数", kind="InvalidAmount")
    if value != value.quantize(Decimal("0.01")):
        raise InvalidInput(f"{label}最多保留两位小数", kind="InvalidAmount")
    return value


def _field_labels(e: ValidationError) -> str:
    """Each wrong field by its Chinese name (api/errors.py, the API's own labels) with what is wrong with it."""
    labels = [f"{field_label(err['loc']) or '输入'}（{error_message(err)}）" for err in e.errors()]
    return "、".join(dict.fromkeys(labels))


@router.post("/cases")
async def file_case_form(
    request: Request, staff: PageStaff, session: SessionDep, client: TemporalDep, settings: SettingsDep
) -> Response:
    """File a case from the console through the same service as POST /api/cases (api/filing_form.py reads the rows
    of parties); 添加/删除 without JavaScript draw the form again with a row more or less."""
    if staff is None:
        return _to_login(request, back_to="/")
    data = await request.form()
    form = {k: v.strip() for k, v in data.items() if isinstance(v, str)}
    rows = filing_form.rows_of(data)
    if form.get("add_row") or form.get("remove_row"):
        rows = filing_form.edit_rows(rows, add=form.get("add_row", ""), remove=form.get("remove_row", ""))
        return await _home(request, session, staff, form=form, filing={"rows": rows})
    try:
        if _cross_site(request):
            raise Forbidden("请求来源不正确", kind="CrossSite")
        require_role(staff, "registrar")  # before the form is read: a clerk gets the role message, not a field error
        body = filing_form.case_in(form, rows, staff)
        filed, created = await file_case(session, client, settings, staff=staff, body=body)
    except YgError as e:
        filing: dict[str, Any] = {"rows": rows, "field_errors": getattr(e, "fields", {})}
        if e.kind == "CaseAlreadyFiled":  # say what was kept, and where it is
            with contextlib.suppress(YgError):
                number = parse_case_number(form.get("case_number", "")).text
                filing["existing"] = await queries.case_by_number(session, case_number=number)
        return await _home(request, session, staff, form=form, error=e, filing=filing, status=e.status)
    notice = "exists" if not created else ("shared" if filed.warnings else "filed")
    return RedirectResponse(f"/cases/{filed.case_id}?notice={notice}", status_code=303)


# ---------------------------------------------------------------- the case page and the outbox


@dataclass(frozen=True)
class SmsRow:
    case_id: str
    case_number: str
    reason: str
    recipient: str
    to: str
    body: str
    status: str
    status_code: str
    provider: str
    created_at: datetime


@dataclass(frozen=True)
class NodeRow:
    seq: int
    name: str
    occurred_at: datetime
    entered_at: datetime
    late: bool
    disclose: bool
    summary: str
    details: list[str]
    recorded_by: str


def _reason(reason: str, node_names: Mapping[str, str], complaints: Collection[str] = ()) -> str:
    """An outbox reason in words, the one place every page showing SMS takes it from; never the key itself."""
    if (said := party_messages.reason_name(reason, complaints)) is not None:  # 当事人留言/投诉, 留言/投诉答复
        return said
    if (said := approval_reason_name(reason)) is not None:  # api/approvals.py: a request, its decision
        return said
    if reason == "filed":
        return "立案通知"
    if reason.startswith("node:"):
        name = node_names.get(reason.removeprefix("node:"))
        return f"节点通知：{name}" if name else "节点通知"
    if reason.startswith("rungs:"):
        return "督办提醒"
    if reason.startswith("feedback:"):
        return "执行进展反馈"
    if reason.startswith("eservice:"):  # api/documents.py
        return "电子送达提醒"
    if reason.startswith(("agent:", "dismissal:", "correction:")):  # api/parties.py
        return {"agent": "委托代理人查询码", "dismissal": "解除委托，更换查询码", "correction": "更正号码，更换查询码"}[
            reason.partition(":")[0]
        ]
    return "短信通知"  # a reason added without its words here: still Chinese, never a key like ``xyz:<uuid>``


def _recipient(recipient: str, parties: Mapping[int, Party]) -> str:
    kind, _, ident = recipient.partition(":")
    if kind == "party" and ident.isdigit() and (p := parties.get(int(ident))):
        return f"{PARTY_ROLE_NAMES.get(p.role, p.role)} {p.name}"
    return "法院工作人员" if kind == "staff" else "当事人"


def _sms_rows(
    messages: Iterable[tuple[SmsMessage, Case]],
    node_names: Mapping[str, str],
    parties: Mapping[int, Party],
    complaints: Collection[str] = (),
) -> list[SmsRow]:
    return [
        SmsRow(
            case_id=c.id,
            case_number=c.case_number,
            reason=_reason(m.reason, node_names, complaints),
            recipient=_recipient(m.recipient, parties),
            to=mask_phone(m.to),
            body=redact_query_code(m.body),
            status=SMS_STATUS_NAMES.get(m.status, m.status),
            status_code=m.status,
            provider=PROVIDER_NAMES.get(m.provider, m.provider),
            created_at=m.created_at,
        )
        for m, c in messages
    ]


def _node_details(n: Node) -> list[str]:
    details = []
    for key, value in (n.fields or {}).items():
        label = FIELD_NAMES.get(key)
        if not label or not value:
            continue
        if key == "scheduled_at":
            with contextlib.suppress(ValueError):
                value = format_beijing(datetime.fromisoformat(value))
        elif key in ("amount", "recovered_amount"):
            value = f"{value} 元"
        details.append(f"{label}：{value}")
    return details


def _node_groups(only: Collection[str] = ()) -> list[tuple[str, list[NodeType]]]:
    """The node form's types by category; ``only`` keeps those types (a 终本 case's follow-up inquiry)."""
    groups: dict[int, list[NodeType]] = {}
    for nt in (t for t in CATALOGUE if not only or t.code in only):
        groups.setdefault(nt.category, []).append(nt)
    return [(f"{c}. {CATEGORY_NAMES.get(c, '')}", types) for c, types in sorted(groups.items())]


async def _staff_names(session: AsyncSession, *, usernames: set[str]) -> dict[str, str]:
    """Who recorded the nodes, by name (nodes keep the username, as the workflow received it)."""
    if not usernames:
        return {}
    rows = await session.execute(select(Staff.username, Staff.name).where(Staff.username.in_(usernames)))
    return {username: name for username, name in rows}


async def _requests(session: AsyncSession, case: Case) -> list[dict[str, Any]]:
    """Extension and 终本 requests: the conditions a 终本 exception waives apart from the decider's note."""
    rows = await queries.extensions_of_case(session, case_id=case.id)
    names = await _staff_names(session, usernames={u for r in rows for u in (r.requested_by, r.decided_by) if u})
    return [
        {
            "kind": REQUEST_KIND_NAMES.get(r.kind, r.kind),
            "months": r.months,
            "reason": r.reason,
            "requested_by": names.get(r.requested_by, r.requested_by),
            "requested_at": r.requested_at,
            "status": REQUEST_STATUS_NAMES.get(r.status, r.status),
            "waived": list(r.waived),
            "decided_by": names.get(r.decided_by, r.decided_by) if r.decided_by else None,
            "decided_at": r.decided_at,
            "note": r.note,
        }
        for r in rows
    ]


def _ladder_note(ladder: Ladder) -> str:
    """When the ladder's rungs come, under the case's rule set (seed 004), for the 期限 table's reader."""

    def before(n: int) -> str:
        return f"期限届满前{n}个工作日" if n else "期限届满当日"

    return (
        f"提醒承办人：{before(ladder.remind_before_working_days)}；"
        f"预警局长：{before(ladder.warn_before_working_days)}（均自当日0时起，北京时间）；"
        "届满仍未完成的，报告院长、纪检组长。"
    )


def _overdue(o: ObligationRow, now: datetime) -> bool:
    """An open deadline whose due instant has passed (a paused one's clock is stopped)."""
    return o.status == "open" and not o.paused and o.due_at < now


def _in_flight(case: Case, nodes: Sequence[Node], messages: Sequence[SmsMessage], now: datetime) -> bool:
    """A message of the last minutes not yet written or not yet sent: the page reloads until it is."""
    recent = now - REFRESH_WINDOW
    if any(m.status in ("pending", "sending") and m.created_at > recent for m in messages):
        return True
    reasons = {m.reason for m in messages}
    if case.created_at > recent and "filed" not in reasons:
        return True
    return any(n.disclose and n.entered_at > recent and f"node:{n.id}" not in reasons for n in nodes)


async def _case_page(
    request: Request,
    session: AsyncSession,
    staff: Staff,
    case: Case,
    *,
    notice: str | None = None,
    node_form: Mapping[str, str] | None = None,
    error: YgError | None = None,
    assign_error: YgError | None = None,
    extra: Mapping[str, Any] | None = None,
    status: int = 200,
) -> HTMLResponse:
    nodes = await queries.nodes_of_case(session, case_id=case.id)
    hidden = await party_messages.hidden_sms(session, staff=staff, cases=[case])  # complaints: discipline only
    complaints = await party_messages.complaint_reasons(session, case_ids=[case.id])
    messages = [m for m in await queries.sms_of_case(session, case_id=case.id) if m.id not in hidden]
    node_names = {n.id: nt.name if (nt := node_type(n.type)) else n.type for n in nodes}
    feedback = await queries.feedback_of_case(session, case_id=case.id)
    staff_names = await _staff_names(
        session, usernames={n.recorded_by for n in nodes} | {f.submitted_by for f in feedback}
    )
    parties = {p.id: p for p in case.parties}
    now = datetime.now(UTC)
    on_case = staff.id in (case.handler_id, case.clerk_id)
    # after 终本 the handler still records the 6-monthly inquiry on the closed case (api/workbench.py)
    follow_up = await workbench.follow_up_types(session, case) if on_case and case.status == "closed" else ()
    can_record = on_case and (case.status == "open" or bool(follow_up))
    context: dict[str, Any] = {
        "me": _me(staff),
        "case": case,
        "status": STATUS_NAMES.get(case.status, case.status),
        "documents_panel": await documents_panel(session, case, staff),  # case_documents.html
        "messages_panel": await party_messages.messages_panel(session, case, staff),  # case_messages.html
        "party_panel": await panel_context(session, case, staff),
        "feedback_panel": await workbench.feedback_panel(  # case_feedback.html
            session, case, staff, sent=notice in ("feedback_sent", "feedback_repeat")
        ),
        "restore_panel": await workbench.restore_panel(session, case, staff),  # case_restore.html
        "nodes": [
            NodeRow(
                seq=n.seq,
                name=node_names[n.id],
                occurred_at=n.occurred_at,
                entered_at=n.entered_at,
                late=n.late,
                disclose=n.disclose,
                summary=n.summary,
                details=_node_details(n),
                recorded_by=staff_names.get(n.recorded_by, n.recorded_by),
            )
            for n in nodes
        ],
        "sms": _sms_rows(
            ((m, case) for m in messages if m.recipient.startswith("party:")), node_names, parties, complaints
        ),
        "staff_sms": _sms_rows(
            ((m, case) for m in messages if m.recipient.startswith("staff:")), node_names, parties, complaints
        ),
        "obligations": [
            {
                "subject": o.subject,
                "remind_on": beijing_date(o.remind_at) if o.remind_at else None,
                "warn_on": beijing_date(o.warn_at) if o.warn_at else None,
                "due_at": o.due_at,
                "status": "已暂停（中止/暂缓）" if o.paused else OBLIGATION_STATUS_NAMES.get(o.status, o.status),
                "overdue": _overdue(o, now),
                # days left or overdue, as on the home page (api/workbench.py); a paused clock shows none
                "badge": workbench.due_badge(o.due_at, now=now) if o.status == "open" and not o.paused else None,
                "late": o.late,
                "confirmed": o.confirmed,
                "rungs": "、".join(RUNG_NAMES[r] for r in o.rungs_fired),
            }
            for o in await queries.obligations_of_case(session, case_id=case.id)
            if party_messages.shows_clock(staff, o.rule)
        ],
        "ladder_note": _ladder_note(rule_set(case.rule_version).ladder),
        "feedback": [
            {
                "n": f.n,
                "submitted_at": f.submitted_at,
                "submitted_by": staff_names.get(f.submitted_by, f.submitted_by),
                "late": f.late,
                "measures": f.measures,
                "next_steps": f.next_steps,
                "applicant_tasks": f.applicant_tasks,
                "reply": f.reply,
                "replied_at": f.replied_at,
                "replied_by": _recipient(f"party:{f.replied_by_party_id}", parties) if f.replied_by_party_id else None,
            }
            for f in feedback
        ],
        "requests": await _requests(session, case),
        "requests_panel": await requests_panel(session, case, staff),  # case_requests.html
        "refresh": REFRESH_SECONDS if _in_flight(case, nodes, messages, now) else None,
        "notice": NOTICES.get(notice or ""),
        "can_record": can_record,
        "error": error,
        "assign_error": assign_error,
        "assign": await _assign_form(session, staff, case),
    }
    if can_record:
        context |= {
            "node_groups": _node_groups(only=follow_up),
            "follow_up": bool(follow_up),
            "closure_modes": CLOSURE_MODES,
            # The key is fixed when the form is drawn: submitting the same form twice records one node.
            "node_form": node_form or {"occurred_at": _datetime_local(now), "idempotency_key": str(uuid.uuid4())},
        }
    context |= extra or {}  # a form of another module drawn again with its error (api/routes/parties.py)
    return _render(request, "case.html", context, status=status)


async def _assign_form(session: AsyncSession, staff: Staff, case: Case) -> dict[str, Any] | None:
    """The assignment form, for the bureau chief or vice president of the case's court while it is open."""
    try:
        guard.check_decider(rule_set(case.rule_version), kind="assignment", role=staff.role)
    except YgError:
        return None
    if staff.court_code != case.court_code or case.status == "closed":
        return None
    return {
        "handlers": await _court_staff(session, court_code=case.court_code, role="handler"),
        "clerks": await _court_staff(session, court_code=case.court_code, role="clerk"),
        "key": str(uuid.uuid4()),
    }


async def case_for_page(
    request: Request, session: AsyncSession, staff: Staff | None, case_id: str, *, back_to: str | None = None
) -> tuple[Staff, Case] | Response:
    """The signed-in staff member and the case they may see; otherwise the page to show instead: the login form
    (coming back to ``back_to``, or this page), or the page saying the case is not found."""
    if staff is None:
        return _to_login(request, back_to=back_to)
    try:
        return staff, await visible_case(session, staff, case_id)
    except YgError as e:
        return _not_found(request, staff, e.detail)


async def _case_form(
    request: Request, case_id: str, staff: Staff | None, session: AsyncSession
) -> tuple[Staff, Case, dict[str, str]] | Response:
    """A form posted on a case page: the signed-in staff member, the case they may see, and the form; otherwise
    the page to show instead (login, not found, or a refusal of a cross-site post)."""
    found = await case_for_page(request, session, staff, case_id, back_to=f"/cases/{quote(case_id)}")
    if isinstance(found, Response):
        return found
    staff, case = found
    if _cross_site(request):
        return await _case_page(
            request, session, staff, case, error=Forbidden("请求来源不正确", kind="CrossSite"), status=403
        )
    return staff, case, await _form(request)


@router.post("/cases/{case_id}/assignment")
async def assignment_form(
    request: Request, case_id: str, staff: PageStaff, session: SessionDep, client: TemporalDep
) -> Response:
    """Assign the handler and clerk through the same service as POST /api/cases/{id}/assignment."""
    posted = await _case_form(request, case_id, staff, session)
    if isinstance(posted, Response):
        return posted
    staff, case, form = posted
    try:
        body = AssignmentIn(handler=form.get("handler", ""), clerk=form.get("clerk") or None)
        _, changed = await assign_case(
            session, client, staff=staff, case_id=case.id, body=body, key=form.get("idempotency_key")
        )
    except ValidationError:
        return await _case_page(request, session, staff, case, assign_error=InvalidInput("请选择承办人"), status=422)
    except YgError as e:
        return await _case_page(request, session, staff, case, assign_error=e, status=e.status)
    return RedirectResponse(f"/cases/{case.id}?notice={'assigned' if changed else 'assigned_same'}", status_code=303)


@router.get("/cases/{case_id}")
async def case_page(
    request: Request, case_id: str, staff: PageStaff, session: SessionDep, notice: str | None = None
) -> Response:
    if staff is None:
        return _to_login(request)
    try:
        case = await visible_case(session, staff, case_id)
    except YgError as e:
        return _not_found(request, staff, e.detail)
    return await _case_page(request, session, staff, case, notice=notice)


def _beijing_input(text: str, label: str) -> datetime:
    """A datetime-local value, read as Beijing time."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"请填写有效的{label}", kind="InvalidTime") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=BEIJING)


def _node_in(form: Mapping[str, str]) -> NodeIn:
    """The node form as the API's NodeIn, with only the fields of the chosen type."""
    nt = node_type(form.get("type", ""))
    if nt is None:
        raise InvalidInput("请选择节点类型", kind="UnknownNodeType")
    if not form.get("occurred_at"):
        raise InvalidInput("请填写发生时间", kind="InvalidTime")
    summary = form.get("summary", "")
    if len(summary) > 2000:
        raise InvalidInput("摘要不能超过2000字", kind="InvalidInput")
    body: dict[str, Any] = {
        "type": nt.code,
        "occurred_at": _beijing_input(form["occurred_at"], "发生时间"),
        "summary": summary,
        "disclose": {"1": True, "0": False}.get(form.get("disclose", "")),
    }
    if nt.code == "closure":
        body["mode"] = form.get("mode") or None
        if form.get("recovered_amount"):
            body["recovered_amount"] = str(_decimal(form["recovered_amount"], "执行到位金额"))
    if nt.scheduled and form.get("scheduled_at"):
        body["scheduled_at"] = _beijing_input(form["scheduled_at"], "预定时间").isoformat()
    if "amount" in nt.required and form.get("amount"):
        body["amount"] = str(_decimal(form["amount"], "金额"))
    try:
        return NodeIn.model_validate(body)
    except ValidationError as e:
        raise InvalidInput(f"以下内容填写有误：{_field_labels(e)}", kind="InvalidInput") from None


@router.post("/cases/{case_id}/nodes")
async def record_node_form(
    request: Request, case_id: str, staff: PageStaff, session: SessionDep, client: TemporalDep
) -> Response:
    """Record a node through the same service as POST /api/cases/{id}/nodes; the form's key is the Idempotency-Key."""
    posted = await _case_form(request, case_id, staff, session)
    if isinstance(posted, Response):
        return posted
    staff, case, form = posted
    try:
        body = _node_in(form)
        node, created = await record_node(
            session, client, staff=staff, case_id=case.id, body=body, idempotency_key=form.get("idempotency_key")
        )
    except YgError as e:
        if not form.get("idempotency_key"):
            form["idempotency_key"] = str(uuid.uuid4())
        return await _case_page(request, session, staff, case, node_form=form, error=e, status=e.status)
    notice = "duplicate" if not created else ("recorded_late" if node.late else "recorded")
    return RedirectResponse(f"/cases/{case.id}?notice={notice}", status_code=303)


async def _outbox(session: AsyncSession, *, court_path: str, limit: int, staff: Staff | None = None) -> list[SmsRow]:
    """The newest SMS of the cases of a court's subtree, with the node and party each one is about; a complaint's
    SMS only for the discipline head (api/messages.py)."""
    rows = (
        await session.execute(
            select(SmsMessage, Case)
            .join(Case, SmsMessage.case_id == Case.id)
            .join(Court, Case.court_code == Court.code)
            .where(Court.path.startswith(court_path))
            .order_by(SmsMessage.created_at.desc(), SmsMessage.id.desc())
            .limit(limit)
        )
    ).all()
    messages = [(m, c) for m, c in rows]
    cases = list({c.id: c for _, c in messages}.values())
    complaints = await party_messages.complaint_reasons(session, case_ids=[c.id for c in cases])
    if staff is not None:
        hidden = await party_messages.hidden_sms(session, staff=staff, cases=cases)
        messages = [(m, c) for m, c in messages if m.id not in hidden]
    node_ids = {m.reason.removeprefix("node:") for m, _ in messages if m.reason.startswith("node:")}
    party_ids = {
        int(ident)
        for m, _ in messages
        if (parts := m.recipient.partition(":"))[0] == "party" and (ident := parts[2]).isdigit()
    }
    node_names: dict[str, str] = {}
    if node_ids:
        for node_id, code in await session.execute(select(Node.id, Node.type).where(Node.id.in_(node_ids))):
            node_names[node_id] = nt.name if (nt := node_type(code)) else code
    parties: dict[int, Party] = {}
    if party_ids:
        parties = {p.id: p for p in await session.scalars(select(Party).where(Party.id.in_(party_ids)))}
    return _sms_rows(messages, node_names, parties, complaints)


@router.get("/outbox")
async def outbox_page(request: Request, staff: PageStaff, session: SessionDep) -> Response:
    if staff is None:
        return _to_login(request)
    rows = await _outbox(session, court_path=staff.court.path, limit=OUTBOX_LIMIT, staff=staff)
    return _render(request, "outbox.html", {"me": _me(staff), "sms": rows, "limit": OUTBOX_LIMIT})

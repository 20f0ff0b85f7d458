"""The administrator's console pages (issue 11 item 4; DOMAIN.md → roles: admin keeps users, calendars, policies,
workflow histories), in Chinese, over the same services as the JSON API: users and roles of the court and the courts
below it (api/users.py), the court tree, holiday schedules and calendar alerts (api/routes/calendar.py), the rule
sets (domain/rules.py, read-only), stuck cases (api/stuck_cases.py) and a case's workflow history as a timeline in
Beijing time (api/history.py)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api import users as accounts
from api.access import ROLE_NAMES, visible_case
from api.deps import SessionDep, TemporalDep
from api.history import case_history
from api.routes import calendar as calendar_routes
from api.routes.pages import PageStaff, _chinese, _cross_site, _form, _me, _render, _to_login
from api.stuck_cases import stuck_cases
from db import queries
from db.models import Case, Court, Staff
from domain import guard
from domain.calendar import PUBLISHED_FIRST_YEAR, PUBLISHED_LAST_YEAR
from domain.clock import BEIJING
from domain.errors import Forbidden, InvalidInput, NotFound, YgError
from domain.nodes import node_type
from domain.rules import CURRENT_VERSION, RULE_SETS, Rule, RuleSet, rule_set

router = APIRouter(include_in_schema=False)

LEVEL_NAMES = {"high": "高级人民法院", "intermediate": "中级人民法院", "basic": "基层人民法院"}
UNIT_NAMES = {"days": "日", "months": "个月", "working_days": "个工作日"}
# What opens, meets or ends a rule (domain/rules.py's events), besides node codes (named by the node catalogue).
EVENT_NAMES = {
    "filed": "立案",
    "filed_unassigned": "立案时未确定承办人",
    "scheduled_act": "录入定于某日实施的执行行为",
    "closed": "结案",
    "restored": "恢复执行",
    "message": "当事人留言",
    "complaint": "当事人投诉",
    "eservice_reminder": "电子送达提醒短信发出",
    "feedback": "承办人提交执行进展反馈",
    "masked": "各公开名单确认屏蔽",
    "reply": "答复当事人",
    "downloaded": "受送达人下载文书",
}
DECISION_NAMES = {
    "extension": "延长执行期限",
    "zhongben": "终本结案（不符合条件的例外）",
    "assignment": "指定承办人、书记员",
    "calendar": "录入节假日安排",
}
# Event kinds of a workflow history (api/history.py names them after Temporal's event types).
KIND_NAMES = {
    "workflow_execution_started": "流程启动",
    "workflow_execution_update_accepted": "受理请求",
    "workflow_execution_update_completed": "请求办结",
    "workflow_execution_update_admitted": "收到请求",
    "activity_task_scheduled": "开始处理",
    "activity_task_completed": "处理完成",
    "activity_task_failed": "处理失败",
    "activity_task_timed_out": "处理超时",
    "activity_task_cancel_requested": "请求取消处理",
    "activity_task_canceled": "处理已取消",
    "timer_started": "开始计时",
    "timer_fired": "计时届满",
    "timer_canceled": "计时取消",
    "workflow_execution_signaled": "收到通知",
    "upsert_workflow_search_attributes": "更新检索信息",
    "workflow_properties_modified": "更新流程属性",
    "marker_recorded": "记录标记",
    "workflow_execution_continued_as_new": "续新运行",
    "workflow_execution_completed": "流程结束",
    "workflow_execution_failed": "流程失败",
    "workflow_execution_terminated": "流程被终止",
    "workflow_execution_canceled": "流程被取消",
    "workflow_execution_timed_out": "流程超时",
    "workflow_task_failed": "流程任务失败",
    "workflow_task_timed_out": "流程任务超时",
    "workflow_task_scheduled": "流程任务排队",
    "workflow_task_started": "流程任务开始",
    "workflow_task_completed": "流程任务完成",
    "activity_task_started": "处理开始执行",
}
KIND_TONES = {"activity_task_failed": "late", "workflow_task_failed": "late", "workflow_execution_failed": "late"}
# Update and signal names (contracts/case.py) and activity types (contracts/activities.py) in words.
OPERATION_NAMES = {
    "open_case": "立案登记",
    "record_node": "录入节点",
    "assign": "指定承办人",
    "request_extension": "申请延长执行期限",
    "decide_extension": "审批延长执行期限",
    "request_zhongben_exception": "报请终本审批",
    "submit_feedback": "提交执行进展反馈",
    "calendar_changed": "节假日安排变更",
    "restored": "恢复执行",
    "case_event": "案件事件",
    "save_transition": "写入案件状态",
    "schedule_periods": "计算期限",
    "send_notices": "发送短信、列入公开名单",
    "apply_node_to_public_lists": "按节点更新公开名单",
    "mask_case_entries": "屏蔽公开名单信息",
}
_GLOSS = re.compile(r"\s*\([\x20-\x7e]*\)")
_DAY_LINE = re.compile(r"^(\d{4}-\d{1,2}-\d{1,2})(?:\s*(?:~|～|至|到|—|--)\s*(\d{4}-\d{1,2}-\d{1,2}))?\s*(.*)$")
CALENDAR_NOTICES = {"saved": "节假日安排已保存；依赖该年份的案件期限正在重新计算。"}
USER_NOTICES = {
    "deactivated": "账号已停用：该用户不能再登录，已登录的也随即失效。",
    "reactivated": "账号已恢复启用。",
    "role": "角色已变更，该用户下次操作即按新角色办理。",
    "unchanged": "内容未变化，未作更改。",
}


# ---------------------------------------------------------------- shared


def _refused(request: Request, staff: Staff, detail: str, *, status: int = 403) -> HTMLResponse:
    return _render(
        request, "admin/refused.html", {"me": _me(staff), "detail": _chinese(detail), "status": status}, status=status
    )


def _admin_or_page(request: Request, staff: Staff | None) -> Staff | Response:
    """The signed-in administrator, or the page to show instead (login, or a refusal in Chinese)."""
    if staff is None:
        return _to_login(request)
    try:
        accounts.require_admin(staff)
    except YgError as e:
        return _refused(request, staff, e.detail)
    return staff


def _page(
    request: Request, staff: Staff, name: str, context: Mapping[str, Any], *, section: str, status: int = 200
) -> HTMLResponse:
    return _render(
        request,
        f"admin/{name}",
        {"me": _me(staff), "active": "admin", "section": section, **context},
        status=status,
    )


def _can_enter_calendar(staff: Staff) -> bool:
    try:
        guard.check_decider(rule_set(CURRENT_VERSION), kind="calendar", role=staff.role, court_level=staff.court.level)
    except YgError:
        return False
    return True


def beijing_seconds(moment: datetime) -> str:
    """A Beijing time to the second, as a timeline needs: 2026年11月30日 16:35:12."""
    b = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(BEIJING)
    return f"{b.year}年{b.month}月{b.day}日 {b.hour:02d}:{b.minute:02d}:{b.second:02d}"


_RULE_NAMES = {r.id: r.name for rs in RULE_SETS.values() for r in rs.rules}
_RULE_ID = re.compile(
    r"(?<![A-Za-z0-9_-])(" + "|".join(re.escape(i) for i in sorted(_RULE_NAMES, key=len, reverse=True)) + r")"
    r"(?::(\d+))?(?![A-Za-z0-9_-])"
)
_DURATION = re.compile(r"(?:(\d+) days?, )?(\d+):(\d{2}):(\d{2})(?:\.\d+)?")


def _duration(m: re.Match[str]) -> str:
    days, hours, minutes = int(m.group(1) or 0), int(m.group(2)), int(m.group(3))
    parts = [f"{days}天" if days else "", f"{hours}小时" if hours else "", f"{minutes}分钟" if minutes else ""]
    return "".join(parts) or f"{int(m.group(4))}秒"


def _rule_name(m: re.Match[str]) -> str:
    name = _RULE_NAMES[m.group(1)]
    return f"{name}（第{m.group(2)}次）" if m.group(2) else name


def _words(text: str) -> str:
    """A summary of api/history.py for a court reader: English glosses cut; rule ids, operation names and
    durations in Chinese."""
    text = _GLOSS.sub("", text)
    text = _DURATION.sub(_duration, text)
    text = _RULE_ID.sub(_rule_name, text)
    for name, words in OPERATION_NAMES.items():
        text = re.sub(rf"(?<![A-Za-z_]){name}(?![A-Za-z_])", words, text)
    return text.strip()


# ---------------------------------------------------------------- overview


@router.get("/admin")
async def overview(request: Request, staff: PageStaff, session: SessionDep) -> Response:
    admin = _admin_or_page(request, staff)
    if isinstance(admin, Response):
        return admin
    counts = await accounts.users_per_court(session, admin)
    alerts = [a for a in await queries.calendar_alerts(session, open_only=True)] if _can_enter_calendar(admin) else []
    context = {
        "courts": len(await accounts.courts_kept(session, admin)),
        "active_users": sum(a for a, _ in counts.values()),
        "all_users": sum(t for _, t in counts.values()),
        "alerts": alerts,
        "version": CURRENT_VERSION,
    }
    return _page(request, admin, "overview.html", context, section="overview")


# ---------------------------------------------------------------- users and roles


def _user_form_defaults(admin: Staff) -> dict[str, str]:
    return {"court_code": admin.court_code, "role": "handler"}


async def _users_page(
    request: Request,
    session: AsyncSession,
    admin: Staff,
    *,
    court: str = "",
    form: Mapping[str, str] | None = None,
    error: YgError | None = None,
    created: tuple[Staff, str] | None = None,
    reset: tuple[Staff, str] | None = None,
    notice: str = "",
    status: int = 200,
) -> HTMLResponse:
    courts = await accounts.courts_kept(session, admin)
    kept = {c.code for c in courts}
    court = court if court in kept else ""
    rows = await accounts.users(session, admin, court_code=court or None)
    context = {
        "courts": courts,
        "court": court,
        "users": rows,
        "roles": ROLE_NAMES,
        "levels": LEVEL_NAMES,
        "form": form or _user_form_defaults(admin),
        "error": error,
        "created": created,
        "reset": reset,
        "notice": USER_NOTICES.get(notice),
        "changes": await accounts.changes(session, admin, limit=30),
        "me_id": admin.id,
    }
    return _page(request, admin, "users.html", context, section="users", status=status)


@router.get("/admin/users")
async def users_page(
    request: Request, staff: PageStaff, session: SessionDep, court: str = "", notice: str = ""
) -> Response:
    admin = _admin_or_page(request, staff)
    if isinstance(admin, Response):
        return admin
    return await _users_page(request, session, admin, court=court, notice=notice)


async def _posted(request: Request, staff: Staff | None) -> tuple[Staff, dict[str, str]] | Response:
    admin = _admin_or_page(request, staff)
    if isinstance(admin, Response):
        return admin
    if _cross_site(request):
        return _refused(request, admin, "请求来源不正确")
    return admin, await _form(request)


@router.post("/admin/users")
async def create_user_form(request: Request, staff: PageStaff, session: SessionDep) -> Response:
    """Create a user; the temporary password is shown on this answer only (never in a URL or a log)."""
    posted = await _posted(request, staff)
    if isinstance(posted, Response):
        return posted
    admin, form = posted
    try:
        created = await accounts.create_user(
            session,
            admin,
            accounts.NewUser(
                username=form.get("username", ""),
                name=form.get("name", ""),
                role=form.get("role", ""),
                court_code=form.get("court_code", ""),
                office_phone=form.get("office_phone"),
                mobile=form.get("mobile"),
            ),
        )
    except YgError as e:
        return await _users_page(request, session, admin, form=form, error=e, status=e.status)
    return await _users_page(request, session, admin, created=created)


@router.post("/admin/users/{staff_id}/{action}")
async def user_action_form(
    request: Request, staff_id: int, action: str, staff: PageStaff, session: SessionDep
) -> Response:
    """Deactivate, reactivate, reset the password of, or change the role of a user the administrator keeps."""
    posted = await _posted(request, staff)
    if isinstance(posted, Response):
        return posted
    admin, form = posted
    try:
        if action in ("deactivate", "reactivate"):
            changed = await accounts.set_active(session, admin, staff_id, active=action == "reactivate")
            notice = (action + "d") if changed else "unchanged"
        elif action == "role":
            notice = "role" if await accounts.change_role(session, admin, staff_id, role=form.get("role", "")) else ""
            notice = notice or "unchanged"
        elif action == "password":
            reset = await accounts.reset_password(session, admin, staff_id)
            return await _users_page(request, session, admin, reset=reset)
        else:
            raise NotFound("不支持的操作 (unknown action)", kind="NotFound")
    except YgError as e:
        return await _users_page(request, session, admin, error=e, status=e.status)
    return RedirectResponse(f"/admin/users?notice={notice}#user-{staff_id}", status_code=303)


# ---------------------------------------------------------------- the court tree


@dataclass(frozen=True)
class CourtRow:
    code: str
    name: str
    level: str
    case_prefix: str
    depth: int
    kept: bool  # this admin's court or one below it
    mine: bool
    active_users: int
    all_users: int
    open_cases: int


@router.get("/admin/courts")
async def courts_page(request: Request, staff: PageStaff, session: SessionDep) -> Response:
    admin = _admin_or_page(request, staff)
    if isinstance(admin, Response):
        return admin
    # The whole tree (public: GET /api/courts); users and open cases of the courts this admin keeps only.
    courts = sorted(await queries.courts(session), key=lambda c: c.path)
    kept = {c.code for c in await accounts.courts_kept(session, admin)}
    counts = await accounts.users_per_court(session, admin)
    open_cases = dict(
        (
            await session.execute(
                select(Case.court_code, func.count())
                .where(Case.court_code.in_(kept), Case.status != "closed")
                .group_by(Case.court_code)
            )
        ).all()
    )
    rows = [
        CourtRow(
            code=c.code,
            name=c.name,
            level=LEVEL_NAMES.get(c.level, c.level),
            case_prefix=c.case_prefix,
            depth=c.path.count("/") - 2,
            kept=c.code in kept,
            mine=c.code == admin.court_code,
            active_users=counts.get(c.code, (0, 0))[0],
            all_users=counts.get(c.code, (0, 0))[1],
            open_cases=open_cases.get(c.code, 0),
        )
        for c in courts
    ]
    return _page(request, admin, "courts.html", {"courts": rows}, section="courts")


# ---------------------------------------------------------------- holiday schedules and calendar alerts


def _day_lines(text: str, label: str) -> list[dict[str, str]]:
    """One day or a range a line: ``2027-10-01 国庆节`` or ``2027-10-01~2027-10-07 国庆节``."""
    days: list[dict[str, str]] = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        m = _DAY_LINE.match(line)
        try:
            first = date.fromisoformat(_padded(m.group(1))) if m else None
            last = date.fromisoformat(_padded(m.group(2))) if m and m.group(2) else first
        except ValueError:
            first = last = None
        if m is None or first is None or last is None or last < first or (last - first).days > 31:
            raise InvalidInput(
                f"{label}第{n}行“{line[:40]}”格式不正确，应为“2027-10-01 国庆节”或“2027-10-01~2027-10-07 国庆节”",
                kind="InvalidDay",
            )
        name = m.group(3).strip()[:64]
        days += [{"day": (first + timedelta(days=i)).isoformat(), "name": name} for i in range((last - first).days + 1)]
    return days


def _padded(text: str) -> str:
    y, mo, d = text.split("-")
    return f"{y}-{int(mo):02d}-{int(d):02d}"


def _as_lines(days: Sequence[Any]) -> str:
    """Days back into the form's lines, consecutive days of one name as a range."""
    lines: list[str] = []
    run: list[Any] = []
    for d in sorted(days, key=lambda d: d.day):
        if run and d.name == run[-1].name and d.day == run[-1].day + timedelta(days=1):
            run.append(d)
            continue
        if run:
            lines.append(_range(run))
        run = [d]
    if run:
        lines.append(_range(run))
    return "\n".join(lines)


def _range(run: Sequence[Any]) -> str:
    first, last = run[0].day, run[-1].day
    span = first.isoformat() if first == last else f"{first.isoformat()}~{last.isoformat()}"
    return f"{span} {run[0].name}".strip()


async def _calendar_page(
    request: Request,
    session: AsyncSession,
    admin: Staff,
    *,
    year: int | None = None,
    form: Mapping[str, str] | None = None,
    error: YgError | None = None,
    notice: str = "",
    status: int = 200,
) -> HTMLResponse:
    can_enter = _can_enter_calendar(admin)
    entered_years = sorted({d.year for d in await queries.holiday_days(session)})
    first_enterable = PUBLISHED_LAST_YEAR + 1
    shown = year or first_enterable
    schedule = await calendar_routes._schedule_out(session, shown)
    if form is None:
        form = {
            "year": str(shown if shown >= first_enterable else first_enterable),
            "holidays": _as_lines(schedule.holidays) if schedule.source == "entered" else "",
            "workdays": _as_lines(schedule.workdays) if schedule.source == "entered" else "",
        }
    alerts = await queries.calendar_alerts(session) if can_enter else []
    audit = await queries.calendar_audit(session, year=shown) if shown >= first_enterable else []
    names = await _names(
        session, {u for u in (schedule.entered_by, *(a.resolved_by for a in alerts), *(a.who for a in audit)) if u}
    )
    context = {
        "published": (PUBLISHED_FIRST_YEAR, PUBLISHED_LAST_YEAR),
        "published_years": list(range(PUBLISHED_LAST_YEAR, max(PUBLISHED_FIRST_YEAR, PUBLISHED_LAST_YEAR - 4), -1)),
        "entered_years": entered_years,
        "future_years": [y for y in range(first_enterable, first_enterable + 3) if y not in entered_years],
        "schedule": schedule,
        "entered_by": names.get(schedule.entered_by or "", schedule.entered_by),
        "can_enter": can_enter,
        "enterable": shown >= first_enterable,
        "alerts": [
            {
                "year": a.year,
                "open": a.resolved_at is None,
                "first_seen_at": a.first_seen_at,
                "resolved_at": a.resolved_at,
                "resolved_by": names.get(a.resolved_by or "", a.resolved_by),
            }
            for a in alerts
        ],
        "form": form,
        "error": error,
        "notice": CALENDAR_NOTICES.get(notice),
        "audit": [{"at": a.at, "who": names.get(a.who, a.who), "change": a.change} for a in audit],
    }
    return _page(request, admin, "calendar.html", context, section="calendar", status=status)


async def _names(session: AsyncSession, usernames: set[str]) -> dict[str, str]:
    if not usernames:
        return {}
    return dict((await session.execute(select(Staff.username, Staff.name).where(Staff.username.in_(usernames)))).all())


@router.get("/admin/calendar")
async def calendar_page(
    request: Request, staff: PageStaff, session: SessionDep, year: int | None = None, notice: str = ""
) -> Response:
    admin = _admin_or_page(request, staff)
    if isinstance(admin, Response):
        return admin
    if year is not None and not 1900 <= year <= 2999:
        year = None
    return await _calendar_page(request, session, admin, year=year, notice=notice)


@router.post("/admin/calendar")
async def calendar_form(request: Request, staff: PageStaff, session: SessionDep, client: TemporalDep) -> Response:
    """Enter or change a future year's schedule through the same service as PUT /api/calendar/{year} (a high
    court's administrator; audited; the open cases depending on the year recompute their deadlines)."""
    posted = await _posted(request, staff)
    if isinstance(posted, Response):
        return posted
    admin, form = posted
    year: int | None = None
    try:
        if not _can_enter_calendar(admin):
            raise Forbidden("只有高级人民法院的信息技术管理员可以录入节假日安排", kind="CourtNotAllowed")
        try:
            year = int(form.get("year", ""))
        except ValueError:
            raise InvalidInput("请填写年份", kind="InvalidYear") from None
        if not 1900 <= year <= 2999:
            raise InvalidInput("年份不正确", kind="InvalidYear")
        holidays = _day_lines(form.get("holidays", ""), "放假日期")
        if not holidays:
            raise InvalidInput("请至少填写一个放假日期", kind="MissingField")
        try:
            body = calendar_routes.ScheduleIn.model_validate(
                {"holidays": holidays, "workdays": _day_lines(form.get("workdays", ""), "调休上班日期")}
            )
        except ValidationError:
            raise InvalidInput("日期过多或名称过长（每年最多366天，名称最多64字）", kind="InvalidInput") from None
        await calendar_routes.put_schedule(year, body, admin, session, client)
    except YgError as e:  # refused before anything was written (put_schedule rolls back its own conflicts)
        return await _calendar_page(request, session, admin, year=year, form=form, error=e, status=e.status)
    return RedirectResponse(f"/admin/calendar?year={year}&notice=saved", status_code=303)


# ---------------------------------------------------------------- the rule sets (read-only)


# The seeds the rules cite (DOMAIN.md), by their Chinese titles.
SEED_NAMES = {
    "seed 000": "云南高院《关于执行案件流程信息节点短信推送工作开展情况的通报》（云法电〔2017〕291号）",
    "seed 001": "最高人民法院《关于人民法院执行流程公开的若干意见》（法发〔2014〕18号）",
    "seed 002": "吉林高院《执行信息公开操作规程》",
    "seed 003": "云南高院整改方案（云高法〔2018〕35号）",
    "seed 004": "",  # always cited with its system's name: 长垣法院“天德”系统
}
_LOCAL_DEFAULT = re.compile(r";\s*DOMAIN\.md.*$")


def _source(text: str) -> str:
    """A rule's source in words: the seeds by their titles; the project's local defaults as the court's own rule."""
    text = _LOCAL_DEFAULT.sub("；期限为本院规定", text)
    for seed, title in SEED_NAMES.items():
        text = text.replace(seed, title)
    return re.sub(r"\s+(?=第)", "", text).replace("长垣法院", "长垣县法院").strip()


def _event(code: str) -> str:
    if code.startswith("closed:"):
        return f"以“{code.removeprefix('closed:')}”方式结案"
    if code in EVENT_NAMES:
        return EVENT_NAMES[code]
    if (nt := node_type(code)) is not None:
        return f"录入“{nt.name}”节点"
    return code


def _period(r: Rule) -> str:
    text = f"{r.length}{UNIT_NAMES.get(r.unit, r.unit)}"
    if r.length_without_property is not None:
        text += f"（无财产可供执行的{r.length_without_property}{UNIT_NAMES.get(r.unit, r.unit)}）"
    if r.chain is not None:
        c = r.chain
        points = "、".join(f"{m}个月" for m in c.offsets_months)
        anchor = "结案" if any(e.startswith("closed") for e in r.opens_on) else "立案"
        where = f"自{anchor}起{points}，此后每{c.every_months}个月"
        if c.limit:
            where += f"，共{c.limit}次"
        text = f"{where}{'为期限' if c.due_at_checkpoint else f'，各{text}内'}"
    return text


def _rule_row(r: Rule) -> dict[str, Any]:
    return {
        "id": r.id,
        "name": r.name,
        "period": _period(r),
        "opens": "、".join(_event(e) for e in r.opens_on) or "—",
        "met": "、".join(_event(e) for e in r.met_by) or ("同类节点按时录入" if r.id == "entry-3d" else "到期即止"),
        "ends": "、".join(_event(e) for e in r.ended_by) or "—",
        "paused": "是（中止、暂缓期间扣除）" if r.paused_by_stays else "否",
        "assignee": ROLE_NAMES.get(r.assignee, r.assignee) if r.laddered else "不提醒（仅记录日期）",
        "extendable": r.extendable,
        "source": _source(r.source),
        "text": r.text,
    }


def _rule_set_view(rs: RuleSet, cases: int) -> dict[str, Any]:
    ladder = rs.ladder
    return {
        "version": rs.version,
        "current": rs.version == CURRENT_VERSION,
        "cases": cases,
        "rules": [_rule_row(r) for r in rs.rules],
        "ladder": [
            f"提醒承办人（或规则指定的责任人）：期限开始时，及届满前{ladder.remind_before_working_days}个工作日",
            f"预警执行局长：届满前{ladder.warn_before_working_days}个工作日",
            "届满仍未完成：报告院长、纪检组长",
        ],
        "ladder_source": _source(ladder.source),
        "stays": "、".join(_event(n).removeprefix("录入") for n in rs.stay_nodes),
        "resumes": "、".join(_event(n).removeprefix("录入") for n in rs.resume_nodes),
        "zhongben": [text for _, text in rs.zhongben.required] + [rs.zhongben.inquiry_missing, rs.zhongben.too_early],
        "deciders": [
            {
                "what": DECISION_NAMES.get(kind, kind),
                "who": "、".join(ROLE_NAMES.get(r, r) for r in roles),
                "courts": "、".join(LEVEL_NAMES.get(level, level) for level in rs.decider_courts.get(kind, ())),
            }
            for kind, roles in rs.deciders.items()
        ],
    }


@router.get("/admin/rules")
async def rules_page(request: Request, staff: PageStaff, session: SessionDep) -> Response:
    admin = _admin_or_page(request, staff)
    if isinstance(admin, Response):
        return admin
    counts = dict(
        (
            await session.execute(
                select(Case.rule_version, func.count())
                .join(Court, Case.court_code == Court.code)
                .where(Court.path.startswith(admin.court.path))
                .group_by(Case.rule_version)
            )
        ).all()
    )
    sets = [_rule_set_view(rs, counts.get(v, 0)) for v, rs in sorted(RULE_SETS.items(), reverse=True)]
    return _page(request, admin, "rules.html", {"sets": sets}, section="rules")


# ---------------------------------------------------------------- stuck cases and a case's history


@router.get("/admin/stuck")
async def stuck_page(request: Request, staff: PageStaff, session: SessionDep, client: TemporalDep) -> Response:
    admin = _admin_or_page(request, staff)
    if isinstance(admin, Response):
        return admin
    error: YgError | None = None
    items: list[dict[str, Any]] = []
    complete = True
    try:
        found = await stuck_cases(session, client, staff=admin)
        courts = {c.code: c.name for c in await accounts.courts_kept(session, admin)}
        complete = found.complete
        items = [
            {
                "case_id": i.case_id,
                "case_number": i.case_number,
                "court": courts.get(i.court_code, i.court_code),
                "activity": OPERATION_NAMES.get(i.activity) or _words(i.summary) or i.activity,
                "attempt": i.attempt,
                "failure": _words(f"{i.failure_kind}：{i.last_failure}" if i.last_failure else i.failure_kind or ""),
                "since": i.since,
                "next_attempt_at": i.next_attempt_at,
            }
            for i in found.items
        ]
    except YgError as e:
        error = e
    context = {"items": items, "complete": complete, "error": error}
    return _page(request, admin, "stuck.html", context, section="stuck", status=error.status if error else 200)


@router.get("/admin/history")
async def history_lookup(request: Request, staff: PageStaff, session: SessionDep, case: str = "") -> Response:
    """Find a case by its number, then show its history."""
    admin = _admin_or_page(request, staff)
    if isinstance(admin, Response):
        return admin
    number = case.strip()
    error: YgError | None = None
    if number:
        found = await queries.case_by_number(session, case_number=number)
        if found is not None and found.court.path.startswith(admin.court.path):
            return RedirectResponse(f"/admin/cases/{found.id}/history", status_code=303)
        error = NotFound(f"未找到案号为“{number[:60]}”的本院或下级法院案件", kind="CaseNotFound")
    context: dict[str, Any] = {"case_number": number, "error": error, "case": None, "runs": [], "pending": []}
    return _page(request, admin, "history.html", context, section="history", status=404 if error else 200)


@router.get("/admin/cases/{case_id}/history")
async def history_page(
    request: Request, case_id: str, staff: PageStaff, session: SessionDep, client: TemporalDep
) -> Response:
    """The case's workflow history, every run oldest first, in Beijing time; what it waits on now above it."""
    admin = _admin_or_page(request, staff)
    if isinstance(admin, Response):
        return admin
    try:
        case = await visible_case(session, admin, case_id)
    except YgError as e:
        context: dict[str, Any] = {"case_number": "", "error": e, "case": None, "runs": [], "pending": []}
        return _page(request, admin, "history.html", context, section="history", status=e.status)
    await session.commit()  # no connection held while Temporal answers
    error: YgError | None = None
    runs: list[dict[str, Any]] = []
    pending: list[dict[str, Any]] = []
    try:
        history = await case_history(client, case.workflow_id)
        for n, run in enumerate(history.runs, 1):
            runs.append(
                {
                    "n": n,
                    "run_id": run.run_id,
                    "events": [
                        {
                            "id": e.event_id,
                            "time": beijing_seconds(e.time),
                            "kind": KIND_NAMES.get(e.kind, "其他事件"),
                            "tone": KIND_TONES.get(e.kind, ""),
                            "summary": _words(e.summary),
                        }
                        for e in run.events
                    ],
                }
            )
        pending = [
            {
                "activity": OPERATION_NAMES.get(p.activity) or _words(p.summary) or p.activity,
                "attempt": p.attempt,
                "failure": _words(f"{p.failure_kind}：{p.last_failure}" if p.last_failure else p.failure_kind or ""),
                "since": beijing_seconds(p.since),
                "next_attempt_at": beijing_seconds(p.next_attempt_at) if p.next_attempt_at else "",
            }
            for p in history.pending
        ]
    except YgError as e:
        error = e
    context = {
        "case": case,
        "case_number": case.case_number,
        "error": error,
        "runs": runs,
        "pending": pending,
        "events": sum(len(r["events"]) for r in runs),
    }
    return _page(request, admin, "history.html", context, section="history", status=error.status if error else 200)

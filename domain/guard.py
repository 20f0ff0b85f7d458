"""The one guard (decision 5): whether a node, a request, a feedback or an assignment is admissible on a case.

The workflow's update validators call it on the workflow's state; the API calls it on the read model before it
sends the update, so a refusal is the same words wherever it is decided and no rule is written twice."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from domain.clock import add_months, beijing_date, format_day
from domain.errors import CaseClosed, Conflict, Forbidden, InvalidInput
from domain.node_rules import check_node as check_node_fields
from domain.rules import RuleSet


@dataclass(frozen=True)
class CaseView:
    """What the guard needs to know of a case, from the workflow's state or from the read model."""

    filed_on: date
    status: str  # open | closed
    last_node_at: Mapping[str, datetime] = field(default_factory=dict)  # node code → its latest act
    closure_mode: str | None = None
    restored: bool = False
    term_due: datetime | None = None  # the open execution term's due instant
    pending: frozenset[str] = frozenset()  # kinds of requests waiting for a decision
    approved: frozenset[str] = frozenset()  # kinds of requests approved


def follow_up_open(rules: RuleSet, case: CaseView) -> bool:
    """After 终本 the 6-monthly inquiry is still recorded on the closed case, until it is restored (终本规定 第九条)."""
    return case.status == "closed" and case.closure_mode == rules.zhongben.mode and not case.restored


def check_node(
    rules: RuleSet, case: CaseView, *, type_code: str, occurred_at: datetime, fields: Mapping[str, str], now: datetime
) -> None:
    """A node is admissible on an open case, or a follow-up inquiry on a 终本 case; its type, time and fields are
    checked; a 终本 closure meets the conditions or has the bureau chief's approval (seed 003)."""
    if case.status == "closed" and not (type_code == rules.zhongben.inquiry_node and follow_up_open(rules, case)):
        raise CaseClosed("案件已结案，不能再录入节点")
    try:
        check_node_fields(
            type_code=type_code, occurred_at=occurred_at, fields=dict(fields), filed_on=case.filed_on, now=now
        )
    except OverflowError:  # year 1 or 9999 with an offset has no Beijing date: bad input, not a 500
        raise InvalidInput("时间超出可处理的范围 (time out of range)", kind="InvalidTime") from None
    if type_code == rules.closure_node and fields.get("mode") == rules.zhongben.mode:
        unmet = unmet_zhongben(rules, case, closing_at=occurred_at)
        if unmet and "zhongben" not in case.approved:
            raise InvalidInput(
                "不符合终结本次执行程序的条件：" + "；".join(unmet) + "。如确需终本，请说明理由并报执行局长批准。",
                kind="ZhongbenConditionsUnmet",
            )


def check_event(rules: RuleSet, case: CaseView, *, event: str) -> None:
    """An event from outside the nodes is one the rules know; on a closed case only a reply or a download (an
    answer still owed, a document still being served)."""
    if event not in rules.outside_events:
        raise InvalidInput(f"未知的案件事件：{event}", kind="UnknownEvent")
    if case.status == "closed" and event not in ("reply", "downloaded"):
        raise CaseClosed("案件已结案，不能再提交")


@dataclass(frozen=True)
class Replier:
    """Who would answer a party's message, as the guard needs to know them: their role, whether they handle the
    case, whether the case has a handler at all, whether they are of the case's court."""

    role: str
    is_handler: bool
    case_has_handler: bool
    in_court: bool


def answers(rules: RuleSet, *, kind: str, by: Replier) -> bool:
    """Who answers a party's message or complaint is its rule's assignee: the case's handler for a message, the
    discipline inspection head of the case's court for a complaint (seed 001 第十条; seed 004). While a case has no
    handler, the bureau chief of its court stands in for one, as for the handler's reminders (activities/transitions)
    and in the chief's inbox (api/messages.inbox_items)."""
    assignee = rules.rule(kind).assignee
    if assignee != "handler":
        return by.role == assignee
    return by.is_handler or (not by.case_has_handler and by.in_court and by.role == "bureau_chief")


def check_reply(rules: RuleSet, *, kind: str, by: Replier, replied: bool, text: str) -> None:
    """A message is answered once, with a text, by the one its rule names."""
    if not answers(rules, kind=kind, by=by):
        who = "本案承办人" if rules.rule(kind).assignee == "handler" else "纪检组长"
        raise Forbidden(f"只有{who}可以答复 (not the one who answers this {kind})", kind="NotAnswerer")
    if replied:
        raise Conflict("已答复过，不能重复答复", kind="AlreadyReplied")
    if not text.strip():
        raise InvalidInput("请填写答复内容", kind="MissingField")


def unmet_zhongben(rules: RuleSet, case: CaseView, *, closing_at: datetime) -> list[str]:
    """Which 终本 conditions a closure at ``closing_at`` does not meet, in Chinese (终本规定 第一条, seed 003)."""
    z = rules.zhongben
    today = beijing_date(closing_at)
    unmet = [missing for code, missing in z.required[:2] if code not in case.last_node_at]
    inquiry = case.last_node_at.get(z.inquiry_node)
    if inquiry is None or beijing_date(inquiry) < add_months(today, -z.inquiry_window_months):
        unmet.append(z.inquiry_missing)
    unmet += [missing for code, missing in z.required[2:3] if code not in case.last_node_at]
    if today <= add_months(case.filed_on, z.min_months_open):
        unmet.append(z.too_early)
    unmet += [missing for code, missing in z.required[3:] if code not in case.last_node_at]
    return unmet


def check_restore(rules: RuleSet, case: CaseView) -> None:
    """Only a case closed by 终本 is restored (恢复执行), once, as a new 执恢 case (终本规定 第九条); the 执恢 case
    carries on from there (closed by 终本 again, it is the one restored next)."""
    if case.status != "closed" or case.closure_mode != rules.zhongben.mode:
        raise Conflict("只有以终本方式结案的案件可以恢复执行", kind="NotZhongben")
    if case.restored:
        raise Conflict("本案已经恢复执行，不能再次恢复；请在恢复执行的案件中继续办理", kind="AlreadyRestored")


def check_extension_request(rules: RuleSet, case: CaseView, *, months: int, reason: str, now: datetime) -> None:
    """The handler asks at least 5 days before the term expires, for 1–6 months, with a reason (法发〔2006〕35号)."""
    params = rules.extendable.params
    if case.status == "closed" or case.term_due is None:
        raise CaseClosed("案件已结案，无需延长执行期限")
    if not 1 <= months <= params["max_extension_months"]:
        raise InvalidInput(f"延长期限应为1至{params['max_extension_months']}个月", kind="InvalidExtension")
    if not reason.strip():
        raise InvalidInput("请填写延长执行期限的理由", kind="MissingField")
    if "extension" in case.pending:
        raise Conflict("已有待审批的延长申请", kind="ExtensionPending")
    days_left = (beijing_date(case.term_due) - beijing_date(now)).days
    if days_left < params["extension_notice_days"]:
        raise Conflict(
            f"延长执行期限应在期限届满{params['extension_notice_days']}日前申请，"
            f"执行期限至{format_day(beijing_date(case.term_due))}",
            kind="ExtensionTooLate",
        )


def check_zhongben_request(rules: RuleSet, case: CaseView, *, reason: str) -> None:
    """The handler asks the bureau chief to approve a 终本 closure that misses conditions, with a reason (seed 003)."""
    if case.status == "closed":
        raise CaseClosed("案件已结案")
    if not reason.strip():
        raise InvalidInput("请说明终本的理由", kind="MissingField")
    if "zhongben" in case.pending:
        raise Conflict("已有待审批的终本申请", kind="ExtensionPending")


_DECISIONS = {"assignment": "指定承办人", "calendar": "录入或修改节假日安排"}
_COURT_LEVELS = {"high": "高级人民法院", "intermediate": "中级人民法院", "basic": "基层人民法院"}


def check_decider(rules: RuleSet, *, kind: str, role: str, court_level: str | None = None) -> None:
    """Who decides what is rule data: the president or vice president a term extension, the bureau chief a 终本
    exception, the bureau chief or vice president an assignment, an administrator of a high court the holiday
    schedule (法发〔2006〕35号; seed 003; seed 004; DOMAIN.md → roles). ``court_level``: the decider's court's."""
    what = _DECISIONS.get(kind, "审批此类申请")
    if role not in rules.deciders.get(kind, ()):
        raise Forbidden(f"您无权{what}", kind="RoleNotAllowed")
    levels = rules.decider_courts.get(kind)
    if levels is not None and court_level not in levels:
        courts = "、".join(_COURT_LEVELS.get(level, level) for level in levels)
        raise Forbidden(f"只有{courts}可以{what}，本院无此权限", kind="CourtNotAllowed")


def check_pending_decision(case: CaseView) -> None:
    """A request still pending on a closed case has nothing left to decide."""
    if case.status == "closed":
        raise CaseClosed("案件已结案，无需再审批")


def check_feedback(case: CaseView, *, measures: str, next_steps: str) -> None:
    """Progress feedback names the measures taken and the next steps (seed 002 第五条), on an open case."""
    if case.status == "closed":
        raise CaseClosed("案件已结案，不能再反馈执行进展")
    missing = [
        name
        for text, name in ((measures, "已经采取的执行措施及结果"), (next_steps, "下一步执行计划"))
        if not text.strip()
    ]
    if missing:
        raise InvalidInput(f"执行进展反馈缺少：{'、'.join(missing)}", kind="MissingField")


def check_assignment(case: CaseView, *, handler: str, clerk: str | None) -> None:
    """An open case gets a handler, and a clerk who is someone else (seed 004; who may assign: check_decider)."""
    if case.status == "closed":
        raise CaseClosed("案件已结案，不能再指定承办人")
    if not handler.strip():
        raise InvalidInput("请指定承办人", kind="MissingField")
    if clerk is not None and clerk == handler:
        raise InvalidInput("书记员不能与承办人为同一人", kind="InvalidAssignment")


def check_agent_added(case: CaseView) -> None:
    """An agent (委托代理人) is registered, with its own query code, while the case is open: after closure the online
    query ends within a month (seed 002 第四条) and there is nothing left for an agent to be given."""
    if case.status == "closed":
        raise CaseClosed("案件已结案，不能再登记委托代理人（结案后一个月即停止网上查询）")


def check_dismissal(*, role: str) -> None:
    """Only an agent is dismissed (解除委托); an applicant or respondent stays a party of the case."""
    if role != "agent":
        raise InvalidInput("只能解除委托代理人的委托，申请执行人和被执行人不能解除", kind="NotAnAgent")


def renews_query_codes(case: CaseView) -> bool:
    """Whether a change of the parties issues new query codes by SMS: while the case is open (seed 002 第四条:
    案件未结案前…解除委托关系的，应当及时更改查询验证码). After closure old logins still end, but no code is sent:
    the online query ends a month after closure anyway (rule query-1m)."""
    return case.status != "closed"

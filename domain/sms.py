"""SMS texts to parties (seed 001 第八条): court signature, case number, what happened and when, the handler."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from domain.clock import format_beijing
from domain.nodes import NodeType

QUERY_CODE_LABEL = "查询码"
_QUERY_CODE = re.compile(QUERY_CODE_LABEL + r"[:：]([23456789A-HJKMNP-Z]+)")


@dataclass(frozen=True)
class Signature:
    """Who speaks in a message: the court, and the handler with an office phone when one is assigned."""

    court_name: str
    handler_name: str | None = None
    handler_phone: str | None = None

    def contact(self) -> str:
        if not self.handler_name:
            return "承办人确定后将另行通知。"
        phone = f"，办公电话{self.handler_phone}" if self.handler_phone else ""
        return f"承办人{self.handler_name}{phone}。"


def filing_message(
    sig: Signature, *, case_number: str, filed_on: str, query_code: str, portal_url: str | None = None
) -> str:
    """立案 SMS with the query code the applicant uses to look the case up (seed 001 第九条), and where: the portal's
    link for the case (domain/portal.py), set apart by spaces so that the SMS app takes it whole."""
    where = f"请登录 {portal_url} 凭" if portal_url else "请凭"
    return (
        f"【{sig.court_name}】您申请执行的{case_number}案件已于{filed_on}立案。"
        f"{QUERY_CODE_LABEL}：{query_code}，{where}身份证号码、手机号码和查询码查询案件进展，勿告知他人。"
        f"{sig.contact()}"
    )


def node_message(
    sig: Signature,
    *,
    case_number: str,
    node: NodeType,
    occurred_at: datetime,
    fields: dict[str, str],
    summary: str,
) -> str:
    """A node SMS from the node type's phrase (seed 001 第八条: every node pushed to the parties)."""
    values = dict(fields)
    if "scheduled_at" in fields:
        values["scheduled"] = format_beijing(datetime.fromisoformat(fields["scheduled_at"]))
    values.setdefault("summary", summary)
    what = node.phrase.format_map(_Defaults(values))
    when = "" if node.scheduled else f"{format_beijing(occurred_at)}，"
    return f"【{sig.court_name}】您申请执行的{case_number}案件，{when}{what}。{sig.contact()}"


def redact_query_code(body: str) -> str:
    """The SMS as staff may see it: the query code is the applicant's secret."""
    return _QUERY_CODE.sub(QUERY_CODE_LABEL + "：******", body)


class _Defaults(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


@dataclass(frozen=True)
class Duty:
    """One rung for one staff member: which duty, which rung, by when, and whether already overdue."""

    subject: str
    rung_name: str
    due: str
    opening: bool  # the handler's first reminder: the period has just started
    overdue: bool


def rung_message(court_name: str, *, case_number: str, duties: list[Duty]) -> str:
    """The ladder's SMS to one staff member for one case (seed 004): one duty in full, several as one summary, so
    a case filed with a past date sends each person one message. A deadline already past is never said to
    have just started."""

    def state(d: Duty) -> str:
        return "已超期" if d.overdue else "已开始计算" if d.opening else "即将到期"

    if len(duties) == 1:
        d = duties[0]
        duty = f"{case_number}案件“{d.subject}”期限至{d.due}，{state(d)}"
        return f"【{court_name}】督办（{d.rung_name}）：{duty}，请及时处理。"
    shown = sorted(duties, key=lambda d: not d.overdue)[:3]
    items = "；".join(f"“{d.subject}”期限至{d.due}，{state(d)}" for d in shown)
    more = f"等{len(duties)}项" if len(duties) > len(shown) else f"共{len(duties)}项"
    return f"【{court_name}】督办：{case_number}案件{items}（{more}），请及时处理。"


def feedback_message(sig: Signature, *, case_number: str, n: int) -> str:
    """The n-th progress feedback is ready (seed 002 第五条); the full text is only in the portal (seed 001 第九条)."""
    return (
        f"【{sig.court_name}】您申请执行的{case_number}案件第{n}次执行进展已反馈，"
        f"请凭身份证号码、手机号码和{QUERY_CODE_LABEL}登录查看全文并提出意见。{sig.contact()}"
    )


def party_message_alert(court_name: str, *, case_number: str, kind_name: str, period: str) -> str:
    """A party's message (or complaint) to the one who must answer it (seed 001 第十条): the case number and the reply
    period only; the text, and who wrote it, are read in the console."""
    return f"【{court_name}】{case_number}案件当事人{kind_name}，请于{period}内登录执行案件工作台答复。"


def reply_message(court_name: str, *, case_number: str, kind_name: str, portal_url: str | None = None) -> str:
    """The party's message has its reply; the reply itself is only in the portal, as feedback is (seed 001 第九条),
    whose link (domain/portal.py) is set apart by spaces so that the SMS app takes it whole."""
    where = f"请登录 {portal_url} 凭" if portal_url else "请凭"
    return (
        f"【{court_name}】您在{case_number}案件中的{kind_name}已有答复，"
        f"{where}身份证号码、手机号码和{QUERY_CODE_LABEL}登录查看。"
    )


def agent_code_message(sig: Signature, *, case_number: str, query_code: str, portal_url: str | None = None) -> str:
    """An agent registered on a case gets its own query code (seed 002 第三条: agents query too), and where to use
    it."""
    where = f"请登录 {portal_url} 凭" if portal_url else "请凭"
    return (
        f"【{sig.court_name}】您已登记为{case_number}案件的委托代理人。"
        f"{QUERY_CODE_LABEL}：{query_code}，{where}身份证号码、手机号码和查询码查询案件进展，勿告知他人。"
        f"{sig.contact()}"
    )


def new_code_message(
    sig: Signature, *, case_number: str, query_code: str, because: str, portal_url: str | None = None
) -> str:
    """A new query code (seed 002 第四条: 解除委托关系的，应当及时更改查询验证码); the old code and every login made
    with it stop working at once."""
    where = f"请登录 {portal_url} 凭" if portal_url else "请凭"
    return (
        f"【{sig.court_name}】{because}，您在{case_number}案件的查询码已更换，原查询码作废。"
        f"新{QUERY_CODE_LABEL}：{query_code}，{where}身份证号码、手机号码和新查询码查询案件进展，勿告知他人。"
        f"{sig.contact()}"
    )


def eservice_message(
    sig: Signature, *, case_number: str, title: str, days: int, portal_url: str | None, query_code: str | None = None
) -> str:
    """The e-service reminder (seed 001 第十一条): a document is served electronically, download it within ``days``
    days in the portal; the first download is the service receipt. A party without a query code yet (a respondent
    who consented to e-service) gets its own here, so it can log in."""
    where = f"登录 {portal_url} " if portal_url else "登录执行信息公开平台"
    code = f"您的{QUERY_CODE_LABEL}：{query_code}，勿告知他人。" if query_code else ""
    return (
        f"【{sig.court_name}】{case_number}案件执行文书《{title}》已向您电子送达，"
        f"请于{days}日内{where}凭证件号码、手机号码和{QUERY_CODE_LABEL}下载查阅，下载即视为签收。{code}"
        f"{sig.contact()}"
    )

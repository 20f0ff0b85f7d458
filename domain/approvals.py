"""Requests that wait for a superior's decision (API.md → Approvals): their names in words and the SMS that tell the
approvers of a new request and the requester of the decision. Who decides each kind is rule data
(``RuleSet.deciders`` / ``decider_courts``), checked by ``guard.check_decider``; nothing here repeats it."""

from __future__ import annotations

from domain import guard
from domain.errors import Forbidden
from domain.rules import RuleSet

KIND_NAMES = {"extension": "延长执行期限", "zhongben": "终本结案审批"}
STATUS_NAMES = {"pending": "待审批", "approved": "已批准", "refused": "已驳回"}
# Outbox reasons (case, reason, recipient is unique): a request's SMS to its approvers, the decision's to the requester.
REQUEST_REASON = "request:"
DECISION_REASON = "decision:"


def kind_name(kind: str) -> str:
    return KIND_NAMES.get(kind, "审批事项")


def may_decide(rules: RuleSet, *, kind: str, role: str, court_level: str | None) -> bool:
    """Whether this role, in a court of this level, decides requests of this kind (the one guard says)."""
    try:
        guard.check_decider(rules, kind=kind, role=role, court_level=court_level)
    except Forbidden:
        return False
    return True


def decider_roles(rules: RuleSet, *, kind: str) -> tuple[str, ...]:
    """The roles the rule set names for a kind (who among a court's staff is asked; ``may_decide`` still decides)."""
    return rules.deciders.get(kind, ())


def request_reason(request_id: str) -> str:
    return REQUEST_REASON + request_id


def decision_reason(request_id: str) -> str:
    return DECISION_REASON + request_id


def request_message(court_name: str, *, case_number: str, kind: str, requester: str, months: int = 0) -> str:
    """A new request reaches its approvers at once (issue 11): the case number and what is asked, in words; the
    reason is read in the console."""
    what = f"{kind_name(kind)}{months}个月" if months else kind_name(kind)
    return (
        f"【{court_name}】{case_number}案件承办人{requester}申请{what}，待您审批。请登录执行案件工作台“待我审批”处理。"
    )


def decision_message(court_name: str, *, case_number: str, kind: str, approved: bool, decider: str) -> str:
    """The decision reaches the one who asked: approved or refused, by whom; the note is read in the console."""
    outcome = "已批准" if approved else "未获批准（已驳回）"
    return (
        f"【{court_name}】您在{case_number}案件提出的{kind_name(kind)}申请{outcome}，审批人{decider}。"
        "审批意见请登录执行案件工作台查看。"
    )


def reason_name(reason: str) -> str | None:
    """An outbox reason of ours in words (issue 11 item 5: never ``request:<id>``); None for another's."""
    if reason.startswith(REQUEST_REASON):
        return "审批申请（通知审批人）"
    if reason.startswith(DECISION_REASON):
        return "审批结果（通知承办人）"
    return None

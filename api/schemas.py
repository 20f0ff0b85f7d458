"""Request and response bodies of the HTTP API (API.md)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from domain.clock import BEIJING
from domain.errors import InvalidInput
from domain.identity import IdType, check_id_number, guess_type


def clean_text(value: str) -> str:
    """Refuse what no database or workflow history may hold: PostgreSQL stores no NUL, and a lone surrogate
    cannot be encoded as UTF-8 (a JSON body may carry both as escapes)."""
    if "\x00" in value:
        raise ValueError("含有空字符（\\u0000），请删除后重新提交")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("含有无效的 Unicode 字符（单独的代理项）") from None
    return value


# Every text a request brings in is a Text, with a max_length of its field: no NUL, no lone surrogate, bounded.
Text = Annotated[str, AfterValidator(clean_text)]

# Fields of a node's type (mode, amount, scheduled_at …) ride along in the body: bounded in number and size,
# so nothing oversized reaches the workflow's history.
MAX_NODE_FIELDS = 20
MAX_NODE_FIELD_NAME = 64
MAX_NODE_FIELD_VALUE = 500


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class LoginForm(BaseModel):
    """The OAuth2 password form of POST /api/auth/token, bounded; grant_type, scope and client fields are ignored."""

    model_config = ConfigDict(extra="ignore")
    username: Text = Field(max_length=64, description="用户名")
    password: Text = Field(max_length=256, description="密码")


class CourtOut(BaseModel):
    code: str
    name: str
    level: str
    parent_code: str | None
    case_prefix: str


class PartyIn(BaseModel):
    name: Text = Field(min_length=1, max_length=128)
    # Before id_number, so its check knows the type; None: guessed from the number (domain/identity.py).
    id_type: IdType | None = Field(default=None, description="证件类型；不填时按号码判断")
    id_number: Text | None = Field(default=None, max_length=32)
    phone: Text | None = Field(default=None, max_length=32)
    address: Text | None = Field(default=None, max_length=256)
    eservice_consent: bool = False

    @field_validator("id_number")
    @classmethod
    def _checked_id_number(cls, value: str | None, info: ValidationInfo) -> str | None:
        """A number is stored only checked and normalised, with its type (issue 10 item 5)."""
        if value is None or not value.strip():
            return None
        try:
            return check_id_number(value, info.data.get("id_type"), today=datetime.now(BEIJING).date()).number
        except InvalidInput as e:
            raise ValueError(e.detail) from None

    @model_validator(mode="after")
    def _typed(self) -> PartyIn:
        """A checked number without a type gets the one it was checked as; no number, no type."""
        self.id_type = guess_type(self.id_number) if self.id_number and not self.id_type else self.id_type
        if not self.id_number:
            self.id_type = None
        return self


class CaseIn(BaseModel):
    case_number: Text = Field(min_length=1, max_length=64)
    court_code: Text = Field(max_length=32)
    cause: Text = Field(min_length=1, max_length=128)
    amount: Decimal = Field(ge=0, max_digits=18, decimal_places=2)
    filed_on: date
    has_property: bool = True
    handler: Text | None = Field(default=None, max_length=64)
    clerk: Text | None = Field(default=None, max_length=64)
    applicants: list[PartyIn] = Field(min_length=1, max_length=50)
    agents: list[PartyIn] = Field(default_factory=list, max_length=50)
    respondents: list[PartyIn] = Field(default_factory=list, max_length=200)


class CaseFiled(BaseModel):
    case_id: str
    workflow_id: str
    case_number: str
    warnings: list[str] = Field(default_factory=list)


class NodeIn(BaseModel):
    """A node; fields of its type (mode, recovered_amount, scheduled_at, amount, place …) ride along."""

    model_config = ConfigDict(extra="allow")
    type: Text = Field(max_length=32)  # db Node.type: String(32)
    occurred_at: AwareDatetime
    summary: Text = Field(default="", max_length=2000)
    disclose: bool | None = None

    @model_validator(mode="after")
    def _bounded_fields(self) -> NodeIn:
        """A type's fields are few and short, and clean like every other text."""
        extra: dict[str, Any] = self.model_extra or {}
        if len(extra) > MAX_NODE_FIELDS:
            raise ValueError(f"节点字段（fields）不能超过 {MAX_NODE_FIELDS} 个")
        for name, value in extra.items():
            if len(name) > MAX_NODE_FIELD_NAME:
                raise ValueError(f"节点字段名（fields）不能超过 {MAX_NODE_FIELD_NAME} 个字符")
            _clean_field(name, name)
            for text in _texts(value):
                if len(text) > MAX_NODE_FIELD_VALUE:
                    raise ValueError(
                        f"节点字段“{name[:20]}”（fields.{name[:20]}）不能超过 {MAX_NODE_FIELD_VALUE} 个字符"
                    )
                _clean_field(name, text)
        return self

    def type_fields(self) -> dict[str, str]:
        extra: dict[str, Any] = self.model_extra or {}
        return {k: str(v) for k, v in extra.items() if v is not None and not isinstance(v, (dict, list))}


def _texts(value: Any) -> list[str]:
    """Every text in a field's value, as type_fields would write it (str() of a scalar)."""
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in (str(k), *_texts(v))]
    if isinstance(value, list):
        return [t for v in value for t in _texts(v)]
    return [] if value is None else [str(value)]


def _clean_field(name: str, text: str) -> None:
    try:
        clean_text(text)
    except ValueError as e:
        shown = name.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")[:20]
        raise ValueError(f"节点字段“{shown}”（fields）{e}") from None


class NodeCreated(BaseModel):
    node_id: str
    late: bool


class AssignmentIn(BaseModel):
    """Who handles the case from now on (seed 004: the case moves with its file)."""

    handler: Text = Field(min_length=1, max_length=64, description="承办人用户名")
    clerk: Text | None = Field(default=None, min_length=1, max_length=64, description="书记员用户名")


class AssignmentOut(BaseModel):
    handler: str
    clerk: str | None


class NodeOut(BaseModel):
    node_id: str
    seq: int
    type: str
    name: str
    occurred_at: datetime
    entered_at: datetime
    late: bool
    disclose: bool
    summary: str
    fields: dict[str, str]
    recorded_by: str


class PartyOut(BaseModel):
    role: str
    name: str
    id_type: str | None  # domain/identity.py ID_TYPES; "unknown": stored before numbers were checked
    phone_masked: str | None
    phone_flag: str | None


class ObligationOut(BaseModel):
    """A deadline the case's workflow watches: exact due instant, rungs of the ladder fired, lateness."""

    obligation_id: str
    rule: str
    subject: str
    opened_at: datetime
    # The ladder on the working-day calendar (seed 004): the handler's reminder and the bureau chief's warning,
    # 00:00 Beijing of the day N working days before the due day. None: an obligation saved before they were kept.
    remind_at: datetime | None
    warn_at: datetime | None
    due_at: datetime
    confirmed: bool  # false: computed on weekends alone, the year's holiday schedule is not yet entered
    status: str  # open | met | ended
    paused: bool
    late: bool
    met_at: datetime | None
    rungs_fired: list[str]
    level: int


class CaseOut(BaseModel):
    case_id: str
    case_number: str
    court_code: str
    court: str
    cause: str
    amount: Decimal
    filed_on: date
    status: str
    handler: str | None
    handler_name: str | None
    clerk: str | None
    workflow_id: str
    rule_version: str  # the rule set the case was filed under (domain/rules.py), which its guard applies
    parties: list[PartyOut]
    nodes: list[NodeOut]
    obligations: list[ObligationOut]


class SmsOut(BaseModel):
    reason: str
    audience: Literal["party", "staff"]  # a party of the case, or court staff (the ladder's reminders)
    to: str
    body: str
    status: str
    provider: str
    created_at: datetime
    sent_at: datetime | None


class HistoryEvent(BaseModel):
    event_id: int
    time: datetime
    kind: str
    summary: str


class HistoryRun(BaseModel):
    run_id: str
    events: list[HistoryEvent]


class PendingActivity(BaseModel):
    """An activity the case's workflow waits on; after failures, the last one named without personal data."""

    activity: str = Field(description="活动类型 (activity type)")
    summary: str = Field(default="", description="流程中的说明")
    attempt: int = Field(description="当前第几次尝试；大于1表示已失败重试")
    failure_kind: str | None = Field(default=None, description="上次失败的异常类型")
    last_failure: str | None = Field(default=None, description="上次失败说明的首行，已去除参数")
    since: datetime = Field(description="首次安排执行的时间")
    next_attempt_at: datetime | None = None


class HistoryOut(BaseModel):
    workflow_id: str
    runs: list[HistoryRun]
    pending: list[PendingActivity] = Field(default_factory=list, description="正在等待或反复失败的活动")


class StuckCase(BaseModel):
    case_id: str
    case_number: str
    court_code: str
    activity: str
    summary: str
    attempt: int
    failure_kind: str | None
    last_failure: str | None
    since: datetime
    next_attempt_at: datetime | None


class StuckCasesOut(BaseModel):
    items: list[StuckCase]
    complete: bool = Field(description="false：在时限内未查完全部案件，列表不完整")


# --- progress feedback (seed 002 第五条) and the party portal (seed 001 第九条) ---


class FeedbackIn(BaseModel):
    """What seed 002 第五条 asks the handler to tell the applicant."""

    measures: Text = Field(default="", max_length=5000)  # 已经采取的执行措施及结果
    next_steps: Text = Field(default="", max_length=5000)  # 下一步执行计划
    applicant_tasks: Text = Field(default="", max_length=5000)  # 需要其参与和配合的事项


class FeedbackDraft(BaseModel):
    measures: str
    since: datetime | None  # the last feedback; None: since filing


class FeedbackOut(BaseModel):
    feedback_id: str
    n: int
    obligation_id: str | None  # None: a voluntary feedback
    measures: str
    next_steps: str
    applicant_tasks: str
    submitted_at: datetime
    late: bool
    reply: str | None  # the applicant's views and suggestions
    replied_at: datetime | None


class StaffFeedbackOut(FeedbackOut):
    submitted_by: str
    replied_by: str | None  # the name of the applicant or agent who replied


class PortalLoginIn(BaseModel):
    case_number: Text = Field(max_length=64)
    id_number: Text = Field(max_length=32)
    phone: Text = Field(max_length=32)
    query_code: Text = Field(max_length=32)


class PortalPartyOut(BaseModel):
    role: str
    name: str


class PortalNodeOut(BaseModel):
    type: str
    name: str
    occurred_at: datetime
    summary: str
    fields: dict[str, str]


class PortalCaseOut(BaseModel):
    """What a party sees of its case: no ID number or phone of anyone."""

    case_number: str
    court: str
    cause: str
    amount: Decimal
    filed_on: date
    status: str
    closed_at: datetime | None
    query_ends_at: datetime | None
    handler_name: str | None
    handler_office_phone: str | None
    you: PortalPartyOut
    parties: list[PortalPartyOut]
    nodes: list[PortalNodeOut]


class FeedbackReplyIn(BaseModel):
    text: Text = Field(min_length=1, max_length=2000)


# --- term extensions, supervision, inbox (issue 3) ---
from domain.rules import RULE_SETS  # noqa: E402

# The body's bound is the largest any rule set allows; the guard checks the case's own (its pinned rule set).
MAX_EXTENSION_MONTHS = max(rules.extendable.params["max_extension_months"] for rules in RULE_SETS.values())


class ExtensionIn(BaseModel):
    """The handler asks to extend the execution term, at least 5 days before it expires (法发〔2006〕35号)."""

    months: int = Field(ge=1, le=MAX_EXTENSION_MONTHS, description="延长的月数")
    reason: Text = Field(min_length=1, max_length=2000, description="延长理由")


class ExtensionDecisionIn(BaseModel):
    """The president or vice president approves or refuses a pending extension."""

    approve: bool
    note: Text = Field(default="", max_length=2000)


class ExtensionOut(BaseModel):
    id: str
    case_id: str
    months: int
    reason: str
    status: str  # pending | approved | refused
    requested_by: str
    requested_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    note: str = Field(default="", description="审批意见 (the decider's note)")
    waived_conditions: list[str] = Field(
        default_factory=list,
        description="终本例外：申请时未满足、经批准予以豁免的终本条件 (the unmet conditions the exception waives)",
    )


class ExtensionDecided(ExtensionOut):
    """The decided extension and the execution term's due instant after the decision."""

    term_due_at: datetime | None = None


class ExtensionsOut(BaseModel):
    items: list[ExtensionOut]


class SupervisionItem(BaseModel):
    """An obligation about to expire or overdue, with the ladder rung reached (seed 004)."""

    case_id: str
    case_number: str
    court_code: str
    handler: str | None
    handler_name: str | None
    obligation_id: str
    rule: str
    subject: str
    due_at: datetime
    overdue: bool
    level: int  # 0 none, 1 handler reminded before due, 2 bureau chief warned, 3 president and discipline told
    rung: str | None  # the rung of that level (remind_due | warn | escalate), None at level 0
    rung_name: str | None
    since: datetime  # when that level was reached; the obligation's opening at level 0


class HandlerCount(BaseModel):
    """The 天德 per-judge count (seed 004): obligations about to expire and overdue."""

    handler: str | None
    handler_name: str | None
    due_soon: int
    overdue: int


class SupervisionOut(BaseModel):
    within_days: int
    items: list[SupervisionItem]
    per_handler: list[HandlerCount]


class InboxItem(BaseModel):
    """A supervision record (督办) addressed to the caller."""

    kind: Literal["rung"] = "rung"  # beside it in the inbox: parties' messages and complaints (api/messages.py)
    id: int
    case_id: str
    case_number: str
    obligation_id: str
    rule: str
    subject: str
    rung: str
    rung_name: str
    due_at: datetime
    created_at: datetime
    met_at: datetime | None


class MessageInboxItem(BaseModel):
    """A party's message (to the handler) or complaint (to the discipline head) waiting for the caller's reply
    (api/messages.py)."""

    kind: Literal["message", "complaint"]
    message_id: str
    case_id: str
    case_number: str
    kind_name: str  # 留言 | 投诉
    subject: str  # 当事人留言 | 当事人投诉
    text: str
    written_by: str  # the party's role: 申请执行人 …
    attachments: int
    created_at: datetime
    due_at: datetime | None  # the reply's due instant, once the case's workflow computed it
    replied_at: datetime | None


class ApprovalInboxItem(BaseModel):
    """A request waiting for the caller's decision (``kind`` approval), or the decision on the caller's own request
    (``kind`` decision) — api/approvals.py."""

    kind: Literal["approval", "decision"]
    approval_id: str
    case_id: str
    case_number: str
    request_kind: str  # extension | zhongben
    kind_name: str  # 延长执行期限 | 终本结案审批
    subject: str  # 待您审批：… | 审批结果：…
    months: int
    reason: str
    requested_by: str  # the requester's name
    requested_at: datetime
    status: str  # pending | approved | refused
    status_name: str
    decided_by: str | None  # the decider's name
    decided_at: datetime | None
    note: str


class FeedbackReplyInboxItem(BaseModel):
    """The applicant's reply to a progress feedback of a case the caller handles (seed 002 第五条), for
    api/workbench.py's REPLY_WINDOW_DAYS (all of them with ``all``)."""

    kind: Literal["feedback_reply"] = "feedback_reply"
    feedback_id: str
    case_id: str
    case_number: str
    n: int  # the feedback's number: 第n次反馈
    subject: str  # 申请执行人回复了第n次执行进展反馈
    reply: str
    replied_by: str  # the party's name
    replied_at: datetime


class InboxOut(BaseModel):
    """Ladder rungs (``kind`` rung), parties' messages and complaints waiting for a reply (``kind`` message,
    complaint), requests waiting for the caller's decision and decisions on the caller's requests (``kind`` approval,
    decision)."""

    items: list[
        Annotated[
            InboxItem | MessageInboxItem | ApprovalInboxItem | FeedbackReplyInboxItem, Field(discriminator="kind")
        ]
    ]

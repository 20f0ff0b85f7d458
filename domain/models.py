"""Pydantic models that cross the workflow boundary: one input model per workflow, update and activity."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

from domain.feedback import FeedbackResult

CaseStatus = Literal["open", "closed"]


class NodeResult(BaseModel):
    """What recording a node returns: its id, whether it was late, and whether this request created it."""

    node_id: str
    late: bool
    created: bool = True


class RecordedNode(BaseModel):
    """A node as the workflow keeps it (no personal data beyond what the judge wrote in the summary)."""

    node_id: str
    seq: int
    type: str
    occurred_at: AwareDatetime
    entered_at: AwareDatetime
    late: bool
    disclose: bool
    summary: str = ""
    fields: dict[str, str] = Field(default_factory=dict)
    idempotency_key: str
    recorded_by: str


ObligationStatus = Literal["open", "met", "ended"]


class Obligation(BaseModel):
    """A deadline the workflow watches (decision 4): its period, its due instant, and the ladder rungs fired."""

    id: str  # "term-6m", "entry-3d:<node id>", "feedback:<n>"
    rule: str
    subject: str
    opened_at: AwareDatetime  # when it opens: the handler's first reminder
    start: AwareDatetime  # the instant the period counts from; stays move it forward
    length: int
    unit: str
    met_by: list[str] = Field(default_factory=list)  # node types that meet it
    due_at: AwareDatetime
    confirmed: bool = True
    remind_at: AwareDatetime
    warn_at: AwareDatetime
    rungs_fired: list[str] = Field(default_factory=list)
    status: ObligationStatus = "open"
    paused_at: AwareDatetime | None = None
    met_at: AwareDatetime | None = None
    late: bool = False

    def rung_times(self) -> dict[str, datetime]:
        """When each rung of the ladder is due: escalation just after the last day ends."""
        return {
            "remind_open": self.opened_at,
            "remind_due": self.remind_at,
            "warn": self.warn_at,
            "escalate": self.due_at + timedelta(microseconds=1),
        }

    def next_rung(self) -> tuple[str, datetime] | None:
        """The earliest rung not yet fired, while the obligation is open and its clock runs."""
        if self.status != "open" or self.paused_at is not None:
            return None
        pending = [(at, rung) for rung, at in self.rung_times().items() if rung not in self.rungs_fired]
        if not pending:
            return None
        at, rung = min(pending)
        return rung, at


ExtensionStatus = Literal["pending", "approved", "refused"]


class Extension(BaseModel):
    """A request needing a superior's approval: a longer term (the president decides) or a 终本 closure that
    misses conditions (the bureau chief decides)."""

    id: str
    kind: Literal["extension", "zhongben"] = "extension"
    months: int = 0
    reason: str
    requested_by: str
    requested_at: AwareDatetime
    status: ExtensionStatus = "pending"
    decided_by: str | None = None
    decided_at: AwareDatetime | None = None
    note: str = ""


class CaseState(BaseModel):
    """Everything a run hands to the next one at continue-as-new (ARCHITECTURE.md decision 7)."""

    status: CaseStatus = "open"
    opened: bool = False
    obligations: list[Obligation] = Field(default_factory=list)
    extensions: list[Extension] = Field(default_factory=list)
    feedback_count: int = 0  # feedback checkpoints opened so far
    feedback_given: int = 0
    stayed_at: AwareDatetime | None = None
    last_node_at: dict[str, AwareDatetime] = Field(default_factory=dict)  # node type → its latest act
    closure_mode: str | None = None
    follow_ups: int = 0  # 终本 follow-up inquiries opened (zhongben-5y)
    restored_as: str | None = None  # the case number of the restored (执恢) case
    feedback_done: dict[str, FeedbackResult] = Field(default_factory=dict)  # request id → result
    node_count: int = 0
    node_types: list[str] = Field(default_factory=list)
    processed: dict[str, NodeResult] = Field(default_factory=dict)  # idempotency key → result
    pending_notices: list[str] = Field(default_factory=list)  # node ids whose SMS is not yet sent
    closed_at: AwareDatetime | None = None


class CaseInput(BaseModel):
    """The one input of CaseWorkflow; ``state`` is set only when a run continues as new."""

    case_id: str
    case_number: str
    court_code: str
    filed_on: date
    handler: str | None = None
    has_property: bool = True
    rule_version: str = "2026.1"
    max_events_per_run: int = 2000
    state: CaseState | None = None


class OpenCaseInput(BaseModel):
    """The filing update sent with update-with-start: filing twice lands on the same workflow."""

    request_id: str


class OpenCaseResult(BaseModel):
    case_id: str
    status: CaseStatus


class RecordNodeInput(BaseModel):
    """A judge's record of an act (update ``record_node``)."""

    idempotency_key: str
    type: str
    occurred_at: AwareDatetime
    summary: str = ""
    disclose: bool | None = None
    fields: dict[str, str] = Field(default_factory=dict)
    recorded_by: str


class CaseOpenedInput(BaseModel):
    case_id: str
    opened_at: AwareDatetime


class SaveNodeInput(BaseModel):
    case_id: str
    node: RecordedNode


class CaseClosedInput(BaseModel):
    case_id: str
    closed_at: AwareDatetime
    query_ends_at: AwareDatetime | None = None  # parties' online query ends 1 month after closure (query-1m)


class NotifyInput(BaseModel):
    """Tell the applicants and agents: the filing (with their query codes) or one node."""

    case_id: str
    reason: str  # "filed" | "node:<node_id>"
    node_id: str | None = None


class NotifyResult(BaseModel):
    sent: int
    skipped: int


class SaveObligationInput(BaseModel):
    case_id: str
    obligation: Obligation
    # The workflow's per-case counter at this save: a retried older snapshot never overwrites a newer one
    # (decision 1). 0: a caller from before versions, last write wins among those and loses to any versioned one.
    version: int = 0


class FireRungInput(BaseModel):
    """One rung of the ladder for one obligation: a supervision record (督办), inbox items and staff SMS."""

    case_id: str
    obligation: Obligation
    rung: str


class FireRungResult(BaseModel):
    recipients: int


class SaveExtensionInput(BaseModel):
    case_id: str
    extension: Extension
    version: int = 0  # as in SaveObligationInput


class RequestExtensionInput(BaseModel):
    """The handler asks for a longer term at least 5 days before it expires (法发〔2006〕35号)."""

    request_id: str
    months: int
    reason: str
    requested_by: str


class DecideExtensionInput(BaseModel):
    """The president or vice president approves or refuses a pending extension."""

    request_id: str
    approve: bool
    decided_by: str
    note: str = ""


class RequestZhongbenInput(BaseModel):
    """The handler asks the bureau chief to approve a 终本 closure that misses conditions, with a reason."""

    request_id: str
    reason: str
    requested_by: str


class RestoredInput(BaseModel):
    """The case was restored (恢复执行) as a new linked case: the 终本 follow-up ends."""

    case_number: str

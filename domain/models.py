"""Pydantic models that cross the workflow boundary: one input model per workflow, update and activity."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

from domain.feedback import FeedbackResult, SaveFeedbackInput
from domain.ladder import Obligation
from domain.obligations import BookState, PeriodRequest, Schedule

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
    note: str = ""  # the decider's note
    waived: list[str] = Field(default_factory=list)  # a 终本 exception: the conditions it would waive (seed 003)


class Notice(BaseModel):
    """Something the case announces beside its main loop (decision 8): an SMS to the parties (``notify``), the
    staff SMS a rung batch queued (``deliver``), or its listing among the unfinished cases (``list``, seed 002
    第一条)."""

    kind: Literal["notify", "deliver", "list"] = "notify"
    # "filed" | "node:<node_id>" | "feedback:<id>" | "assigned:<node_id>" | "rungs:<batch>" | "listed" | …
    reason: str
    node_id: str | None = None


class NoticesInput(BaseModel):
    """The notices waiting when the lane wakes, sent in one activity, in order."""

    case_id: str
    notices: list[Notice]


class CaseEventInput(BaseModel):
    """Something that happened outside the nodes (a party's message or complaint, the reply to it, an e-service
    reminder, a first download): the book opens or meets what the rules say of ``event`` for ``ref`` (a message
    id, a document id), and ``notice`` (if any) goes out in the notices lane. ``key`` makes a repeat a no-op."""

    event: str
    ref: str
    key: str
    notice: Notice | None = None


RECENT_KEYS = 200  # idempotency keys a continued run still answers itself


class CaseState(BaseModel):
    """Everything a run hands to the next one at continue-as-new (ARCHITECTURE.md decision 7)."""

    status: CaseStatus = "open"
    opened: bool = False
    handler: str | None = None  # the handler and clerk now (assignment moves them)
    clerk: str | None = None
    book: BookState = Field(default_factory=BookState)
    extensions: list[Extension] = Field(default_factory=list)
    feedback_given: int = 0
    last_node_at: dict[str, AwareDatetime] = Field(default_factory=dict)  # node type → its latest act
    closure_mode: str | None = None
    restored_as: str | None = None  # the case number of the restored (执恢) case
    feedback_done: dict[str, FeedbackResult] = Field(default_factory=dict)  # request id → result
    node_count: int = 0
    processed: dict[str, NodeResult] = Field(default_factory=dict)  # idempotency key → result
    events_done: list[str] = Field(default_factory=list)  # keys of the outside events carried out
    pending_notices: list[Notice] = Field(default_factory=list)  # SMS not yet sent
    masking: bool = False  # closure asked the public lists to mask the case; not yet confirmed
    closed_at: AwareDatetime | None = None

    def carried(self, *, recent: int = RECENT_KEYS) -> CaseState:
        """What the next run needs (decision 7): open obligations, pending requests and notices, and the most
        recent idempotency keys (requests for a superior's decision are few and all kept) — not a record of every
        node or met deadline, which the read model and the history keep. A repeat of an older key is answered from
        the read model by the API. So a five-year case carries about the same state as a new one, far from the
        payload limit."""
        book = self.book.model_copy(update={"obligations": [ob for ob in self.book.obligations if ob.status == "open"]})
        return self.model_copy(
            update={
                "book": book,
                "processed": dict(list(self.processed.items())[-recent:]),
                "feedback_done": dict(list(self.feedback_done.items())[-recent:]),
                "events_done": self.events_done[-recent:],
            }
        )


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


class CalendarChangedInput(BaseModel):
    """An administrator entered or changed the holiday schedule of ``year`` (None: deadlines computed on weekends
    alone are recomputed)."""

    year: int | None = None


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


class NotifyInput(BaseModel):
    """Tell the applicants and agents: the filing (with their query codes) or one node."""

    case_id: str
    reason: str  # "filed" | "node:<node_id>"
    node_id: str | None = None


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


class ScheduleInput(BaseModel):
    """Every period one transition needs, computed on the legal calendar in one call (decision 3)."""

    requests: list[PeriodRequest]


class ScheduleResult(BaseModel):
    schedules: list[Schedule]


class CaseClosing(BaseModel):
    closed_at: AwareDatetime
    query_ends_at: AwareDatetime | None = None  # parties' online query ends 1 month after closure (query-1m)


class Assignment(BaseModel):
    handler: str
    clerk: str | None = None


class RungFiring(BaseModel):
    obligation: Obligation
    rung: str
    overdue: bool  # the deadline had already passed when the rung fired


class TransitionInput(BaseModel):
    """What one transition (a filing, a node, a decision, a rung batch) writes to the read model, in one
    transaction: a versioned row never goes back (decision 1)."""

    case_id: str
    opened: bool = False
    node: RecordedNode | None = None
    obligations: list[Obligation] = Field(default_factory=list)
    extension: Extension | None = None
    extension_version: int = 0
    closing: CaseClosing | None = None
    assignment: Assignment | None = None
    feedback: SaveFeedbackInput | None = None
    firings: list[RungFiring] = Field(default_factory=list)
    batch: str = ""  # the outbox reason of the firings' staff SMS
    entry: PeriodRequest | None = None  # the node's entry deadline: entered after it, the node is late


class TransitionResult(BaseModel):
    late: bool = False  # the node was entered after its entry deadline (seed 002 第二条)


class AssignInput(BaseModel):
    """The bureau chief assigns or reassigns the handler and clerk (seed 004: the case moves with its file)."""

    request_id: str
    handler: str
    clerk: str | None = None
    assigned_by: str
    handler_name: str = ""  # for the node's summary: 承办人 names are public on the case (seed 001 第三条)


class AssignResult(BaseModel):
    handler: str
    clerk: str | None
    node_id: str

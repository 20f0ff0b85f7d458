"""Pydantic models that cross the workflow boundary: one input model per workflow, update and activity."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

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


class CaseState(BaseModel):
    """Everything a run hands to the next one at continue-as-new (ARCHITECTURE.md decision 7)."""

    status: CaseStatus = "open"
    opened: bool = False
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


class NotifyInput(BaseModel):
    """Tell the applicants and agents: the filing (with their query codes) or one node."""

    case_id: str
    reason: str  # "filed" | "node:<node_id>"
    node_id: str | None = None


class NotifyResult(BaseModel):
    sent: int
    skipped: int

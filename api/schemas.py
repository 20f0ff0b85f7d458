"""Request and response bodies of the HTTP API (API.md)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class CourtOut(BaseModel):
    code: str
    name: str
    level: str
    parent_code: str | None
    case_prefix: str


class PartyIn(BaseModel):
    name: str = Field(min_length=1, max_length=128)
    id_number: str | None = Field(default=None, max_length=32)
    phone: str | None = Field(default=None, max_length=32)
    address: str | None = Field(default=None, max_length=256)
    eservice_consent: bool = False


class CaseIn(BaseModel):
    case_number: str = Field(min_length=1, max_length=64)
    court_code: str
    cause: str = Field(min_length=1, max_length=128)
    amount: Decimal = Field(ge=0, max_digits=18, decimal_places=2)
    filed_on: date
    has_property: bool = True
    handler: str | None = None
    clerk: str | None = None
    applicants: list[PartyIn] = Field(min_length=1)
    agents: list[PartyIn] = Field(default_factory=list)
    respondents: list[PartyIn] = Field(default_factory=list)


class CaseFiled(BaseModel):
    case_id: str
    workflow_id: str
    case_number: str
    warnings: list[str] = Field(default_factory=list)


class NodeIn(BaseModel):
    """A node; fields of its type (mode, recovered_amount, scheduled_at, amount, place …) ride along."""

    model_config = ConfigDict(extra="allow")
    type: str
    occurred_at: AwareDatetime
    summary: str = Field(default="", max_length=2000)
    disclose: bool | None = None

    def type_fields(self) -> dict[str, str]:
        extra: dict[str, Any] = self.model_extra or {}
        return {k: str(v) for k, v in extra.items() if v is not None and not isinstance(v, (dict, list))}


class NodeCreated(BaseModel):
    node_id: str
    late: bool


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
    phone_masked: str | None
    phone_flag: str | None


class ObligationOut(BaseModel):
    """A deadline the case's workflow watches: exact due instant, rungs of the ladder fired, lateness."""

    obligation_id: str
    rule: str
    subject: str
    opened_at: datetime
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


class HistoryOut(BaseModel):
    workflow_id: str
    runs: list[HistoryRun]

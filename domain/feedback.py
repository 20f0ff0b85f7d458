"""Progress feedback to the applicant (seed 002 第五条): what crosses the workflow boundary, and the draft text."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Protocol

from pydantic import AwareDatetime, BaseModel

from domain.clock import beijing_date, format_beijing, format_day
from domain.nodes import node_type


class SubmitFeedbackInput(BaseModel):
    """The handler's feedback: measures taken and results, next steps, what the applicant must do."""

    request_id: str
    measures: str
    next_steps: str
    applicant_tasks: str
    submitted_by: str


class FeedbackResult(BaseModel):
    feedback_id: str
    n: int
    obligation_id: str | None
    late: bool


class SaveFeedbackInput(BaseModel):
    case_id: str
    feedback_id: str
    n: int
    obligation_id: str | None
    measures: str
    next_steps: str
    applicant_tasks: str
    submitted_by: str
    submitted_at: AwareDatetime
    late: bool
    # The Idempotency-Key the handler sent: lets the API answer a repeat from the read model alone.
    request_id: str | None = None


class DraftNode(Protocol):
    """What the draft reads of a node: a read-model row and the workflow's RecordedNode both have it."""

    @property
    def type(self) -> str: ...
    @property
    def occurred_at(self) -> datetime: ...
    @property
    def entered_at(self) -> datetime: ...
    @property
    def disclose(self) -> bool: ...
    @property
    def summary(self) -> str: ...
    @property
    def fields(self) -> Mapping[str, str]: ...


# Nodes that are not measures taken to enforce: the filing and the assignment were told at filing.
_NOT_MEASURES = frozenset({"filed", "handler_assigned"})


def draft_feedback(nodes: Iterable[DraftNode], since: datetime | None) -> str:
    """已经采取的执行措施及结果 since the last feedback (seed 002 第五条): the handler's starting text.

    Only disclosed nodes: a node approved for non-disclosure (seed 001 第十三条) never reaches the applicant.
    A node recorded after the last feedback counts even when its act was earlier: the applicant was not told.
    """
    fresh = sorted(
        (
            n
            for n in nodes
            if n.disclose
            and n.type not in _NOT_MEASURES
            and (since is None or n.occurred_at > since or n.entered_at > since)
        ),
        key=lambda n: n.occurred_at,
    )
    opening = "立案以来" if since is None else f"自{format_day(beijing_date(since))}上次反馈以来"
    if not fresh:
        return f"{opening}，本院暂未采取新的执行措施。"
    lines = [f"{opening}，本院已采取以下执行措施："]
    lines += [f"{i}. {_line(n)}" for i, n in enumerate(fresh, 1)]
    received = _total(fresh, "funds_received")
    paid = _total(fresh, "funds_paid")
    if received or paid:
        lines.append(f"执行款：到账合计{_yuan(received)}元，已向您划付合计{_yuan(paid)}元。")
    return "\n".join(lines)


def _line(node: DraftNode) -> str:
    """One measure: its Beijing date, its name, what the handler wrote (or the node's phrase) and its result."""
    nt = node_type(node.type)
    name = nt.name if nt else node.type
    fields = dict(node.fields)
    text = node.summary.strip().rstrip("。；;.")
    if not text and nt is not None:
        values = _Defaults(fields)
        if "scheduled_at" in fields:
            values["scheduled"] = _when(fields["scheduled_at"])
        text = nt.phrase.format_map(values).rstrip("。")
    facts = [fact for value, fact in _results(fields) if value not in text]
    result = f"（{'；'.join(facts)}）" if facts else ""
    return f"{format_day(beijing_date(node.occurred_at))}，{name}：{text or name}{result}。"


def _results(fields: Mapping[str, str]) -> list[tuple[str, str]]:
    """The results a node carries in its fields, as (value, what the applicant reads)."""
    out = []
    if fields.get("amount"):
        out.append((fields["amount"], f"金额{fields['amount']}元"))
    if fields.get("recovered_amount"):
        out.append((fields["recovered_amount"], f"执行到位{fields['recovered_amount']}元"))
    if fields.get("mode"):
        out.append((fields["mode"], f"结案方式：{fields['mode']}"))
    if fields.get("scheduled_at"):
        when = _when(fields["scheduled_at"])
        out.append((when, f"定于{when}"))
    if fields.get("measure"):
        measure = node_type(fields["measure"])
        name = measure.name if measure else fields["measure"]
        out.append((name, f"解除{name}"))
    if fields.get("place"):
        out.append((fields["place"], f"地点：{fields['place']}"))
    return out


def _when(iso: str) -> str:
    try:
        return format_beijing(datetime.fromisoformat(iso))
    except ValueError:
        return iso


def _total(nodes: Iterable[DraftNode], type_code: str) -> Decimal:
    total = Decimal(0)
    for n in nodes:
        if n.type == type_code:
            try:
                total += Decimal(n.fields.get("amount", "0"))
            except InvalidOperation:
                continue  # a malformed amount is shown in its line, not summed
    return total


def _yuan(amount: Decimal) -> str:
    return f"{amount:.2f}"


class _Defaults(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""

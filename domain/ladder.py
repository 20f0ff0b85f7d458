"""The escalation ladder (seed 004 “天德”: 临期预警执行局长，超期报告院长、纪检组长), as pure functions of an
obligation: when each rung is due, which rungs are due at an instant, the next wake-up and the overdue level."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

Rung = Literal["remind_open", "remind_due", "warn", "escalate"]
RUNGS: tuple[Rung, ...] = ("remind_open", "remind_due", "warn", "escalate")

# Who each rung reaches: the handler, then the bureau chief, then the president and the discipline head.
RUNG_ROLES: dict[str, tuple[str, ...]] = {
    "remind_open": ("handler",),
    "remind_due": ("handler",),
    "warn": ("bureau_chief",),
    "escalate": ("president", "discipline"),
}
RUNG_NAMES: dict[str, str] = {
    "remind_open": "提醒承办人",
    "remind_due": "到期前提醒承办人",
    "warn": "临期预警执行局长",
    "escalate": "超期报告院长、纪检组长",
}
LEVELS: dict[str, int] = {"remind_open": 0, "remind_due": 1, "warn": 2, "escalate": 3}
ASSIGNEE_NAMES: dict[str, str] = {"handler": "承办人", "clerk": "书记员", "discipline": "纪检组长"}


def rung_name(rung: str, assignee: str = "handler") -> str:
    """The rung in words; a reminder names whom the rule assigns (an e-service clock reminds the clerk)."""
    return RUNG_NAMES[rung].replace("承办人", ASSIGNEE_NAMES.get(assignee, "承办人"))


class Obligation(BaseModel):
    """A deadline the case watches (decision 4): its period, its due instant and the ladder rungs fired.

    ``version`` grows with every change, so the read model never takes an older snapshot over a newer one."""

    id: str  # "term-6m", "entry-3d:<node id>", "feedback:<n>", "zhongben-5y:<n>", "message:<id>"
    rule: str
    subject: str
    n: int = 1  # the instance of a chained rule (the n-th feedback, the n-th 终本 inquiry)
    ref: str | None = None  # what it is about: the node of a scheduled act, a message, a document
    opened_at: AwareDatetime  # when it opens: the handler's first reminder
    start: AwareDatetime  # the instant the period counts from; stays move it forward
    offset_months: int = 0  # still to compute: the period counts from a checkpoint this many months after start
    length: int
    unit: str
    met_by: list[str] = Field(default_factory=list)  # node codes or events that meet it
    not_before: AwareDatetime | None = None  # an act recorded before this instant does not meet it
    due_at: AwareDatetime
    confirmed: bool = True
    remind_at: AwareDatetime
    warn_at: AwareDatetime
    assignee: str = "handler"  # whom the reminders reach
    laddered: bool = True  # false: a date on the case (the end of online query), not kept in the book
    rungs_fired: list[str] = Field(default_factory=list)
    status: Literal["open", "met", "ended"] = "open"
    paused_at: AwareDatetime | None = None
    met_at: AwareDatetime | None = None
    late: bool = False
    version: int = 0


def rung_times(ob: Obligation) -> dict[str, datetime]:
    """When each rung is due: the reminder when it opens and before the due day, escalation just after it ends."""
    return {
        "remind_open": ob.opened_at,
        "remind_due": ob.remind_at,
        "warn": ob.warn_at,
        "escalate": ob.due_at + timedelta(microseconds=1),
    }


def next_rung(ob: Obligation) -> tuple[datetime, str] | None:
    """The earliest rung not yet fired, while the obligation is open and its clock runs."""
    if ob.status != "open" or ob.paused_at is not None:
        return None
    pending = [(at, rung) for rung, at in rung_times(ob).items() if rung not in ob.rungs_fired]
    return min(pending) if pending else None


def due_rungs(obligations: Iterable[Obligation], now: datetime) -> list[tuple[datetime, Obligation, str]]:
    """Every rung whose time has come, in time order (each obligation's rungs in ladder order)."""
    due: list[tuple[datetime, Obligation, str]] = []
    for ob in obligations:
        if ob.status != "open" or ob.paused_at is not None:
            continue
        for rung, at in rung_times(ob).items():
            if rung not in ob.rungs_fired and at <= now:
                due.append((at, ob, rung))
    return sorted(due, key=lambda d: (d[0], LEVELS[d[2]]))


def rearm(ob: Obligation, now: datetime) -> None:
    """A deadline moved later: the rungs now ahead of ``now`` fire again before the new due day (seed 004: each
    rung warns of the deadline as it now stands); the opening reminder is not repeated."""
    times = rung_times(ob)
    ob.rungs_fired = [r for r in ob.rungs_fired if r == "remind_open" or times[r] <= now]


def level(ob: Obligation) -> int:
    """How far up the ladder an obligation has climbed (0 reminder … 3 escalated)."""
    return max((LEVELS[r] for r in ob.rungs_fired), default=0)

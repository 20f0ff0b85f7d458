"""One transition of a case, written to the read model in one transaction (decision 1), and the ladder's staff SMS.

A filing, a node, a decision or a batch of rungs is one call: the node, the obligations (versioned, so an older
snapshot never overwrites a newer one), the supervision records (督办) of the rungs fired and their outbox rows,
the case's status. Every write is keyed, so a retried activity writes nothing twice."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import raiseload
from temporalio import activity

from activities.approvals import queue_request_sms
from activities.outbox import Outbox
from contracts.activities import SAVE_TRANSITION
from db import queries, read_model
from db.models import Case, SmsMessage, Staff, SupervisionRecord
from domain.clock import beijing_date, format_day
from domain.ladder import LEVELS, RUNG_ROLES, rung_name
from domain.models import RungFiring, TransitionInput, TransitionResult
from domain.periods import schedule_period
from domain.sms import Duty, rung_message


class TransitionActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], outbox: Outbox) -> None:
        self._sessions = sessions
        self._outbox = outbox

    @activity.defn(name=SAVE_TRANSITION)
    async def save_transition(self, inp: TransitionInput) -> TransitionResult:
        """Everything one transition changed, in one transaction; a node's lateness is decided here, on the legal
        calendar, so recording a plain node needs no separate period computation."""
        late = False
        async with self._sessions.begin() as s:
            if inp.opened:
                await read_model.mark_case_open(s, case_id=inp.case_id)
            if inp.node is not None:
                node = inp.node
                if inp.entry is not None:
                    entry, _ = schedule_period(await queries.working_calendar(s), inp.entry)
                    late = node.entered_at > entry.due_at
                    node = node.model_copy(update={"late": late})
                await read_model.save_node(s, case_id=inp.case_id, node=node)
            if inp.assignment is not None:
                await _assign(s, inp.case_id, inp.assignment.handler, inp.assignment.clerk)
            if inp.feedback is not None:
                await read_model.save_feedback(s, feedback=inp.feedback)
            if inp.extension is not None:
                await read_model.save_extension(
                    s, case_id=inp.case_id, extension=inp.extension, version=inp.extension_version
                )
                # Its approvers (a new request) or its requester (a decision) are told in the same transaction.
                await queue_request_sms(
                    s, case_id=inp.case_id, request=inp.extension, provider=self._outbox.provider_name
                )
            await read_model.save_obligations(s, case_id=inp.case_id, obligations=inp.obligations)
            if inp.closing is not None:
                c = inp.closing
                await read_model.mark_case_closed(
                    s, case_id=inp.case_id, closed_at=c.closed_at, query_ends_at=c.query_ends_at
                )
            if inp.firings:
                await self._fire(s, inp.case_id, inp.batch, inp.firings)
        activity.logger.info(
            "transition saved",
            extra={"case_id": inp.case_id, "obligations": len(inp.obligations), "rungs": len(inp.firings)},
        )
        return TransitionResult(late=late)

    async def _fire(self, s: AsyncSession, case_id: str, batch: str, firings: list[RungFiring]) -> None:
        """A supervision record per rung and recipient, and one SMS per recipient for the whole batch."""
        case = await s.get(Case, case_id, options=[raiseload(Case.parties)])
        if case is None:
            raise LookupError(f"case {case_id} not in the read model")
        now = datetime.now(UTC)
        duties: dict[int, dict[str, tuple[int, Duty]]] = defaultdict(dict)  # staff → obligation → top rung
        staff_by_id: dict[int, Staff] = {}
        done = await _supervised(s, case_id, firings)
        recipients_of: dict[tuple[str, str], list[Staff]] = {}
        for f in firings:
            ob = f.obligation
            who = (f.rung, ob.assignee)
            if who not in recipients_of:
                recipients_of[who] = await _recipients(s, case, f.rung, ob.assignee)
            recipients = recipients_of[who]
            duty = Duty(
                subject=ob.subject,
                rung_name=rung_name(f.rung, ob.assignee),
                due=format_day(beijing_date(ob.due_at)),
                opening=f.rung == "remind_open",
                overdue=f.overdue,
            )
            for staff in recipients:
                staff_by_id[staff.id] = staff
                if (ob.id, f.rung, ob.due_at, staff.id) not in done:
                    s.add(
                        SupervisionRecord(
                            case_id=case.id,
                            obligation_id=ob.id,
                            rung=f.rung,
                            staff_id=staff.id,
                            rule=ob.rule,
                            subject=ob.subject,
                            due_at=ob.due_at,
                            created_at=now,
                        )
                    )
                top = duties[staff.id].get(ob.id)
                if top is None or LEVELS[f.rung] >= top[0]:
                    duties[staff.id][ob.id] = (LEVELS[f.rung], duty)
        queued = set(
            (
                await s.scalars(
                    select(SmsMessage.recipient).where(SmsMessage.case_id == case.id, SmsMessage.reason == batch)
                )
            ).all()
        )
        for staff_id, by_obligation in duties.items():
            staff = staff_by_id[staff_id]
            recipient = f"staff:{staff.id}"
            if not staff.mobile or recipient in queued:
                continue
            body = rung_message(
                case.court.name, case_number=case.case_number, duties=[d for _, d in by_obligation.values()]
            )
            s.add(
                SmsMessage(
                    case_id=case.id,
                    reason=batch,
                    recipient=recipient,
                    to=staff.mobile,
                    body=body,
                    status="pending",
                    provider=self._outbox.provider_name,
                    created_at=now,
                )
            )


async def _supervised(s: AsyncSession, case_id: str, firings: list[RungFiring]) -> set[tuple[str, str, datetime, int]]:
    """(obligation, rung, due instant, staff) of the supervision records these firings already wrote (a retry)."""
    rows = await s.execute(
        select(
            SupervisionRecord.obligation_id,
            SupervisionRecord.rung,
            SupervisionRecord.due_at,
            SupervisionRecord.staff_id,
        ).where(
            SupervisionRecord.case_id == case_id,
            SupervisionRecord.obligation_id.in_({f.obligation.id for f in firings}),
        )
    )
    return {(ob_id, rung, due_at, staff_id) for ob_id, rung, due_at, staff_id in rows.all()}


async def _recipients(s: AsyncSession, case: Case, rung: str, assignee: str) -> list[Staff]:
    """The obligation's assignee (the handler, the clerk, or a leader) for reminders — the handler stands in for a
    missing clerk, the bureau chief for a missing handler; the court's bureau chief, president and discipline head
    above them (seed 004)."""
    roles = tuple(assignee if r == "handler" else r for r in RUNG_ROLES[rung])
    if roles == ("clerk",) and case.clerk:
        return [case.clerk]
    if roles in (("clerk",), ("handler",)):
        if case.handler:
            return [case.handler]
        roles = ("bureau_chief",)  # no one on the case yet: the one who assigns it is reminded
    rows = await s.scalars(
        select(Staff)
        .where(Staff.court_code == case.court_code, Staff.role.in_(roles), Staff.active.is_(True))
        .order_by(Staff.id)
    )
    return list(rows.all())


async def _assign(s: AsyncSession, case_id: str, handler: str, clerk: str | None) -> None:
    """The case's handler and clerk now (the previous handler loses the case, seed 004)."""
    ids = {
        username: staff_id
        for username, staff_id in (
            await s.execute(select(Staff.username, Staff.id).where(Staff.username.in_([handler, clerk or handler])))
        ).all()
    }
    values = {"handler_id": ids.get(handler)} | ({"clerk_id": ids.get(clerk)} if clerk else {})
    await s.execute(update(Case).where(Case.id == case_id).values(**values))

"""Obligations in the read model and the escalation ladder's rungs (督办), written once each (decision 4)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.names import FIRE_RUNG, SAVE_EXTENSION, SAVE_OBLIGATION
from activities.outbox import Outbox
from db.models import Case, ExtensionRequest, ObligationRow, SmsMessage, Staff, SupervisionRecord
from domain.clock import beijing_date, format_beijing
from domain.models import FireRungInput, FireRungResult, SaveExtensionInput, SaveObligationInput
from domain.rules import LEVELS, RUNG_NAMES, RUNG_ROLES
from domain.sms import rung_message


class SupervisionActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], outbox: Outbox) -> None:
        self._sessions = sessions
        self._outbox = outbox

    @activity.defn(name=SAVE_OBLIGATION)
    async def save_obligation(self, inp: SaveObligationInput) -> None:
        """Upsert the obligation's row; a met obligation closes its supervision records (seed 004), and so does a
        moved deadline for the rungs it re-armed."""
        ob = inp.obligation
        now = datetime.now(UTC)
        async with self._sessions.begin() as s:
            row = await s.scalar(
                select(ObligationRow).where(ObligationRow.case_id == inp.case_id, ObligationRow.obligation_id == ob.id)
            )
            if row is None:
                row = ObligationRow(case_id=inp.case_id, obligation_id=ob.id)
                s.add(row)
            row.rule, row.subject, row.opened_at = ob.rule, ob.subject, ob.opened_at
            row.due_at, row.confirmed, row.status = ob.due_at, ob.confirmed, ob.status
            row.paused, row.late, row.met_at = ob.paused_at is not None, ob.late, ob.met_at
            row.rungs_fired = list(ob.rungs_fired)
            row.level = max((LEVELS[r] for r in ob.rungs_fired), default=0)
            row.updated_at = now
            ended = update(SupervisionRecord).where(
                SupervisionRecord.case_id == inp.case_id,
                SupervisionRecord.obligation_id == ob.id,
                SupervisionRecord.met_at.is_(None),
            )
            if ob.status == "open":
                ended = ended.where(SupervisionRecord.rung.not_in(ob.rungs_fired))
            await s.execute(ended.values(met_at=ob.met_at or now))

    @activity.defn(name=FIRE_RUNG)
    async def fire_rung(self, inp: FireRungInput) -> FireRungResult:
        """A supervision record, an inbox item and an SMS to each recipient of the rung; a retry adds none."""
        ob = inp.obligation
        reason = f"rung:{ob.id}@{beijing_date(ob.due_at):%Y%m%d}:{inp.rung}"  # once per rung and due day
        async with self._sessions.begin() as s:
            case = await s.get(Case, inp.case_id)
            if case is None:
                raise LookupError(f"case {inp.case_id} not in the read model")
            recipients = await self._recipients(s, case, inp.rung)
            done = set(
                (
                    await s.scalars(
                        select(SupervisionRecord.staff_id).where(
                            SupervisionRecord.case_id == case.id,
                            SupervisionRecord.obligation_id == ob.id,
                            SupervisionRecord.rung == inp.rung,
                            SupervisionRecord.due_at == ob.due_at,
                        )
                    )
                ).all()
            )
            now = datetime.now(UTC)
            body = rung_message(
                case.court.name,
                case_number=case.case_number,
                subject=ob.subject,
                rung_name=RUNG_NAMES[inp.rung],
                due=format_beijing(ob.due_at),
                overdue=inp.rung == "escalate",
            )
            for staff in recipients:
                if staff.id in done:
                    continue
                s.add(
                    SupervisionRecord(
                        case_id=case.id,
                        obligation_id=ob.id,
                        rung=inp.rung,
                        staff_id=staff.id,
                        rule=ob.rule,
                        subject=ob.subject,
                        due_at=ob.due_at,
                        created_at=now,
                    )
                )
                if staff.mobile:
                    s.add(
                        SmsMessage(
                            case_id=case.id,
                            reason=reason,
                            recipient=f"staff:{staff.id}",
                            to=staff.mobile,
                            body=body,
                            status="pending",
                            provider=self._outbox.provider_name,
                            created_at=now,
                        )
                    )
        async with self._sessions() as s:
            query = select(SmsMessage.id).where(SmsMessage.case_id == inp.case_id, SmsMessage.reason == reason)
            ids = (await s.scalars(query)).all()
        for sms_id in ids:
            await self._outbox.deliver(sms_id)
        activity.logger.info("ladder rung fired", extra={"case_id": inp.case_id, "rung": inp.rung, "rule": ob.rule})
        return FireRungResult(recipients=len(recipients))

    async def _recipients(self, s: AsyncSession, case: Case, rung: str) -> list[Staff]:
        """The handler for reminders; the court's bureau chief, president and discipline head above them."""
        roles = RUNG_ROLES[rung]
        if roles == ("handler",):
            return [case.handler] if case.handler else []
        rows = await s.scalars(
            select(Staff)
            .where(Staff.court_code == case.court_code, Staff.role.in_(roles), Staff.active.is_(True))
            .order_by(Staff.id)
        )
        return list(rows.all())

    @activity.defn(name=SAVE_EXTENSION)
    async def save_extension(self, inp: SaveExtensionInput) -> None:
        """Upsert a term-extension request and its decision."""
        e = inp.extension
        async with self._sessions.begin() as s:
            row = await s.get(ExtensionRequest, e.id)
            if row is None:
                row = ExtensionRequest(id=e.id, case_id=inp.case_id)
                s.add(row)
            row.kind, row.months, row.reason = e.kind, e.months, e.reason
            row.requested_by, row.requested_at = e.requested_by, e.requested_at
            row.status, row.decided_by, row.decided_at, row.note = e.status, e.decided_by, e.decided_at, e.note

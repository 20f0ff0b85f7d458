"""Obligations in the read model and the escalation ladder's rungs (督办): rungs written once each (decision 4),
obligations and extension requests only when newer than the stored version (decision 1)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.names import FIRE_RUNG, SAVE_EXTENSION, SAVE_OBLIGATION
from activities.outbox import Outbox
from db import read_model
from db.models import Case, SmsMessage, Staff, SupervisionRecord
from domain.clock import beijing_date, format_beijing
from domain.ladder import RUNG_NAMES, RUNG_ROLES
from domain.models import FireRungInput, FireRungResult, SaveExtensionInput, SaveObligationInput
from domain.sms import rung_message


class SupervisionActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], outbox: Outbox) -> None:
        self._sessions = sessions
        self._outbox = outbox

    @activity.defn(name=SAVE_OBLIGATION)
    async def save_obligation(self, inp: SaveObligationInput) -> None:
        """The obligation's row at the workflow's version; a met obligation closes its supervision records (seed
        004), and so does a moved deadline for the rungs it re-armed. An overtaken snapshot writes nothing."""
        # The input's version, else the one the obligation book stamps on the obligation: the same per-case counter.
        version = inp.version or int(getattr(inp.obligation, "version", 0))
        async with self._sessions.begin() as s:
            wrote = await read_model.save_obligation(s, case_id=inp.case_id, obligation=inp.obligation, version=version)
        if not wrote:
            activity.logger.info(
                "obligation snapshot overtaken, not written",
                extra={"case_id": inp.case_id, "obligation_id": inp.obligation.id, "version": version},
            )

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
        """A term-extension request and its decision at the workflow's version; an overtaken one writes nothing."""
        async with self._sessions.begin() as s:
            wrote = await read_model.save_extension(
                s, case_id=inp.case_id, extension=inp.extension, version=inp.version
            )
        if not wrote:
            activity.logger.info(
                "extension snapshot overtaken, not written",
                extra={"case_id": inp.case_id, "extension_id": inp.extension.id, "version": inp.version},
            )

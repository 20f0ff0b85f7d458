"""The outbox's delivery: one row sent at most once, a row left 'sending' by a crash looked up first (decision 8).

A filing SMS carries the applicant's query code, stored hashed on the party: its row keeps the code only until the
message is handed over (a crashed send is looked up by its exact text), then keeps the text with the code masked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.sms_providers import PermanentSmsError, SmsProvider
from db.models import Party, SmsMessage, Staff
from domain.sms import redact_query_code


async def _current_numbers(s: AsyncSession, recipients: list[str]) -> dict[str, str]:
    """The number on file now for each ``party:<id>`` (its phone) or ``staff:<id>`` (the office mobile) that has one."""
    ids: dict[str, list[int]] = {"party": [], "staff": []}
    for recipient in recipients:
        kind, _, ident = recipient.partition(":")
        if kind not in ids:
            raise ValueError(f"unknown recipient kind {kind!r}")
        ids[kind].append(int(ident))
    numbers: dict[str, str] = {}
    for kind, column, number in (("party", Party.id, Party.phone), ("staff", Staff.id, Staff.mobile)):
        if ids[kind]:
            rows = (await s.execute(select(column, number).where(column.in_(ids[kind])))).all()
            numbers |= {f"{kind}:{ident}": value for ident, value in rows if value}
    return numbers


@dataclass(frozen=True)
class Claim:
    rows: list[tuple[int, str, str]]  # id, number, text: 'sending' now
    found: int  # left 'sending' by a crash and found accepted at the provider
    skipped: int  # sent before, or refused for good


@dataclass(frozen=True)
class Delivery:
    sent: int  # handed over now (or found accepted before a crash)
    skipped: int  # sent before, or refused for good


class Outbox:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], provider: SmsProvider) -> None:
        self._sessions = sessions
        self._provider = provider

    @property
    def provider_name(self) -> str:
        return self._provider.name

    async def deliver(self, case_id: str, reasons: list[str]) -> Delivery:
        """Send the case's rows of these reasons that did not go yet: claimed in one transaction, handed over one by
        one, marked in one more, so that a batch costs two transactions whatever its size."""
        async with self._sessions.begin() as s:
            claim = await self.claim(s, case_id, reasons)
        return await self.send(claim)

    async def claim(self, s: AsyncSession, case_id: str, reasons: list[str]) -> Claim:
        """Mark the case's rows of these reasons that did not go yet 'sending', in the caller's transaction (which may
        have queued them). A row left 'sending' by a crash is looked up at the provider first."""
        found = 0
        claimed: list[tuple[int, str, str]] = []
        query = select(SmsMessage).where(SmsMessage.case_id == case_id, SmsMessage.reason.in_(reasons))
        rows = (await s.scalars(query.order_by(SmsMessage.id).with_for_update())).all()
        due = [row for row in rows if row.status not in ("sent", "failed")]
        numbers = await _current_numbers(s, [row.recipient for row in due])
        for row in due:
            row.to = numbers.get(row.recipient, row.to)  # contact details are read at send time (decision 8)
            if row.status == "sending":
                provider_id = await self._provider.find(row.to, row.body, row.created_at)
                if provider_id:
                    _mark_sent(row, provider_id)
                    found += 1
                    continue
            row.status = "sending"
            row.attempts += 1
            claimed.append((row.id, row.to, row.body))
        return Claim(rows=claimed, found=found, skipped=len(rows) - len(due))

    async def send(self, claim: Claim) -> Delivery:
        """Hand the claimed rows over one by one, then mark them in one transaction; what was handed over before a
        provider error is marked before the error is raised, so a retry sends only the rest."""
        claimed = claim.rows
        outcomes: dict[int, str | PermanentSmsError] = {}
        try:
            for sms_id, to, body in claimed:
                activity.heartbeat()  # alive: a killed worker's attempt is retried after the heartbeat timeout
                try:
                    outcomes[sms_id] = await self._provider.send(to, body)
                except PermanentSmsError as e:
                    outcomes[sms_id] = e
        finally:
            tried = len(outcomes) + (len(outcomes) < len(claimed))  # the one that raised stays 'sending'
            untried = [sms_id for sms_id, _, _ in claimed[tried:]]
            if outcomes or untried:
                await self._record(outcomes, untried)
        refused = sum(isinstance(o, PermanentSmsError) for o in outcomes.values())
        return Delivery(sent=claim.found + len(outcomes) - refused, skipped=claim.skipped + refused)

    async def _record(self, outcomes: dict[int, str | PermanentSmsError], untried: list[int]) -> None:
        """What the provider answered, and the rows a provider error left untried back to 'pending'."""
        async with self._sessions.begin() as s:
            rows = (await s.scalars(select(SmsMessage).where(SmsMessage.id.in_([*outcomes, *untried])))).all()
            for row in rows:
                outcome = outcomes.get(row.id)
                if outcome is None:
                    row.status = "pending"
                    row.attempts -= 1
                elif isinstance(outcome, PermanentSmsError):
                    row.status, row.error = "failed", str(outcome)
                    row.body = redact_query_code(row.body)  # never sent: the code is of no use to anyone now
                    activity.logger.warning("sms refused by provider", extra={"sms_id": row.id})
                else:
                    _mark_sent(row, outcome)


def _mark_sent(row: SmsMessage, provider_id: str) -> None:
    row.status, row.provider_id, row.sent_at = "sent", provider_id, datetime.now(UTC)
    row.body = redact_query_code(row.body)  # the applicant has it now; the hash on the party checks it

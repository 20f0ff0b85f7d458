"""The outbox's delivery: one row sent at most once, a row left 'sending' by a crash looked up first (decision 8).

A filing SMS carries the applicant's query code, stored hashed on the party: its row keeps the code only until the
message is handed over (a crashed send is looked up by its exact text), then keeps the text with the code masked.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.sms_providers import PermanentSmsError, SmsProvider
from db.models import Party, SmsMessage, Staff
from domain.sms import redact_query_code


async def _current_number(s: AsyncSession, recipient: str) -> str | None:
    """The number on file now for ``party:<id>`` (its phone) or ``staff:<id>`` (the office mobile)."""
    kind, _, ident = recipient.partition(":")
    if kind == "party":
        party = await s.get(Party, int(ident))
        return party.phone if party else None
    if kind == "staff":
        staff = await s.get(Staff, int(ident))
        return staff.mobile if staff else None
    raise ValueError(f"unknown recipient kind {kind!r}")


class Outbox:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], provider: SmsProvider) -> None:
        self._sessions = sessions
        self._provider = provider

    @property
    def provider_name(self) -> str:
        return self._provider.name

    async def deliver(self, sms_id: int) -> bool:
        """Send one outbox row unless it went already; a row left 'sending' by a crash is looked up first."""
        async with self._sessions.begin() as s:
            row = await s.get(SmsMessage, sms_id, with_for_update=True)
            if row is None or row.status in ("sent", "failed"):
                return False
            current = await _current_number(s, row.recipient)
            if current:
                row.to = current  # contact details are read at send time (decision 8)
            if row.status == "sending":
                found = await self._provider.find(row.to, row.body, row.created_at)
                if found:
                    row.status, row.provider_id, row.sent_at = "sent", found, datetime.now(UTC)
                    row.body = redact_query_code(row.body)
                    return True
            row.status = "sending"
            row.attempts += 1
            to, body = row.to, row.body
        try:
            provider_id = await self._provider.send(to, body)
        except PermanentSmsError as e:
            async with self._sessions.begin() as s:
                row = await s.get(SmsMessage, sms_id)
                assert row is not None
                row.status, row.error = "failed", str(e)
                row.body = redact_query_code(row.body)  # never sent: the code is of no use to anyone now
            activity.logger.warning("sms refused by provider", extra={"sms_id": sms_id})
            return False
        async with self._sessions.begin() as s:
            row = await s.get(SmsMessage, sms_id)
            assert row is not None
            row.status, row.provider_id, row.sent_at = "sent", provider_id, datetime.now(UTC)
            row.body = redact_query_code(row.body)  # the applicant has it now; the hash on the party checks it
        return True

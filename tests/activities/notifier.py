"""The notices lane's SMS part as the worker runs it, for activity tests: queue a reason's messages, deliver them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import ActivityEnvironment

from activities.outbox import Delivery, Outbox
from activities.sms import SmsActivities
from activities.sms_providers import SmsProvider
from domain.models import NotifyInput


@dataclass
class Notifier:
    sessions: async_sessionmaker[AsyncSession]
    sms: SmsActivities
    outbox: Outbox

    @classmethod
    def of(cls, sessions: async_sessionmaker[AsyncSession], provider: SmsProvider) -> Notifier:
        return cls(sessions, SmsActivities(sessions, provider), Outbox(sessions, provider))

    async def __call__(self, inp: NotifyInput) -> Delivery:
        """Inside an activity context, so ``activity.logger`` and heartbeats work as on the worker."""

        async def notify() -> Delivery:
            codes = await self.sms.new_query_codes(inp)
            async with self.sessions.begin() as s:
                await self.sms.queue(s, inp, codes)
            return await self.outbox.deliver(inp.case_id, [inp.reason])

        return await ActivityEnvironment().run(notify)

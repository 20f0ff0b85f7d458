"""The notices lane's activity: what a case announces beside its main loop, in one activity (decision 8)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.outbox import Outbox
from activities.public_lists import Listing, PublicListActivities
from activities.sms import QueryCodes, SmsActivities
from contracts.activities import SEND_NOTICES
from domain.models import Notice, NoticesInput, NotifyInput


class NoticeActivities:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        sms: SmsActivities,
        outbox: Outbox,
        lists: PublicListActivities,
    ) -> None:
        self._sessions = sessions
        self._sms = sms
        self._outbox = outbox
        self._lists = lists

    @activity.defn(name=SEND_NOTICES)
    async def send_notices(self, inp: NoticesInput) -> int:
        """Everything the notices waiting ask for, in two transactions: one writes their rows (the SMS to the parties
        queued, the listing among the unfinished cases) and claims every SMS they wait on, including the staff SMS
        a batch of rungs queued when it was saved; then the listing is published and the SMS are sent, and one more
        transaction marks them. A notice that fails does not hold up the others (a failing public list does not keep
        the applicant's SMS back); the first failure is raised once all were tried, so the activity is retried and
        each notice, being keyed, acts once. Returns how many notices were written."""
        failures: list[Exception] = []
        notify = [n for n in inp.notices if n.kind == "notify"]
        codes = {n.reason: await self._sms.new_query_codes(_notify(inp.case_id, n)) for n in notify}
        activity.heartbeat()  # the hashes run at a low priority: alive, however long a busy machine kept them
        listings: list[Listing] = []
        done = 0
        async with self._sessions.begin() as s:
            for notice in inp.notices:
                try:
                    await self._write(s, inp.case_id, notice, codes.get(notice.reason, {}), listings)
                    done += 1
                except LookupError as e:  # each is tried; the first failure is raised below
                    failures.append(e)
            reasons = [n.reason for n in inp.notices if n.kind != "list"]
            claim = await self._outbox.claim(s, inp.case_id, reasons)
        for listing in listings:
            try:
                await self._lists.publish(listing)
            except Exception as e:  # the publisher is another system: its failure keeps no SMS back
                failures.append(e)
        await self._outbox.send(claim)
        if failures:
            raise failures[0]
        return done

    async def _write(
        self, s: AsyncSession, case_id: str, notice: Notice, codes: QueryCodes, listings: list[Listing]
    ) -> None:
        if notice.kind == "list":
            listings.append(await self._lists.list_case(s, case_id))
        elif notice.kind == "notify":
            await self._sms.queue(s, _notify(case_id, notice), codes)


def _notify(case_id: str, notice: Notice) -> NotifyInput:
    return NotifyInput(case_id=case_id, reason=notice.reason, node_id=notice.node_id)

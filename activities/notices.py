"""The notices lane's activity: what a case announces beside its main loop, in one activity (decision 8)."""

from __future__ import annotations

from temporalio import activity

from activities.public_lists import PublicListActivities
from activities.sms import SmsActivities
from activities.transitions import TransitionActivities
from contracts.activities import SEND_NOTICES
from domain.models import DeliverInput, Notice, NoticesInput, NotifyInput
from domain.public_lists import CaseListInput


class NoticeActivities:
    def __init__(self, sms: SmsActivities, transitions: TransitionActivities, lists: PublicListActivities) -> None:
        self._sms = sms
        self._transitions = transitions
        self._lists = lists

    @activity.defn(name=SEND_NOTICES)
    async def send_notices(self, inp: NoticesInput) -> int:
        """Send each notice in order; one that fails does not hold up the others (a failing public list does not
        keep the applicant's SMS back), and the first failure is raised once all were tried, so the activity is
        retried and each notice, being keyed, acts once. Returns how many went out."""
        failures: list[Exception] = []
        done = 0
        for notice in inp.notices:
            activity.heartbeat()
            try:
                await self._send(inp.case_id, notice)
                done += 1
            except Exception as e:  # each is tried; the first failure is raised below
                failures.append(e)
        if failures:
            raise failures[0]
        return done

    async def _send(self, case_id: str, notice: Notice) -> None:
        if notice.kind == "deliver":
            await self._transitions.deliver_sms(DeliverInput(case_id=case_id, reason=notice.reason))
        elif notice.kind == "list":
            await self._lists.list_unfinished_case(CaseListInput(case_id=case_id))
        else:
            await self._sms.notify_parties(NotifyInput(case_id=case_id, reason=notice.reason, node_id=notice.node_id))

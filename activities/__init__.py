"""Every activity the worker runs, built from its dependencies in one place."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.calendar import CalendarActivities
from activities.case_record import CaseRecordActivities
from activities.feedback import FeedbackActivities
from activities.outbox import Outbox
from activities.public_lists import PublicListActivities, PublicListPublisher
from activities.sms import SmsActivities
from activities.sms_providers import SmsProvider
from activities.supervision import SupervisionActivities


@dataclass
class Deps:
    sessions: async_sessionmaker[AsyncSession]
    sms: SmsProvider
    publisher: PublicListPublisher | None = None  # None: the lists this system serves itself (LocalPublisher)


def build_activities(deps: Deps) -> list[Callable[..., Any]]:
    record = CaseRecordActivities(deps.sessions)
    sms = SmsActivities(deps.sessions, deps.sms)
    calendar = CalendarActivities(deps.sessions)
    supervision = SupervisionActivities(deps.sessions, Outbox(deps.sessions, deps.sms))
    public_lists = PublicListActivities(deps.sessions, deps.publisher)
    feedback = FeedbackActivities(deps.sessions)
    return [
        record.mark_case_open,
        record.save_node,
        record.mark_case_closed,
        sms.notify_parties,
        calendar.compute_due,
        calendar.warn_at,
        supervision.save_obligation,
        supervision.fire_rung,
        supervision.save_extension,
        public_lists.list_unfinished_case,
        public_lists.apply_node_to_public_lists,
        public_lists.mask_case_entries,
        feedback.save_feedback,
    ]

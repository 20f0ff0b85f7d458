"""Every activity the worker runs, built from its dependencies in one place."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.calendar import CalendarActivities
from activities.notices import NoticeActivities
from activities.outbox import Outbox
from activities.public_lists import PublicListActivities, PublicListPublisher
from activities.sms import SmsActivities
from activities.sms_providers import SmsProvider
from activities.transitions import TransitionActivities


@dataclass
class Deps:
    sessions: async_sessionmaker[AsyncSession]
    sms: SmsProvider
    publisher: PublicListPublisher | None = None  # None: the lists this system serves itself (LocalPublisher)


def build_activities(deps: Deps, *, public_base_url: str = "") -> list[Callable[..., Any]]:
    """The implementations of contracts.activities, by name; ``public_base_url``: the portal's (the filing SMS)."""
    outbox = Outbox(deps.sessions, deps.sms)
    transitions = TransitionActivities(deps.sessions, outbox)
    sms = SmsActivities(deps.sessions, deps.sms, public_base_url=public_base_url)
    calendar = CalendarActivities(deps.sessions)
    public_lists = PublicListActivities(deps.sessions, deps.publisher)
    notices = NoticeActivities(deps.sessions, sms, outbox, public_lists)
    return [
        calendar.schedule_periods,
        transitions.save_transition,
        notices.send_notices,
        public_lists.apply_node_to_public_lists,
        public_lists.mask_case_entries,
    ]

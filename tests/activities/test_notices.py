"""The notices lane's activity on a migrated database: a filing's SMS and its listing among the unfinished cases go out
together, a failing public list keeps no SMS back, and a retry sends nothing twice (decision 8, seed 002 第一条)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import ActivityEnvironment

from activities.notices import NoticeActivities
from activities.outbox import Outbox
from activities.public_lists import PublicListActivities
from activities.sms import SmsActivities
from db.models import Party, PublicListEntry, SmsMessage
from domain.models import Notice, NoticesInput
from domain.public_lists import PublicEntry
from tests.activities.test_public_lists import FiledCase, RecordingPublisher, file_case
from tests.conftest import PhonesOutbox

FILING = [Notice(kind="notify", reason="filed"), Notice(kind="list", reason="listed")]


class DownPublisher(RecordingPublisher):
    """The lists' publisher, down until ``up`` is set."""

    up = False

    async def publish(self, entry: PublicEntry) -> None:
        if not self.up:
            raise ConnectionError("公开名单服务不可用")
        await super().publish(entry)


@pytest.fixture
def publisher(sessions: async_sessionmaker[AsyncSession]) -> DownPublisher:
    return DownPublisher(sessions)


@pytest.fixture
def phones() -> PhonesOutbox:
    return PhonesOutbox()


@pytest.fixture
def notices(
    sessions: async_sessionmaker[AsyncSession], phones: PhonesOutbox, publisher: DownPublisher
) -> NoticeActivities:
    sms = SmsActivities(sessions, phones)
    return NoticeActivities(sessions, sms, Outbox(sessions, phones), PublicListActivities(sessions, publisher))


async def send(notices: NoticeActivities, case: FiledCase) -> int:
    return await ActivityEnvironment().run(notices.send_notices, NoticesInput(case_id=case.id, notices=FILING))


async def test_a_failing_public_list_keeps_no_sms_back_and_the_retry_sends_nothing_twice(
    notices: NoticeActivities,
    phones: PhonesOutbox,
    publisher: DownPublisher,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    case = await file_case(sessions)

    with pytest.raises(ConnectionError):
        await send(notices, case)  # raised, so Temporal retries the activity

    assert [to for to, _ in phones.delivered] == ["13800138001"]  # the applicant has the filing SMS already
    assert "查询码" in phones.delivered[0][1]
    async with sessions() as s:
        entries = (await s.scalars(select(PublicListEntry.party_id).order_by(PublicListEntry.party_id))).all()
        code_hash = await s.scalar(select(Party.query_code_hash).where(Party.id == case.applicant))
    assert entries == [case.person, case.company]  # written, waiting for the publisher
    assert publisher.of("publish") == []

    publisher.up = True
    assert await send(notices, case) == 2

    assert len(phones.delivered) == 1  # not sent again, and no second query code
    assert sorted(e.party_id for e in publisher.of("publish")) == [case.person, case.company]
    async with sessions() as s:
        rows = (await s.scalars(select(SmsMessage))).all()
        assert await s.scalar(select(Party.query_code_hash).where(Party.id == case.applicant)) == code_hash
    assert [(r.status, r.attempts) for r in rows] == [("sent", 1)]

"""Saving a progress feedback (through the transition that records it) and telling the applicant, on a migrated
database (seed 002 第五条)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import ActivityEnvironment

from activities.outbox import Delivery, Outbox
from activities.sms_providers import OutboxProvider
from activities.transitions import TransitionActivities
from db.models import Case, Court, Feedback, Party, SmsMessage, Staff
from domain.feedback import SaveFeedbackInput
from domain.models import NotifyInput, TransitionInput
from tests.activities.notifier import Notifier

CASE_NUMBER = "（2026）云0102执77号"
COURT_NAME = "昆明市五华区人民法院"


@pytest.fixture
async def case_id(sessions: async_sessionmaker[AsyncSession]) -> str:
    """A filed case with an applicant, its agent and a respondent; the applicant already has a query code."""
    cid = str(uuid.uuid4())
    async with sessions.begin() as s:
        s.add(Court(code="YN0102", name=COURT_NAME, case_prefix="云0102", level="basic", path="/YN0102/"))
        handler = Staff(
            username="wang", password_hash="-", name="王承办", role="handler", court_code="YN0102",
            office_phone="0871-61011001",
        )  # fmt: skip
        s.add(handler)
        await s.flush()
        s.add(
            Case(
                id=cid, case_number=CASE_NUMBER, court_code="YN0102", cause="民间借贷纠纷",
                amount=Decimal("50000.00"), filed_on=date(2026, 10, 20), has_property=True,
                handler_id=handler.id, registrar_id=handler.id, workflow_id=f"case-{cid}",
                status="open", created_at=datetime(2026, 10, 20, 1, 0, tzinfo=UTC),
            )
        )  # fmt: skip
        await s.flush()
        s.add_all(
            [
                Party(case_id=cid, role="applicant", name="张三", phone="13800138001", query_code_hash="h"),
                Party(case_id=cid, role="agent", name="赵律师", phone="13900139002", query_code_hash="h"),
                Party(case_id=cid, role="respondent", name="李四", phone="13700137003"),
            ]
        )
    return cid


def feedback(case_id: str, **overrides: object) -> SaveFeedbackInput:
    data: dict[str, object] = {
        "case_id": case_id,
        "feedback_id": str(uuid.uuid4()),
        "n": 1,
        "obligation_id": "feedback:1",
        "measures": "2026年11月21日冻结被执行人银行存款5万元。",
        "next_steps": "扣划冻结存款。",
        "applicant_tasks": "请提供被执行人其他财产线索。",
        "submitted_by": "wang",
        "submitted_at": datetime(2026, 11, 25, 2, 0, tzinfo=UTC),
        "late": False,
        "request_id": "req-1",
    }
    data.update(overrides)
    return SaveFeedbackInput.model_validate(data)


async def save(sessions: async_sessionmaker[AsyncSession], inp: SaveFeedbackInput) -> None:
    """The workflow's save_transition for a feedback, run as the worker would."""
    activities = TransitionActivities(sessions, Outbox(sessions, OutboxProvider()))
    await ActivityEnvironment().run(activities.save_transition, TransitionInput(case_id=inp.case_id, feedback=inp))


async def count(sessions: async_sessionmaker[AsyncSession], model: type[Feedback] | type[SmsMessage]) -> int:
    async with sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def test_save_feedback_twice_writes_one_row_the_last_write_standing(
    sessions: async_sessionmaker[AsyncSession], case_id: str
) -> None:
    inp = feedback(case_id)

    await save(sessions, inp.model_copy(update={"measures": "a failed workflow task's local write"}))
    await save(sessions, inp)

    assert await count(sessions, Feedback) == 1
    async with sessions() as s:
        row = await s.get(Feedback, inp.feedback_id)
    assert row is not None
    assert (row.case_id, row.n, row.obligation_id, row.request_id) == (case_id, 1, "feedback:1", "req-1")
    assert row.measures == inp.measures  # the recorded retry's
    assert row.submitted_at == inp.submitted_at
    assert row.reply is None and row.replied_at is None


async def test_voluntary_feedback_has_no_obligation(sessions: async_sessionmaker[AsyncSession], case_id: str) -> None:
    inp = feedback(case_id, obligation_id=None, n=2, late=False, request_id=None)

    await save(sessions, inp)

    async with sessions() as s:
        row = await s.get(Feedback, inp.feedback_id)
    assert row is not None and row.obligation_id is None and row.request_id is None


async def test_feedback_sms_tells_applicant_and_agent_once_without_the_full_text(
    sessions: async_sessionmaker[AsyncSession], case_id: str
) -> None:
    inp = feedback(case_id, n=2)
    await save(sessions, inp)
    notifier = Notifier.of(sessions, OutboxProvider())
    notice = NotifyInput(case_id=case_id, reason=f"feedback:{inp.feedback_id}")

    first = await notifier(notice)
    again = await notifier(notice)

    assert first == Delivery(sent=2, skipped=0)
    assert again == Delivery(sent=0, skipped=2)
    async with sessions() as s:
        rows = list(await s.scalars(select(SmsMessage).order_by(SmsMessage.id)))
        hashes = [p.query_code_hash for p in await s.scalars(select(Party).order_by(Party.id))]
    assert sorted(r.to for r in rows) == ["13800138001", "13900139002"]
    assert {r.body for r in rows} == {
        f"【{COURT_NAME}】您申请执行的{CASE_NUMBER}案件第2次执行进展已反馈，"
        "请凭身份证号码、手机号码和查询码登录查看全文并提出意见。承办人王承办，办公电话0871-61011001。"
    }
    assert hashes == ["h", "h", None]  # a feedback SMS never issues new query codes


async def test_feedback_sms_before_the_feedback_is_saved_fails_and_sends_nothing(
    sessions: async_sessionmaker[AsyncSession], case_id: str
) -> None:
    notifier = Notifier.of(sessions, OutboxProvider())
    notice = NotifyInput(case_id=case_id, reason="feedback:not-saved-yet")

    with pytest.raises(LookupError):
        await notifier(notice)

    assert await count(sessions, SmsMessage) == 0

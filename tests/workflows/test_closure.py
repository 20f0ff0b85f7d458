"""The applicant's clock on the time-skipping server: feedback checkpoints, 终本 guard, masking, follow-up."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from activities.public_lists import PublicEntry
from contracts.case import RESTORED, SUBMIT_FEEDBACK
from db.models import Case, HolidaySchedule, PublicListEntry
from domain.calendar import Calendar, ScheduledDay
from domain.clock import BEIJING, add_months, end_of_day
from domain.feedback import FeedbackResult, SubmitFeedbackInput
from domain.periods import compute_period
from tests.api.helpers import eventually
from tests.workflows.conftest import World, WorldFactory
from tests.workflows.test_case import handle_case, node, record
from tests.workflows.test_obligations import obligations, rungs, sleep_until, today

# National Day 2027 as an administrator would enter it (no published schedule for 2027): 1–7 October off,
# Sunday 26 September and Saturday 9 October worked.
NATIONAL_DAY_2027 = [ScheduledDay.of(date(2027, 10, d), "holiday", "国庆节") for d in range(1, 8)] + [
    ScheduledDay.of(date(2027, 9, 26), "workday", "国庆节调休"),
    ScheduledDay.of(date(2027, 10, 9), "workday", "国庆节调休"),
]


def due(calendar: Calendar, start: date, length: int, unit: str) -> datetime:
    return end_of_day(compute_period(calendar, start, length, unit).last_day)


async def test_thirteen_months_bring_feedback_at_1_6_9_and_12_months(
    time_env: WorkflowEnvironment, make_world: WorldFactory
) -> None:
    world = await make_world(time_env.client)
    filed = await today(time_env)
    case_id = handle_case(await world.file(filed))
    await time_env.sleep(timedelta(days=400))
    obs = await eventually(lambda: obligations(world, case_id), lambda o: "feedback:4" in o)
    calendar = Calendar()
    for n, months in enumerate((1, 6, 9, 12), start=1):
        checkpoint = compute_period(calendar, filed, months, "months").last_day
        assert obs[f"feedback:{n}"].due_at == due(calendar, checkpoint, 15, "days"), n
    assert "feedback:6" not in obs  # the 15-month checkpoint is still ahead
    # Nobody gave feedback: the first one climbed the whole ladder, once per rung.
    assert [r for r, _ in await rungs(world, case_id, "feedback:1")] == [
        "remind_open",
        "remind_due",
        "warn",
        "escalate",
        "escalate",
    ]


async def test_feedback_meets_the_checkpoint_and_tells_the_applicant(
    time_env: WorkflowEnvironment, make_world: WorldFactory
) -> None:
    world = await make_world(time_env.client)
    filed = await today(time_env)
    handle = await world.file(filed)
    case_id = handle_case(handle)
    await sleep_until(time_env, end_of_day(add_months(filed, 1)) + timedelta(days=2))
    given = await handle.execute_update(
        SUBMIT_FEEDBACK,
        SubmitFeedbackInput(
            request_id="f1",
            measures="已冻结银行存款",
            next_steps="拍卖房产",
            applicant_tasks="提供线索",
            submitted_by="handler",
        ),
        result_type=FeedbackResult,
    )
    assert (given.n, given.obligation_id, given.late) == (1, "feedback:1", False)
    obs = await eventually(lambda: obligations(world, case_id), lambda o: o["feedback:1"].status == "met")
    assert obs["feedback:1"].late is False
    sms = await eventually(lambda: world.sms(case_id), lambda rows: len(rows) == 2)
    assert sms[-1].reason == f"feedback:{given.feedback_id}"
    assert "查询码" not in sms[-1].body.split("请凭")[0]  # a short notice; no new query code is issued


async def test_zhongben_before_three_months_is_refused_with_the_reasons(
    time_env: WorkflowEnvironment, make_world: WorldFactory
) -> None:
    world = await make_world(time_env.client)
    now = (await time_env.get_current_time()).astimezone(BEIJING)
    handle = await world.file(now.date())
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await record(handle, node("end", "closure", now, mode="终本"))
    failure = refused.value.cause
    assert getattr(failure, "type", None) == "ZhongbenConditionsUnmet"
    for reason in ("未满3个月", "限制高消费", "网络查控", "终本约谈"):
        assert reason in str(failure), reason
    assert await world.nodes(handle_case(handle)) == []


class RefusingPublisher:
    """A public list that never confirms the masking: the mask-5wd ladder must escalate."""

    async def publish(self, entry: PublicEntry) -> None: ...

    async def lift(self, entry: PublicEntry) -> None: ...

    async def mask(self, entry: PublicEntry) -> None: ...

    async def confirm(self, case_id: str) -> list[str]:
        return ["dishonest"]


async def enter_schedule(world: World, days: list[ScheduledDay]) -> None:
    async with world.sessions.begin() as s:
        for d in days:
            s.add(
                HolidaySchedule(
                    year=d.day.year,
                    day=d.day,
                    kind=d.kind,
                    name=d.name,
                    entered_by="admin",
                    entered_at=datetime.now(UTC),
                )
            )


async def test_closure_before_national_day_masks_at_once(
    time_env: WorkflowEnvironment, make_world: WorldFactory
) -> None:
    world = await make_world(time_env.client)
    await enter_schedule(world, NATIONAL_DAY_2027)
    handle = await world.file(await today(time_env))
    case_id = handle_case(handle)
    closing = datetime(2027, 9, 30, 10, 0, tzinfo=BEIJING)  # the last working day before National Day
    await sleep_until(time_env, closing)
    await record(handle, node("end", "closure", closing, mode="执行完毕", recovered_amount="50000.00"))
    obs = await eventually(lambda: obligations(world, case_id), lambda o: o["mask-5wd"].status == "met")
    assert obs["mask-5wd"].late is False
    async with world.sessions() as s:
        entries = (await s.scalars(select(PublicListEntry).where(PublicListEntry.case_id == case_id))).all()
        case = await s.get(Case, case_id)
    assert entries and {e.status for e in entries} == {"masked"}
    # query-1m: one month ends on Saturday 30 October, a rest day, so it runs to Monday 1 November.
    assert case is not None and case.query_ends_at == end_of_day(date(2027, 11, 1))


async def test_unconfirmed_masking_escalates_on_the_fifth_working_day(
    time_env: WorkflowEnvironment, make_world: WorldFactory
) -> None:
    world = await make_world(time_env.client, publisher=RefusingPublisher())
    await enter_schedule(world, NATIONAL_DAY_2027)
    handle = await world.file(await today(time_env))
    case_id = handle_case(handle)
    closing = datetime(2027, 9, 30, 10, 0, tzinfo=BEIJING)
    await sleep_until(time_env, closing)
    await record(handle, node("end", "closure", closing, mode="执行完毕", recovered_amount="50000.00"))
    # 5 working days by the schedule: 8 Oct, 9 Oct (make-up Saturday), 11, 12, 13 Oct.
    deadline = end_of_day(date(2027, 10, 13))
    obs = await eventually(lambda: obligations(world, case_id), lambda o: "mask-5wd" in o)
    assert obs["mask-5wd"].due_at == deadline
    await sleep_until(time_env, deadline - timedelta(hours=1))
    assert [r for r, _ in await rungs(world, case_id, "mask-5wd")] == ["remind_open", "remind_due", "warn"]
    await sleep_until(time_env, deadline + timedelta(hours=1))
    fired = await eventually(lambda: rungs(world, case_id, "mask-5wd"), lambda r: len(r) == 5)
    assert [role for _, role in fired[3:]] == ["president", "discipline"]


async def test_zhongben_case_is_followed_up_every_six_months_until_restored(
    time_env: WorkflowEnvironment, make_world: WorldFactory
) -> None:
    world = await make_world(time_env.client)
    filed = await today(time_env)
    handle = await world.file(filed)
    case_id = handle_case(handle)
    await time_env.sleep(timedelta(days=95))
    now = (await time_env.get_current_time()).astimezone(BEIJING)
    for i, type_ in enumerate(
        ("notice_issued", "consumption_restriction", "network_inquiry", "field_inquiry", "termination_interview")
    ):
        at = now - timedelta(hours=5 - i)
        fields = {"scheduled_at": at.isoformat()} if type_ == "termination_interview" else {}
        await record(handle, node(f"n{i}", type_, at, **fields))
    await record(handle, node("ruling", "ruling_issued", now - timedelta(minutes=30)))
    await record(handle, node("end", "closure", now, mode="终本"))
    obs = await eventually(lambda: obligations(world, case_id), lambda o: "zhongben-5y:1" in o)
    assert obs["zhongben-5y:1"].due_at == due(Calendar(), now.date(), 6, "months")
    await time_env.sleep(timedelta(days=170))
    later = (await time_env.get_current_time()).astimezone(BEIJING)
    await record(handle, node("follow", "network_inquiry", later))  # a closed 终本 case still takes inquiries
    obs = await eventually(lambda: obligations(world, case_id), lambda o: "zhongben-5y:2" in o)
    assert obs["zhongben-5y:1"].status == "met"
    with pytest.raises(WorkflowUpdateFailedError):
        await record(handle, node("freeze", "freeze", later))  # but nothing else
    await handle.signal(RESTORED, {"case_number": "（2027）云0102执恢1号"})
    assert await handle.result() == "closed"

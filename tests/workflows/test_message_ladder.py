"""A party's message on the time-skipping server: unanswered after 3 working days it climbs the ladder (seed 001
第十条; seed 004: 临期预警执行局长，超期报告院长、纪检组长); answered in time, it stops there."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment

from api import messages
from api.messages import MessageIn, ReplyIn
from api.portal_auth import PortalUser
from api.routes.sms import list_sms
from db import queries
from db.models import Party, Staff
from domain.calendar import Calendar
from domain.clock import BEIJING, end_of_day
from domain.periods import compute_period
from tests.api.helpers import eventually
from tests.workflows.conftest import World, WorldFactory
from tests.workflows.test_case import handle_case
from tests.workflows.test_obligations import obligations, rungs, sleep_until

CALENDAR = Calendar()


async def _write(world: World, case_id: str, kind: str, text: str) -> str:
    """The applicant writes, through the API's own service (the row and its SMS, then the case's update)."""
    async with world.sessions() as s:
        case = await queries.case_by_id(s, case_id=case_id)
        assert case is not None
        party = await s.scalar(select(Party).where(Party.case_id == case_id, Party.role == "applicant"))
        assert party is not None
        body = MessageIn.model_validate({"kind": kind, "text": text})
        message_id, created = await messages.write_message(
            s, world.client, world.settings, me=PortalUser(party=party, case=case), body=body
        )
    assert created
    return message_id


async def _reply(world: World, case_id: str, message_id: str, username: str, text: str) -> None:
    async with world.sessions() as s:
        staff = await s.scalar(select(Staff).where(Staff.username == username))
        assert staff is not None
        out, created = await messages.reply(
            s,
            world.client,
            world.settings,
            staff=staff,
            case_id=case_id,
            message_id=message_id,
            body=ReplyIn(text=text),
        )
    assert created and out.reply == text


def _due(moment: datetime) -> datetime:
    """3 working days after the day of the message, to 24:00 Beijing time (the rule's local default)."""
    return end_of_day(compute_period(CALENDAR, moment.astimezone(BEIJING).date(), 3, "working_days").last_day)


async def test_an_unanswered_message_escalates_after_three_working_days(
    time_env: WorkflowEnvironment, make_world: WorldFactory
) -> None:
    world = await make_world(time_env.client)
    now = await time_env.get_current_time()
    case_id = handle_case(await world.file(now.astimezone(BEIJING).date()))
    message_id = await _write(world, case_id, "message", "请问案件进展如何？")
    ob_id = f"message:{message_id}"
    deadline = _due(now)
    row = (await eventually(lambda: obligations(world, case_id), lambda o: ob_id in o, seconds=30))[ob_id]
    assert row.due_at == deadline and row.status == "open"
    # Its own SMS told the handler: the ladder sends no second "opened" reminder.
    assert await rungs(world, case_id, ob_id) == []

    await sleep_until(time_env, deadline - timedelta(minutes=5))
    fired = await eventually(lambda: rungs(world, case_id, ob_id), lambda r: len(r) == 2, seconds=30)
    assert fired == [("remind_due", "handler"), ("warn", "bureau_chief")]
    await sleep_until(time_env, deadline + timedelta(hours=2))

    fired = await eventually(lambda: rungs(world, case_id, ob_id), lambda r: len(r) == 4, seconds=30)
    assert fired[2:] == [("escalate", "president"), ("escalate", "discipline")]
    escalations = [m.body for m in await world.sms(case_id, to="staff:") if "答复当事人留言" in m.body]
    assert sum("已超期" in body for body in escalations) == 2
    # Answered late: the clock is met and the lateness recorded.
    await _reply(world, case_id, message_id, "handler", "已冻结被执行人存款，正在扣划。")
    met = await eventually(lambda: obligations(world, case_id), lambda o: o[ob_id].status == "met", seconds=30)
    assert met[ob_id].late is True
    replies = [m for m in await world.sms(case_id) if m.reason == f"reply:{message_id}"]
    assert len(replies) == 1 and "已有答复" in replies[0].body


async def test_a_complaint_answered_in_time_reaches_no_leader(
    time_env: WorkflowEnvironment, make_world: WorldFactory
) -> None:
    world = await make_world(time_env.client)
    now = await time_env.get_current_time()
    case_id = handle_case(await world.file(now.astimezone(BEIJING).date()))
    complaint_id = await _write(world, case_id, "complaint", "承办人态度恶劣。")
    ob_id = f"complaint:{complaint_id}"
    await eventually(lambda: obligations(world, case_id), lambda o: ob_id in o, seconds=30)

    await time_env.sleep(timedelta(hours=20))
    await _reply(world, case_id, complaint_id, "discipline", "已核实并约谈承办人。")

    met = await eventually(lambda: obligations(world, case_id), lambda o: o[ob_id].status == "met", seconds=30)
    assert met[ob_id].late is False
    await sleep_until(time_env, _due(now) + timedelta(days=3))
    assert await rungs(world, case_id, ob_id) == []  # met before any rung: no one was chased
    alerts = [m for m in await world.sms(case_id, to="staff:") if m.reason == f"message:{complaint_id}"]
    async with world.sessions() as s:
        discipline = await s.scalar(select(Staff).where(Staff.username == "discipline"))
    assert discipline is not None
    assert [m.recipient for m in alerts] == [f"staff:{discipline.id}"]  # the discipline head alone, not the handler


async def _sms_seen_by(world: World, case_id: str, username: str) -> list[str]:
    """The case's SMS as GET /api/sms shows them to this staff member (the route's own function)."""
    async with world.sessions() as s:
        staff = await s.scalar(select(Staff).where(Staff.username == username))
        assert staff is not None
        return [m.body for m in await list_sms(case_id, staff, s)]


async def test_an_unanswered_complaint_climbs_to_the_leaders_and_the_handler_reads_of_it_nowhere(
    time_env: WorkflowEnvironment, make_world: WorldFactory
) -> None:
    world = await make_world(time_env.client)
    now = await time_env.get_current_time()
    case_id = handle_case(await world.file(now.astimezone(BEIJING).date()))
    complaint_id = await _write(world, case_id, "complaint", "承办人索要好处费。")
    ob_id = f"complaint:{complaint_id}"
    await eventually(lambda: obligations(world, case_id), lambda o: ob_id in o, seconds=30)

    await sleep_until(time_env, _due(now) + timedelta(hours=2))

    fired = await eventually(lambda: rungs(world, case_id, ob_id), lambda r: len(r) == 4, seconds=30)
    assert fired == [
        ("remind_due", "discipline"),
        ("warn", "bureau_chief"),
        ("escalate", "president"),
        ("escalate", "discipline"),
    ]
    handler_reads = " ".join(await _sms_seen_by(world, case_id, "handler"))
    assert "投诉" not in handler_reads  # neither the alert nor the ladder's SMS about it
    chief_reads = await _sms_seen_by(world, case_id, "bureau_chief")
    assert any("答复当事人投诉" in body for body in chief_reads)  # the ladder reaches the leaders
    assert not any("当事人投诉，请于" in body for body in chief_reads)  # the complaint itself: discipline only
    discipline_reads = await _sms_seen_by(world, case_id, "discipline")
    assert any("当事人投诉，请于" in body for body in discipline_reads)

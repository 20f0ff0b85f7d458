"""The deadline engine on the time-skipping server: obligations, the ladder, stays, extensions, restarts."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from contracts.case import DECIDE_EXTENSION, REQUEST_EXTENSION
from db.models import ObligationRow, Staff, SupervisionRecord
from domain.calendar import Calendar
from domain.clock import BEIJING, end_of_day, format_day, start_of_day
from domain.models import DecideExtensionInput, Extension, RequestExtensionInput
from domain.periods import compute_period, working_days_before
from tests.api.helpers import eventually
from tests.workflows.conftest import World, WorldFactory
from tests.workflows.test_case import handle_case, node, record

CALENDAR = Calendar()


def due(start: date, length: int, unit: str) -> datetime:
    """The due instant by the law's arithmetic, from the domain's period function."""
    return end_of_day(compute_period(CALENDAR, start, length, unit).last_day)


async def obligations(world: World, case_id: str) -> dict[str, ObligationRow]:
    async with world.sessions() as s:
        rows = await s.scalars(select(ObligationRow).where(ObligationRow.case_id == case_id))
        return {r.obligation_id: r for r in rows.all()}


async def rungs(world: World, case_id: str, obligation_id: str) -> list[tuple[str, str]]:
    """(rung, recipient role) of every supervision record of an obligation, in the order they were made."""
    async with world.sessions() as s:
        rows = await s.execute(
            select(SupervisionRecord.rung, Staff.role)
            .join(Staff, Staff.id == SupervisionRecord.staff_id)
            .where(SupervisionRecord.case_id == case_id, SupervisionRecord.obligation_id == obligation_id)
            .order_by(SupervisionRecord.id)
        )
        return [(r, role) for r, role in rows.all()]


async def sleep_until(env: WorkflowEnvironment, moment: datetime) -> None:
    await env.sleep(moment - await env.get_current_time())


async def today(env: WorkflowEnvironment) -> date:
    return (await env.get_current_time()).astimezone(BEIJING).date()


async def test_filing_opens_the_rules_with_exact_due_instants(
    time_env: WorkflowEnvironment, make_world: WorldFactory
) -> None:
    world = await make_world(time_env.client)
    filed = await today(time_env)
    case_id = handle_case(await world.file(filed))
    obs = await eventually(lambda: obligations(world, case_id), lambda o: {"term-6m", "feedback:1"} <= set(o))
    assert obs["investigate-1m"].due_at == due(filed, 1, "months")
    assert obs["term-6m"].due_at == due(filed, 6, "months")
    checkpoint = compute_period(CALENDAR, filed, 1, "months").last_day
    assert obs["feedback:1"].due_at == due(checkpoint, 15, "days")
    assert "assign-7d" not in obs  # the handler was named at filing


async def test_overdue_investigation_climbs_the_ladder_once_each(
    time_env: WorkflowEnvironment, make_world: WorldFactory
) -> None:
    world = await make_world(time_env.client)
    filed = await today(time_env)
    case_id = handle_case(await world.file(filed))
    deadline = due(filed, 1, "months")
    warn_day = working_days_before(CALENDAR, deadline.date(), 1)
    await eventually(lambda: rungs(world, case_id, "investigate-1m"), lambda r: len(r) == 1)
    await sleep_until(time_env, start_of_day(warn_day) - timedelta(hours=1))
    assert await rungs(world, case_id, "investigate-1m") == [("remind_open", "handler")]
    await sleep_until(time_env, start_of_day(warn_day) + timedelta(hours=1))
    fired = await eventually(lambda: rungs(world, case_id, "investigate-1m"), lambda r: len(r) == 3)
    assert fired == [("remind_open", "handler"), ("remind_due", "handler"), ("warn", "bureau_chief")]
    await sleep_until(time_env, deadline - timedelta(minutes=5))
    assert len(await rungs(world, case_id, "investigate-1m")) == 3  # not escalated before the day ends
    await sleep_until(time_env, deadline + timedelta(hours=2))
    fired = await eventually(lambda: rungs(world, case_id, "investigate-1m"), lambda r: len(r) == 5)
    assert fired[3:] == [("escalate", "president"), ("escalate", "discipline")]
    await time_env.sleep(timedelta(days=20))
    assert len(await rungs(world, case_id, "investigate-1m")) == 5  # each rung fires exactly once
    staff_sms = [m.body for m in await world.sms(case_id, to="staff:") if "财产调查" in m.body]
    assert len(staff_sms) == 5  # the handler twice, the bureau chief, the president and the discipline head
    assert sum("已超期" in body for body in staff_sms) == 2
    assert all(f"期限至{format_day(deadline.date())}" in body for body in staff_sms)
    # Meeting it late stops the ladder and records the lateness.
    now = (await time_env.get_current_time()).astimezone(BEIJING)
    await record(await world_handle(world, case_id), node("inquiry", "network_inquiry", now))
    row = (await eventually(lambda: obligations(world, case_id), lambda o: o["investigate-1m"].status == "met"))[
        "investigate-1m"
    ]
    assert row.late is True and row.level == 3


async def test_case_brought_in_with_a_past_filing_date_escalates_at_once(
    time_env: WorkflowEnvironment, make_world: WorldFactory
) -> None:
    world = await make_world(time_env.client)
    filed = await today(time_env) - timedelta(days=50)
    case_id = handle_case(await world.file(filed))
    fired = await eventually(lambda: rungs(world, case_id, "investigate-1m"), lambda r: len(r) == 5)
    assert [r for r, _ in fired] == ["remind_open", "remind_due", "warn", "escalate", "escalate"]
    term = (await obligations(world, case_id))["term-6m"]
    assert term.level == 0 and term.rungs_fired == ["remind_open"]  # the 6-month term is not yet near


async def test_stay_pauses_the_term_and_resumption_moves_it(
    time_env: WorkflowEnvironment, make_world: WorldFactory
) -> None:
    world = await make_world(time_env.client)
    filed = await today(time_env)
    handle = await world.file(filed)
    case_id = handle_case(handle)
    await time_env.sleep(timedelta(days=10))
    stayed = (await time_env.get_current_time()).astimezone(BEIJING)
    await record(handle, node("stay", "stay", stayed))
    paused = await eventually(lambda: obligations(world, case_id), lambda o: o["term-6m"].paused)
    assert paused["investigate-1m"].paused and not paused["feedback:1"].paused  # feedback goes on during a stay
    await time_env.sleep(timedelta(days=30))
    resumed = (await time_env.get_current_time()).astimezone(BEIJING)
    await record(handle, node("resume", "resumption", resumed))
    obs = await eventually(lambda: obligations(world, case_id), lambda o: not o["term-6m"].paused)
    days = (resumed.date() - stayed.date()).days
    assert obs["term-6m"].due_at == due(filed + timedelta(days=days), 6, "months")


async def test_extension_approved_by_the_president_moves_the_term(
    time_env: WorkflowEnvironment, make_world: WorldFactory
) -> None:
    world = await make_world(time_env.client)
    filed = await today(time_env)
    handle = await world.file(filed)
    case_id = handle_case(handle)
    asked = await handle.execute_update(
        REQUEST_EXTENSION,
        RequestExtensionInput(request_id="r1", months=3, reason="财产处置尚未完成", requested_by="handler"),
        result_type=Extension,
    )
    assert asked.status == "pending"
    decided = await handle.execute_update(
        DECIDE_EXTENSION,
        DecideExtensionInput(request_id="r1", approve=True, decided_by="president"),
        result_type=Extension,
    )
    assert decided.status == "approved"
    obs = await eventually(lambda: obligations(world, case_id), lambda o: o["term-6m"].due_at > due(filed, 6, "months"))
    assert obs["term-6m"].due_at == due(filed, 9, "months")
    await eventually(lambda: world.sms(case_id), lambda rows: any("执行期限已依法变更" in m.body for m in rows))
    changes = [n for n in await world.nodes(case_id) if n.type == "term_change"]  # the applicant is told
    assert [n.summary[:7] for n in changes] == ["执行期限延长3"]


async def test_extension_approved_after_expiry_ends_the_escalation_and_rearms_the_ladder(
    time_env: WorkflowEnvironment, make_world: WorldFactory
) -> None:
    """Asked in time, decided late: the term moves, the old escalation leaves the inbox, and the bureau chief is
    warned again before the new due day."""
    world = await make_world(time_env.client)
    filed = await today(time_env) - timedelta(days=75)  # no property: the term is 3 months
    handle = await world.file(filed, has_property=False)
    case_id = handle_case(handle)
    term_due = due(filed, 3, "months")
    await sleep_until(time_env, term_due - timedelta(days=8))
    await handle.execute_update(
        REQUEST_EXTENSION,
        RequestExtensionInput(request_id="r1", months=3, reason="拍卖尚未完成", requested_by="handler"),
        result_type=Extension,
    )
    await sleep_until(time_env, term_due + timedelta(days=2))
    await eventually(lambda: rungs(world, case_id, "term-6m"), lambda r: len(r) == 5)
    assert (await obligations(world, case_id))["term-6m"].level == 3
    await handle.execute_update(
        DECIDE_EXTENSION,
        DecideExtensionInput(request_id="r1", approve=True, decided_by="president"),
        result_type=Extension,
    )
    new_due = due(filed, 6, "months")
    term = (await eventually(lambda: obligations(world, case_id), lambda o: o["term-6m"].level == 0))["term-6m"]
    assert (term.due_at, term.status, term.rungs_fired) == (new_due, "open", ["remind_open"])
    assert await open_records(world, case_id, "term-6m") == [("remind_open", "handler")]
    warn_day = working_days_before(CALENDAR, new_due.date(), 1)
    await sleep_until(time_env, start_of_day(warn_day) + timedelta(hours=1))
    await eventually(lambda: open_records(world, case_id, "term-6m"), lambda r: len(r) == 3)
    assert await open_records(world, case_id, "term-6m") == [
        ("remind_open", "handler"),
        ("remind_due", "handler"),
        ("warn", "bureau_chief"),
    ]
    assert [r for r, _ in await rungs(world, case_id, "term-6m")].count("warn") == 2  # once per due day
    warned = [
        m.body for m in await world.sms(case_id, to="staff:") if "临期预警执行局长" in m.body and "执行期限" in m.body
    ]
    assert len(warned) == 2  # warned of the old day, then of the new one
    assert f"期限至{format_day(term_due.date())}" in warned[0] and f"期限至{format_day(new_due.date())}" in warned[1]


async def open_records(world: World, case_id: str, obligation_id: str) -> list[tuple[str, str]]:
    """The supervision records still shown in the recipients' inboxes."""
    async with world.sessions() as s:
        rows = await s.execute(
            select(SupervisionRecord.rung, Staff.role)
            .join(Staff, Staff.id == SupervisionRecord.staff_id)
            .where(
                SupervisionRecord.case_id == case_id,
                SupervisionRecord.obligation_id == obligation_id,
                SupervisionRecord.met_at.is_(None),
            )
            .order_by(SupervisionRecord.id)
        )
        return [(r, role) for r, role in rows.all()]


async def test_worker_restart_in_the_middle_loses_and_repeats_nothing(
    time_env: WorkflowEnvironment, make_world: WorldFactory
) -> None:
    world = await make_world(time_env.client, cache=False)  # every task replays the history from the server
    filed = await today(time_env)
    case_id = handle_case(await world.file(filed))
    deadline = due(filed, 1, "months")
    warn_day = working_days_before(CALENDAR, deadline.date(), 1)
    await sleep_until(time_env, start_of_day(warn_day) + timedelta(hours=1))
    await eventually(lambda: rungs(world, case_id, "investigate-1m"), lambda r: len(r) == 3)
    await world.worker.stop()
    await world.worker.start()
    await sleep_until(time_env, deadline + timedelta(days=3))
    fired = await eventually(lambda: rungs(world, case_id, "investigate-1m"), lambda r: len(r) == 5)
    assert [r for r, _ in fired] == ["remind_open", "remind_due", "warn", "escalate", "escalate"]
    staff_sms = [m.reason for m in await world.sms(case_id, to="staff:")]
    assert len(staff_sms) == len(set((m.reason, m.recipient) for m in await world.sms(case_id, to="staff:")))
    assert len(await world.sms(case_id)) == 1  # the filing SMS, once


async def world_handle(world: World, case_id: str) -> WorkflowHandle:
    return world.client.get_workflow_handle(f"case-{case_id}")

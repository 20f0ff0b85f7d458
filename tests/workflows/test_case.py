"""CaseWorkflow on the time-skipping server: filing, nodes, the entry-3d flag, idempotency, closure, restarts."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from contracts.case import RECORD_NODE
from domain.clock import BEIJING
from domain.models import CaseState, NodeResult, RecordNodeInput
from tests.api.helpers import eventually
from tests.workflows.conftest import WorldFactory


def node(key: str, type_: str, at: datetime, **fields: str) -> RecordNodeInput:
    return RecordNodeInput(idempotency_key=key, type=type_, occurred_at=at, fields=fields, recorded_by="handler")


async def record(handle: WorkflowHandle, inp: RecordNodeInput) -> NodeResult:
    return await handle.execute_update(RECORD_NODE, inp, result_type=NodeResult)


async def test_node_entered_on_day_four_is_late(time_env: WorkflowEnvironment, make_world: WorldFactory) -> None:
    world = await make_world(time_env.client)
    now = (await time_env.get_current_time()).astimezone(BEIJING)
    act = now - timedelta(minutes=30)
    handle = await world.file(act.date())  # the day of the act: shortly after midnight it is the day before
    on_time = await record(handle, node("a", "notice_issued", act))
    # Day 3 ends at 24:00; the 4th day after the act is late (seed 002 第二条).
    await time_env.sleep(act + timedelta(days=4, hours=1) - await time_env.get_current_time())
    late = await record(handle, node("b", "freeze", act))
    assert (on_time.late, late.late) == (False, True)
    stored = await eventually(lambda: world.nodes(handle_case(handle)), lambda ns: len(ns) == 2)
    assert [(n.type, n.late) for n in stored] == [("notice_issued", False), ("freeze", True)]


async def test_repeated_key_returns_the_same_node_and_sends_one_sms(
    time_env: WorkflowEnvironment, make_world: WorldFactory
) -> None:
    world = await make_world(time_env.client)
    now = (await time_env.get_current_time()).astimezone(BEIJING)
    handle = await world.file(now.date())
    first = await record(handle, node("same", "freeze", now))
    again = await record(handle, node("same", "freeze", now))
    assert again.node_id == first.node_id and again.created is False
    case_id = handle_case(handle)
    sms = await eventually(lambda: world.sms(case_id), lambda rows: len(rows) == 2 and rows[-1].status == "sent")
    assert [m.reason for m in sms] == ["filed", f"node:{first.node_id}"]
    assert len(await world.nodes(case_id)) == 1


async def test_repeat_sent_while_the_first_is_recorded_waits_for_its_result(
    time_env: WorkflowEnvironment, make_world: WorldFactory
) -> None:
    """Two requests with one key at once (say, from two API servers): both get the recorded node, lateness included."""
    world = await make_world(time_env.client)
    now = (await time_env.get_current_time()).astimezone(BEIJING)
    handle = await world.file(now.date() - timedelta(days=10))
    inp = node("twice", "freeze", now - timedelta(days=6))
    first, again = await asyncio.gather(
        *(handle.execute_update(RECORD_NODE, inp, id=update_id, result_type=NodeResult) for update_id in ("u1", "u2"))
    )
    assert first.node_id == again.node_id
    assert (first.late, again.late) == (True, True)
    assert sorted([first.created, again.created]) == [False, True]
    assert len(await world.nodes(handle_case(handle))) == 1


@pytest.mark.parametrize(
    ("type_", "shift", "fields", "kind"),
    [
        ("teleport", timedelta(0), {}, "UnknownNodeType"),
        ("freeze", timedelta(days=2), {}, "FutureTime"),
        ("freeze", -timedelta(days=3), {}, "BeforeFiling"),
        ("closure", timedelta(0), {"mode": "随便"}, "InvalidClosureMode"),
    ],
)
async def test_refused_node_leaves_no_history(
    time_env: WorkflowEnvironment,
    make_world: WorldFactory,
    type_: str,
    shift: timedelta,
    fields: dict[str, str],
    kind: str,
) -> None:
    world = await make_world(time_env.client)
    now = (await time_env.get_current_time()).astimezone(BEIJING)
    handle = await world.file(now.date())
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await record(handle, node("bad", type_, now + shift, **fields))
    assert getattr(refused.value.cause, "type", None) == kind
    events = (await handle.fetch_history()).events
    accepted = [e for e in events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED]
    assert len(accepted) == 1  # the filing update only: the refused node left nothing
    assert await world.nodes(handle_case(handle)) == []


async def test_closure_ends_the_case_and_refuses_later_nodes(
    time_env: WorkflowEnvironment, make_world: WorldFactory
) -> None:
    world = await make_world(time_env.client)
    now = (await time_env.get_current_time()).astimezone(BEIJING)
    handle = await world.file(now.date())
    closed = await record(handle, node("end", "closure", now, mode="执行完毕", recovered_amount="50000.00"))
    assert await handle.result() == "closed"
    sms = await world.sms(handle_case(handle))
    assert [m.reason for m in sms] == ["filed", f"node:{closed.node_id}"]
    assert "执行完毕" in sms[-1].body


async def test_worker_restart_in_the_middle_loses_and_repeats_nothing(
    time_env: WorkflowEnvironment, make_world: WorldFactory
) -> None:
    world = await make_world(time_env.client, cache=False)
    now = (await time_env.get_current_time()).astimezone(BEIJING)
    handle = await world.file(now.date())
    await record(handle, node("one", "freeze", now))
    await world.worker.stop()
    await world.worker.start()  # a new worker replays the history from the server
    await record(handle, node("two", "seizure", now))
    await record(handle, node("one", "freeze", now))
    case_id = handle_case(handle)
    sms = await eventually(lambda: world.sms(case_id), lambda rows: len(rows) == 3 and rows[-1].status == "sent")
    assert len({m.reason for m in sms}) == 3
    assert [n.type for n in await world.nodes(case_id)] == ["freeze", "seizure"]
    state = await handle.query("state", result_type=CaseState)
    assert state.node_count == 2 and set(state.processed) == {"one", "two"}


def handle_case(handle: WorkflowHandle) -> str:
    return handle.id.removeprefix("case-")

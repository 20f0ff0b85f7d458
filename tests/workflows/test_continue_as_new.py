"""Continue-as-new on the dev server: a long case spans several runs and forgets nothing (decision 7)."""

from __future__ import annotations

import itertools
import operator
import uuid
from datetime import datetime, timedelta
from functools import partial

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from api.history import case_history
from api.updates import execute_update
from contracts.case import RECORD_NODE
from domain.clock import BEIJING
from domain.models import CaseState, NodeResult, RecordNodeInput
from tests.api.helpers import eventually
from tests.workflows.conftest import World, WorldFactory

TYPES = ("notice_issued", "network_inquiry", "freeze", "seizure", "deduction", "field_inquiry", "fine", "service")


async def record(handle: WorkflowHandle, key: str, type_: str, at: datetime) -> NodeResult:
    inp = RecordNodeInput(idempotency_key=key, type=type_, occurred_at=at, recorded_by="handler")
    # The dev server here continues runs as new every few events: an update that lands as one does is sent again.
    update_id = f"{handle.id}:{key}:{uuid.uuid4()}"
    return await execute_update(
        handle, RECORD_NODE, inp, id=update_id, result_type=NodeResult, rpc_timeout=timedelta(seconds=30)
    )


async def record_in_runs(
    handle: WorkflowHandle, types: tuple[str, ...], at: datetime, *, per_run: int
) -> dict[str, NodeResult]:
    """Record ``per_run`` nodes, wait for the run to continue as new, and so on: a judge's pace, not a bulk import.

    While updates keep arriving the run postpones continue-as-new until its handlers are done, so nodes sent
    back to back would all land in one run.
    """
    results: dict[str, NodeResult] = {}
    run_id = await _run_id(handle)
    for i, type_ in enumerate(types):
        results[f"k{i}"] = await record(handle, f"k{i}", type_, at)
        if (i + 1) % per_run == 0:
            run_id = await eventually(lambda: _run_id(handle), partial(operator.ne, run_id), seconds=20)
    return results


async def _run_id(handle: WorkflowHandle) -> str:
    return (await handle.describe()).run_id


async def party_sms(world: World, handle: WorkflowHandle) -> list[str]:
    return [m.reason for m in await world.sms(handle.id.removeprefix("case-"), to="party:") if m.status == "sent"]


async def test_repeat_from_an_earlier_run_returns_the_first_node_and_sends_nothing(
    dev_env: WorkflowEnvironment, make_world: WorldFactory
) -> None:
    world = await make_world(dev_env.client)
    now = datetime.now(BEIJING)
    # Three nodes per run, and the dev server's own hint after 60 events: several runs for eight nodes.
    handle = await world.file(now.date(), max_events_per_run=3)
    first_run = (await handle.describe()).run_id
    first = await record_in_runs(handle, TYPES, now, per_run=3)
    assert all(r.created for r in first.values())
    assert len({r.node_id for r in first.values()}) == len(TYPES)

    history = await eventually(lambda: case_history(dev_env.client, handle.id), lambda h: len(h.runs) >= 3, seconds=30)
    assert len(history.runs) >= 3, [len(r.events) for r in history.runs]
    current = (await handle.describe()).run_id
    assert current != first_run
    sms = await eventually(lambda: party_sms(world, handle), lambda s: len(s) == 1 + len(TYPES))
    assert sorted(sms) == sorted(["filed", *(f"node:{r.node_id}" for r in first.values())])

    again = await record(handle, "k0", "notice_issued", now)
    assert (again.node_id, again.late, again.created) == (first["k0"].node_id, first["k0"].late, False)

    state = await handle.query("state", result_type=CaseState)
    assert state.node_count == len(TYPES)
    assert set(state.processed) == set(first)
    assert {k: r.node_id for k, r in state.processed.items()} == {k: r.node_id for k, r in first.items()}
    assert list(state.last_node_at) == list(TYPES)
    assert state.pending_notices == []
    nodes = await world.nodes(handle.id.removeprefix("case-"))
    assert [(n.seq, n.type) for n in nodes] == list(enumerate(TYPES, 1))
    assert sorted(await party_sms(world, handle)) == sorted(sms)  # the repeat sent nothing


async def test_history_lists_every_run_oldest_first(dev_env: WorkflowEnvironment, make_world: WorldFactory) -> None:
    world = await make_world(dev_env.client)
    now = datetime.now(BEIJING)
    handle = await world.file(now.date(), max_events_per_run=2)
    await record_in_runs(handle, TYPES[:6], now, per_run=2)
    await record(handle, "k0", TYPES[0], now)  # a repeat in the last run, answered from the carried state
    history = await eventually(lambda: case_history(dev_env.client, handle.id), lambda h: len(h.runs) >= 3)
    runs = history.runs
    assert len(runs) >= 3
    assert runs[-1].run_id == (await handle.describe()).run_id
    assert len({r.run_id for r in runs}) == len(runs)
    assert runs[0].events[0].summary.startswith("立案：")
    for earlier, later in itertools.pairwise(runs):
        assert earlier.events[-1].kind == "workflow_execution_continued_as_new", earlier.events[-1]
        assert later.events[0].summary.startswith("续新运行开始"), later.events[0]
        assert earlier.events[-1].time <= later.events[0].time
    recorded = [e.summary for r in runs for e in r.events if e.summary.startswith("受理：录入节点：")]
    assert len(recorded) == 7  # six nodes and the repeat, spread over the runs
    assert sum("发出执行通知书及报告财产令（notice_issued）" in s for s in recorded) == 2

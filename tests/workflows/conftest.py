"""Workflow tests: a real worker on a real Temporal server, cases stored in a migrated SQLite database."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Protocol

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import Client, WithStartWorkflowOperation, WorkflowExecutionStatus, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.service import RPCError

from activities import Deps
from activities.public_lists import PublicListPublisher
from activities.sms_providers import SmsProvider
from contracts.case import OPEN_CASE
from core.settings import Settings
from db.demo import seed
from db.engine import make_engine, make_sessions
from db.models import Case, Node, Party, SmsMessage, Staff
from domain.models import CaseInput, OpenCaseInput, OpenCaseResult
from tests.conftest import RunningWorker, make_settings, outbox
from workflows.case import CaseWorkflow

_numbers = iter(range(1, 10_000))


@dataclass
class World:
    client: Client
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    worker: RunningWorker
    handles: list[WorkflowHandle] = field(default_factory=list)

    async def file(
        self, filed_on: date, *, max_events_per_run: int = 2000, has_property: bool = True
    ) -> WorkflowHandle:
        """Store a case as the API would, then start its workflow with update-with-start."""
        case_id = str(uuid.uuid4())
        n = next(_numbers)
        async with self.sessions.begin() as s:
            handler = await s.scalar(select(Staff).where(Staff.username == "handler"))
            assert handler is not None
            case = Case(
                id=case_id,
                case_number=f"（{filed_on.year}）云0102执{n}号",
                court_code="YN0102",
                cause="民间借贷纠纷",
                amount=Decimal("50000.00"),
                filed_on=filed_on,
                has_property=has_property,
                handler_id=handler.id,
                registrar_id=handler.id,
                workflow_id=f"case-{case_id}",
                created_at=datetime.now(UTC),
            )
            case.parties = [
                Party(role="applicant", name="张三", id_number="530102199001011234", phone=f"139{n:08d}"),
                Party(
                    role="respondent", name="李四", id_number="530103198502023456", address="云南省昆明市五华区某路1号"
                ),
            ]
            s.add(case)
        start = WithStartWorkflowOperation(
            CaseWorkflow.run,
            CaseInput(
                case_id=case_id,
                case_number=case.case_number,
                court_code="YN0102",
                filed_on=filed_on,
                handler="handler",
                has_property=has_property,
                max_events_per_run=max_events_per_run,
            ),
            id=case.workflow_id,
            task_queue=self.settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
        await self.client.execute_update_with_start_workflow(
            OPEN_CASE, OpenCaseInput(request_id=case_id), start_workflow_operation=start, result_type=OpenCaseResult
        )
        handle = self.client.get_workflow_handle(case.workflow_id)
        self.handles.append(handle)
        return handle

    async def nodes(self, case_id: str) -> list[Node]:
        async with self.sessions() as s:
            return list((await s.scalars(select(Node).where(Node.case_id == case_id).order_by(Node.seq))).all())

    async def sms(self, case_id: str, *, to: str = "party:") -> list[SmsMessage]:
        """The case's messages to parties (``to="staff:"``: to court staff, the ladder's reminders)."""
        async with self.sessions() as s:
            query = select(SmsMessage).where(SmsMessage.case_id == case_id, SmsMessage.recipient.startswith(to))
            return list((await s.scalars(query.order_by(SmsMessage.id))).all())


async def _quiet(handle: WorkflowHandle) -> None:
    request = DescribeWorkflowExecutionRequest(
        namespace=handle._client.namespace, execution=WorkflowExecution(workflow_id=handle.id)
    )
    idle = 0
    for _ in range(400):
        # Raw: the test server returns datetime search attributes the SDK cannot decode.
        described = await handle._client.workflow_service.describe_workflow_execution(request)
        running = described.workflow_execution_info.status == WorkflowExecutionStatus.RUNNING.value
        # An activity on a retry (masking a list that never confirms) is not waited for: it may retry for ever.
        running_activities = [a for a in described.pending_activities if a.attempt <= 1]
        busy = running_activities or described.HasField("pending_workflow_task")
        idle = idle + 1 if not running or not busy else 0
        if idle >= 3:
            return
        await asyncio.sleep(0.05)


class WorldFactory(Protocol):
    def __call__(
        self,
        client: Client,
        *,
        cache: bool = True,
        publisher: PublicListPublisher | None = None,
        sms: SmsProvider | None = None,
    ) -> Awaitable[World]: ...


@pytest.fixture
async def make_world(sqlite_url: str) -> AsyncIterator[WorldFactory]:
    engine = make_engine(sqlite_url)
    sessions = make_sessions(engine)
    async with sessions() as s:
        await seed(s)
    worlds: list[World] = []

    async def factory(
        client: Client,
        *,
        cache: bool = True,
        publisher: PublicListPublisher | None = None,
        sms: SmsProvider | None = None,
    ) -> World:
        settings = make_settings(database_url=sqlite_url)
        worker = RunningWorker(client, settings, Deps(sessions, sms or outbox(), publisher), cache=cache)
        await worker.start()
        world = World(client, settings, sessions, worker)
        worlds.append(world)
        return world

    yield factory
    # End every case once its activities are done: the time-skipping server stays locked by an activity of a
    # terminated workflow, and never skips past a timer whose task no worker will take.
    for world in worlds:
        for handle in world.handles:
            await _quiet(handle)
            with contextlib.suppress(RPCError):
                await handle.terminate("test over")
    for world in worlds:
        if world.worker.worker is not None:
            await world.worker.stop()
    await engine.dispose()

"""A failing activity's failure, as Temporal stores it, holds no personal data (issue 9 item 9, decision 6): the
worker redacts every activity failure before handing it over, whatever the activity raised."""

from __future__ import annotations

import json
from typing import Any

from google.protobuf.json_format import MessageToJson
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from activities.public_lists import LocalPublisher
from contracts.activities import SEND_NOTICES
from db.models import Party
from domain.public_lists import PublicEntry
from tests.api.helpers import eventually
from tests.workflows.conftest import WorldFactory
from tests.workflows.test_obligations import today


class OutsideListOnTheDatabase:
    """Publishes each entry to an outside system's table with the party's full data, as an integration might; the
    table is missing, so every publication fails with a driver error that carries the row's parameters."""

    sessions: async_sessionmaker[AsyncSession] | None = None  # the world's, once it is made
    leaked: set[str]

    def __init__(self) -> None:
        self.leaked = set()

    async def publish(self, entry: PublicEntry) -> None:
        assert self.sessions is not None
        async with self.sessions.begin() as s:
            party = await s.scalar(select(Party).where(Party.id == entry.party_id))
            assert party is not None and party.id_number
            self.leaked |= {party.name, party.id_number}
            await s.execute(
                text("INSERT INTO outside_list (name, id_number) VALUES (:name, :id_number)"),
                {"name": party.name, "id_number": party.id_number},
            )

    async def lift(self, entry: PublicEntry) -> None:
        return None

    async def mask(self, entry: PublicEntry) -> None:
        return None

    async def confirm(self, case_id: str) -> list[str]:
        assert self.sessions is not None
        return await LocalPublisher(self.sessions).confirm(case_id)


async def _pending(handle: WorkflowHandle) -> list[Any]:
    request = DescribeWorkflowExecutionRequest(
        namespace=handle._client.namespace, execution=WorkflowExecution(workflow_id=handle.id)
    )
    described = await handle._client.workflow_service.describe_workflow_execution(request)
    return [p for p in described.pending_activities if p.attempt >= 2 and p.HasField("last_failure")]


async def test_a_failing_activity_s_failure_in_temporal_has_no_id_number_name_or_statement(
    time_env: WorkflowEnvironment, make_world: WorldFactory
) -> None:
    outside = OutsideListOnTheDatabase()
    world = await make_world(time_env.client, publisher=outside)
    outside.sessions = world.sessions

    handle = await world.file(await today(time_env))

    [failing] = await eventually(lambda: _pending(handle), lambda p: len(p) == 1, seconds=30)
    failure = failing.last_failure
    assert failing.activity_type.name == SEND_NOTICES  # the listing among the unfinished cases, in the notices lane
    assert failure.application_failure_info.type == "OperationalError"  # the kind is kept: retry policies match it
    assert not failure.application_failure_info.non_retryable  # still retried until the database is back
    assert "no such table: outside_list" in failure.message
    history = json.loads((await handle.fetch_history()).to_json())
    stored = MessageToJson(failure, ensure_ascii=False) + json.dumps(history, ensure_ascii=False)
    assert outside.leaked
    for secret in (*outside.leaked, "[parameters: (", "[SQL: INSERT"):
        assert secret not in stored, secret

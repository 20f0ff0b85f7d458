import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from temporalio.client import WithStartWorkflowOperation, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy

from tests.conftest import RunningWorker, outbox, make_settings
from activities import Deps
from db.engine import make_engine, make_sessions
from domain.models import CaseInput, OpenCaseInput, RecordNodeInput
from workflows.case import CaseWorkflow


async def test_probe(time_env, sqlite_url):
    s = make_settings(database_url=sqlite_url)
    eng = make_engine(sqlite_url)
    w = RunningWorker(time_env.client, s, Deps(make_sessions(eng), outbox()))
    await w.start()
    cid = str(uuid.uuid4())
    op = WithStartWorkflowOperation(
        CaseWorkflow.run, CaseInput(case_id=cid, case_number="x", court_code="YN0102", filed_on=date(2026, 11, 20)),
        id=f"case-{cid}", task_queue=s.task_queue, id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    try:
        r = await time_env.client.execute_update_with_start_workflow(CaseWorkflow.open_case, OpenCaseInput(request_id="a"), start_workflow_operation=op)
        print(r)
    except Exception as e:
        print("ERR", repr(e), repr(e.__cause__))
    await w.stop()

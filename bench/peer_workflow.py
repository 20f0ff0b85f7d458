"""The bare peer of CaseWorkflow for bench.peer_baseline: one activity per update, nothing else.

It takes the product's own payloads (``CaseInput``, ``OpenCaseInput``, ``RecordNodeInput``, ``NodeResult``)
through the product's data converter, so the difference measured is the engine's work, not payload sizes.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from domain.models import (
        CaseInput,
        NodeResult,
        OpenCaseInput,
        OpenCaseResult,
        RecordedNode,
        RecordNodeInput,
    )


class SaveNodeInput(BaseModel):
    """The bare peer's activity input: the node to save with its outbox row."""

    case_id: str
    node: RecordedNode


PEER_SAVE_CASE = "peer_save_case"
PEER_SAVE_NODE = "peer_save_node"
PEER_OPEN = "open_case"
PEER_RECORD = "record_node"
PEER_CLOSE = "close"

# As the product's DB_RETRY and DB_TIMEOUT (workflows/case.py).
RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
TIMEOUT = timedelta(seconds=30)


@workflow.defn(name="PeerCaseWorkflow")
class PeerCaseWorkflow:
    @workflow.init
    def __init__(self, inp: CaseInput) -> None:
        self._inp = inp
        self._opened = False
        self._opening = False
        self._closed = False
        self._seq = 0

    @workflow.run
    async def run(self, inp: CaseInput) -> str:
        await workflow.wait_condition(lambda: self._closed and workflow.all_handlers_finished())
        return "closed"

    @workflow.update(name=PEER_OPEN)
    async def open_case(self, inp: OpenCaseInput) -> OpenCaseResult:
        """Update-with-start: one activity saves the case row and its filing SMS outbox row."""
        if not self._opened and not self._opening:
            self._opening = True
            await workflow.execute_activity(
                PEER_SAVE_CASE, self._inp, start_to_close_timeout=TIMEOUT, retry_policy=RETRY, summary="save case"
            )
            self._opened = True
        await workflow.wait_condition(lambda: self._opened)
        return OpenCaseResult(case_id=self._inp.case_id, status="open")

    @workflow.update(name=PEER_RECORD)
    async def record_node(self, inp: RecordNodeInput) -> NodeResult:
        """One activity saves the node row and its SMS outbox row, in one transaction."""
        self._seq += 1
        now = workflow.now()
        node = RecordedNode(
            node_id=str(workflow.uuid4()),
            seq=self._seq,
            type=inp.type,
            occurred_at=inp.occurred_at,
            entered_at=now,
            late=False,
            disclose=True,
            summary=inp.summary,
            fields=inp.fields,
            idempotency_key=inp.idempotency_key,
            recorded_by=inp.recorded_by,
        )
        await workflow.execute_activity(
            PEER_SAVE_NODE,
            SaveNodeInput(case_id=self._inp.case_id, node=node),
            start_to_close_timeout=TIMEOUT,
            retry_policy=RETRY,
            summary="save node",
        )
        workflow.logger.info("node recorded", extra={"case_id": self._inp.case_id, "node_type": inp.type})
        return NodeResult(node_id=node.node_id, late=False)

    @workflow.signal(name=PEER_CLOSE)
    def close(self) -> None:
        self._closed = True

"""CaseWorkflow: one enforcement case (执行案件), the only writer of its process state (decision 1)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.names import MARK_CASE_CLOSED, MARK_CASE_OPEN, NOTIFY_PARTIES, SAVE_NODE
    from domain.clock import is_late_entry
    from domain.errors import CaseClosed, YgError
    from domain.models import (
        CaseClosedInput,
        CaseInput,
        CaseOpenedInput,
        CaseState,
        NodeResult,
        NotifyInput,
        NotifyResult,
        OpenCaseInput,
        OpenCaseResult,
        RecordedNode,
        RecordNodeInput,
        SaveNodeInput,
    )
    from domain.node_rules import check_node
    from domain.nodes import node_type
    from workflows import search_attributes as sa

# Database writes and SMS are retried until they succeed: a deadline or a message is never dropped.
DB_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
SMS_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    maximum_interval=timedelta(minutes=10),
    non_retryable_error_types=["PermanentSmsError"],
)
DB_TIMEOUT = timedelta(seconds=30)

# Update names, for callers that need them untyped (the SDK's typing of async update handlers is loose).
OPEN_CASE = "open_case"
RECORD_NODE = "record_node"
SMS_TIMEOUT = timedelta(minutes=2)


@workflow.defn(name="CaseWorkflow")
class CaseWorkflow:
    @workflow.init
    def __init__(self, inp: CaseInput) -> None:
        self._inp = inp
        self._state = inp.state or CaseState()
        self._events_this_run = 0

    @workflow.run
    async def run(self, inp: CaseInput) -> str:
        if not self._state.opened:
            await workflow.execute_activity(
                MARK_CASE_OPEN,
                CaseOpenedInput(case_id=inp.case_id, opened_at=workflow.now()),
                start_to_close_timeout=DB_TIMEOUT,
                retry_policy=DB_RETRY,
                summary="登记立案 (case opened in the read model)",
            )
            self._state.opened = True
            await self._notify("filed", None, "立案短信 (filing SMS with query codes)")
        while True:
            await workflow.wait_condition(
                lambda: (
                    bool(self._state.pending_notices)
                    or self._state.status == "closed"
                    or self._should_continue_as_new()
                )
            )
            while self._state.pending_notices:
                node_id = self._state.pending_notices[0]
                await self._notify(f"node:{node_id}", node_id, f"节点短信 (node SMS) {node_id}")
                self._state.pending_notices.pop(0)
            if self._state.status == "closed":
                await workflow.wait_condition(workflow.all_handlers_finished)
                if not self._state.pending_notices:
                    workflow.logger.info("case closed", extra={"case_id": inp.case_id})
                    return "closed"
            elif self._should_continue_as_new():
                await workflow.wait_condition(workflow.all_handlers_finished)
                if not self._state.pending_notices:
                    workflow.continue_as_new(inp.model_copy(update={"state": self._state}))

    def _should_continue_as_new(self) -> bool:
        """Continue as new when the server suggests it or this run has handled many events (decision 7)."""
        return workflow.info().is_continue_as_new_suggested() or self._events_this_run >= self._inp.max_events_per_run

    async def _notify(self, reason: str, node_id: str | None, summary: str) -> None:
        await workflow.execute_activity(
            NOTIFY_PARTIES,
            NotifyInput(case_id=self._inp.case_id, reason=reason, node_id=node_id),
            result_type=NotifyResult,
            start_to_close_timeout=SMS_TIMEOUT,
            retry_policy=SMS_RETRY,
            summary=summary,
        )

    @workflow.update(name=OPEN_CASE)
    async def open_case(self, inp: OpenCaseInput) -> OpenCaseResult:
        """The update sent with update-with-start: returns once the filing is in the read model."""
        await workflow.wait_condition(lambda: self._state.opened)
        return OpenCaseResult(case_id=self._inp.case_id, status=self._state.status)

    @workflow.update(name=RECORD_NODE)
    async def record_node(self, inp: RecordNodeInput) -> NodeResult:
        """Record a node; a repeated idempotency key returns the first result (decision 2)."""
        done = self._state.processed.get(inp.idempotency_key)
        if done is not None:
            return done.model_copy(update={"created": False})
        nt = node_type(inp.type)
        assert nt is not None  # the validator refused unknown types
        now = workflow.now()
        self._state.node_count += 1
        self._events_this_run += 1
        node = RecordedNode(
            node_id=str(workflow.uuid4()),
            seq=self._state.node_count,
            type=nt.code,
            occurred_at=inp.occurred_at,
            entered_at=now,
            late=is_late_entry(inp.occurred_at, now),
            disclose=nt.disclosed if inp.disclose is None else inp.disclose,
            summary=inp.summary,
            fields=inp.fields,
            idempotency_key=inp.idempotency_key,
            recorded_by=inp.recorded_by,
        )
        result = NodeResult(node_id=node.node_id, late=node.late)
        self._state.processed[inp.idempotency_key] = result
        self._state.node_types.append(nt.code)
        closing = nt.code == "closure"
        if closing:
            self._state.status = "closed"
            self._state.closed_at = now
        await workflow.execute_activity(
            SAVE_NODE,
            SaveNodeInput(case_id=self._inp.case_id, node=node),
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
            summary=f"保存节点 (save node) {nt.name} {node.node_id}",
        )
        if closing:
            workflow.upsert_search_attributes([sa.STATUS.value_set("closed")])
            await workflow.execute_activity(
                MARK_CASE_CLOSED,
                CaseClosedInput(case_id=self._inp.case_id, closed_at=now),
                start_to_close_timeout=DB_TIMEOUT,
                retry_policy=DB_RETRY,
                summary="登记结案 (case closed in the read model)",
            )
        if node.disclose:
            self._state.pending_notices.append(node.node_id)
        workflow.logger.info(
            "node recorded", extra={"case_id": self._inp.case_id, "node_type": nt.code, "late": node.late}
        )
        return result

    @record_node.validator
    def _check_record_node(self, inp: RecordNodeInput) -> None:
        """Refuse before anything is written to history: closed case, unknown type, bad time (API.md)."""
        if inp.idempotency_key in self._state.processed:
            return
        try:
            if self._state.status == "closed":
                raise CaseClosed("案件已结案，不能再录入节点")
            check_node(
                type_code=inp.type,
                occurred_at=inp.occurred_at,
                fields=inp.fields,
                filed_on=self._inp.filed_on,
                now=workflow.now(),
            )
        except YgError as e:
            raise ApplicationError(e.detail, type=e.kind, non_retryable=True) from None

    @workflow.query(name="state")
    def state(self) -> CaseState:
        return self._state

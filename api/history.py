"""A case's workflow history in domain terms, over every run (continue-as-new included), decrypted for admins."""

from __future__ import annotations

from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent as Event
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api.schemas import HistoryEvent, HistoryOut, HistoryRun
from domain.errors import NotFound, Unavailable
from domain.nodes import node_type

# Workflow-task bookkeeping says nothing about the case; it is shown only on request.
_BOOKKEEPING = {
    EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
    EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED,
}


async def case_history(client: Client, workflow_id: str, *, include_tasks: bool = False) -> HistoryOut:
    """Walk back from the newest run through each run's predecessor, then list the runs oldest first."""
    try:
        run_id: str | None = (await client.get_workflow_handle(workflow_id).describe()).run_id
        runs: list[HistoryRun] = []
        while run_id:
            history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
            events = list(history.events)
            runs.append(HistoryRun(run_id=run_id, events=await _describe(client, events, include_tasks)))
            started = events[0].workflow_execution_started_event_attributes if events else None
            run_id = started.continued_execution_run_id if started else None
    except RPCError as e:
        if e.status == RPCStatusCode.NOT_FOUND:
            raise NotFound("案件流程历史不存在（可能已超过保留期）", kind="HistoryNotFound") from None
        raise Unavailable("流程服务暂不可用 (Temporal unavailable)", kind="TemporalUnavailable") from e
    runs.reverse()
    return HistoryOut(workflow_id=workflow_id, runs=runs)


async def _describe(client: Client, events: list[Event], include_tasks: bool) -> list[HistoryEvent]:
    scheduled: dict[int, str] = {}
    accepted: dict[int, str] = {}
    out: list[HistoryEvent] = []
    for e in events:
        if e.event_type in _BOOKKEEPING and not include_tasks:
            continue
        summary = await _summary(client, e, scheduled, accepted)
        kind = EventType.Name(e.event_type).removeprefix("EVENT_TYPE_").lower()
        out.append(HistoryEvent(event_id=e.event_id, time=e.event_time.ToDatetime(), kind=kind, summary=summary))
    return out


async def _decode(client: Client, payloads: Any) -> list[Any]:
    if not payloads:
        return []
    try:
        return await client.data_converter.decode(list(payloads))
    except Exception:  # a payload of another key or format: say so rather than fail the page
        return ["(无法解密)"]


async def _text(client: Client, payload: Payload) -> str:
    if not payload.data:
        return ""
    values = await _decode(client, [payload])
    return str(values[0]) if values else ""


async def _summary(client: Client, e: Event, scheduled: dict[int, str], accepted: dict[int, str]) -> str:
    """One line in court terms for one event."""
    t = e.event_type
    meta = await _text(client, e.user_metadata.summary) if e.HasField("user_metadata") else ""
    if t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
        a = e.workflow_execution_started_event_attributes
        if a.continued_execution_run_id:
            return "续新运行开始，承接上一运行的全部状态 (continued as new)"
        return "立案：案件流程启动 (case workflow started)"
    if t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
        req = e.workflow_execution_update_accepted_event_attributes.accepted_request
        text = await _update_text(client, req.input.name, req.input.args.payloads)
        accepted[e.event_id] = text
        return f"受理：{text}"
    if t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
        done = e.workflow_execution_update_completed_event_attributes
        what = accepted.get(done.accepted_event_id, "请求")
        if done.outcome.HasField("failure"):
            return f"未完成：{what}（{done.outcome.failure.message}）"
        values = await _decode(client, done.outcome.success.payloads)
        late = values and isinstance(values[0], dict) and values[0].get("late")
        return f"完成：{what}" + ("（逾期录入）" if late else "")
    if t == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        name = e.activity_task_scheduled_event_attributes.activity_type.name
        scheduled[e.event_id] = meta or name
        return f"开始：{meta or name}"
    if t == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
        return f"完成：{scheduled.get(e.activity_task_completed_event_attributes.scheduled_event_id, '')}"
    if t == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
        failed = e.activity_task_failed_event_attributes
        return f"失败（将重试）：{scheduled.get(failed.scheduled_event_id, '')}：{failed.failure.message}"
    if t == EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
        return f"超时（将重试）：{scheduled.get(e.activity_task_timed_out_event_attributes.scheduled_event_id, '')}"
    if t == EventType.EVENT_TYPE_TIMER_STARTED:
        timer = e.timer_started_event_attributes
        return f"计时开始：{meta or '计时器'}，时长{timer.start_to_fire_timeout.ToTimedelta()}"
    if t == EventType.EVENT_TYPE_TIMER_FIRED:
        return "计时届满 (timer fired)"
    if t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
        return f"收到信号：{e.workflow_execution_signaled_event_attributes.signal_name}"
    if t == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
        return "更新检索属性（法院、状态、承办人代码）"
    if t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
        return "续新 (continue-as-new)：本运行结束，状态转入新运行"
    if t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
        return "案件流程结束 (workflow completed)"
    if t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
        return f"流程失败：{e.workflow_execution_failed_event_attributes.failure.message}"
    if t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
        return f"流程被终止：{e.workflow_execution_terminated_event_attributes.reason}"
    if t == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
        return "流程任务失败（将重试）"
    return meta or EventType.Name(t).removeprefix("EVENT_TYPE_").lower()


async def _update_text(client: Client, name: str, payloads: Any) -> str:
    if name == "open_case":
        return "立案登记 (open case)"
    if name == "record_node":
        values = await _decode(client, payloads)
        arg = values[0] if values and isinstance(values[0], dict) else {}
        nt = node_type(str(arg.get("type", "")))
        label = f"{nt.name}（{nt.code}）" if nt else str(arg.get("type", ""))
        return f"录入节点：{label}，发生时间{arg.get('occurred_at', '')}，录入人{arg.get('recorded_by', '')}"
    return f"请求：{name}"

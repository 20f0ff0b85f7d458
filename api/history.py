"""A case's workflow history in domain terms, over every run (continue-as-new included), decrypted for admins;
and what the workflow waits on now: its pending activities, with their attempts and last failure.

A failure's message may carry what the failing statement was given (SQL parameters: names, ID numbers,
phones): only its first line is shown, with anything that looks like a parameter cut out."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from temporalio.api.common.v1 import Payload, WorkflowExecution
from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import HistoryEvent as Event
from temporalio.api.workflow.v1 import PendingActivityInfo
from temporalio.api.workflowservice.v1 import GetWorkflowExecutionHistoryReverseRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api.schemas import HistoryEvent, HistoryOut, HistoryRun, PendingActivity
from domain.errors import NotFound, Unavailable
from domain.nodes import node_type

# Workflow-task bookkeeping says nothing about the case; it is shown only on request.
_BOOKKEEPING = {
    EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
    EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED,
}


def _benign_task_failure(e: Event) -> bool:
    """A workflow task the server refused because new events arrived while it completed (an SMS sent as the case
    continued as new): the task simply runs again with them; a real failure (a bug) stays visible."""
    cause = e.workflow_task_failed_event_attributes.cause
    return (
        e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
        and cause == WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND
    )


async def case_history(client: Client, workflow_id: str, *, include_tasks: bool = False) -> HistoryOut:
    """Walk back from the newest run through each run's predecessor, then list the runs oldest first."""
    try:
        described = await client.get_workflow_handle(workflow_id).describe()
        run_id: str | None = described.run_id
        waiting = list(described.raw_description.pending_activities)
        pending: list[PendingActivity] = []
        runs: list[HistoryRun] = []
        while run_id:
            history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
            events = list(history.events)
            if not runs:  # the newest run: the one whose activities are pending
                scheduled = await scheduled_activities(client, events, {p.activity_id for p in waiting})
                pending = [pending_activity(p, scheduled.get(p.activity_id)) for p in waiting]
            runs.append(HistoryRun(run_id=run_id, events=await _describe(client, events, include_tasks)))
            started = events[0].workflow_execution_started_event_attributes if events else None
            run_id = started.continued_execution_run_id if started else None
    except RPCError as e:
        if e.status == RPCStatusCode.NOT_FOUND:
            raise NotFound("案件流程历史不存在（可能已超过保留期）", kind="HistoryNotFound") from None
        raise Unavailable("流程服务暂不可用 (Temporal unavailable)", kind="TemporalUnavailable") from e
    runs.reverse()
    return HistoryOut(workflow_id=workflow_id, runs=runs, pending=pending)


# --- what the workflow waits on ------------------------------------------------------------------------------

_PARAMETERS = [
    re.compile(r"\[(?:SQL|parameters)\b.*", re.DOTALL),  # SQLAlchemy's statement and parameters
    re.compile(r"(?:DETAIL|KEY|Key)\b.*", re.DOTALL),  # a driver's detail: "Key (id_number)=(…)"
    re.compile(r"=\s*\([^)]*\)"),  # key=(value)
    re.compile(r"'[^']*'?|\"[^\"]*\"?|“[^”]*”?|‘[^’]*’?|「[^」]*」?"),  # quoted values
    re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+"),  # e-mail addresses
    # ID numbers, phone numbers, account numbers, amounts; not the digits inside an id like a case's UUID
    re.compile(r"(?<![0-9A-Za-z-])\+?\d[\d\s-]{4,}\d[Xx]?(?![0-9A-Za-z-])"),
]
FAILURE_CHARS = 160


def failure_text(failure: Failure) -> tuple[str, str]:
    """The failure's kind (its exception type) and its first line with anything like a parameter cut out."""
    if failure.HasField("application_failure_info"):
        kind = failure.application_failure_info.type or "ApplicationError"
    elif failure.HasField("timeout_failure_info"):
        kind = "Timeout"
    elif failure.HasField("canceled_failure_info"):
        kind = "Canceled"
    else:
        kind = "Failure"
    line = failure.message.strip().splitlines()[0] if failure.message.strip() else ""
    for pattern in _PARAMETERS:
        line = pattern.sub("…", line)
    line = re.sub(r"(?:…\s*)+", "… ", line).strip()
    if len(line) > FAILURE_CHARS:
        line = line[: FAILURE_CHARS - 1] + "…"
    return kind, line


def pending_activity(p: PendingActivityInfo, scheduled: tuple[datetime, str] | None) -> PendingActivity:
    """One pending activity; ``scheduled`` is when it was first scheduled and its summary, from the history."""
    kind, text = failure_text(p.last_failure) if p.HasField("last_failure") else (None, None)
    since, summary = scheduled or (p.scheduled_time.ToDatetime(tzinfo=UTC), "")
    return PendingActivity(
        activity=p.activity_type.name,
        summary=summary,
        attempt=p.attempt,
        failure_kind=kind,
        last_failure=text,
        since=since,
        next_attempt_at=(
            p.next_attempt_schedule_time.ToDatetime(tzinfo=UTC) if p.HasField("next_attempt_schedule_time") else None
        ),
    )


async def scheduled_activities(
    client: Client, events: Iterable[Event], activity_ids: set[str]
) -> dict[str, tuple[datetime, str]]:
    """When each of these activities was scheduled (its first attempt: retries add no event), and its summary."""
    found: dict[str, tuple[datetime, str]] = {}
    for e in events:
        if e.event_type != EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            continue
        activity_id = e.activity_task_scheduled_event_attributes.activity_id
        if activity_id in activity_ids:
            summary = await _text(client, e.user_metadata.summary) if e.HasField("user_metadata") else ""
            found[activity_id] = (e.event_time.ToDatetime(tzinfo=UTC), summary)
    return found


async def recent_scheduled_activities(
    client: Client, workflow_id: str, run_id: str, activity_ids: set[str], *, max_pages: int = 3
) -> dict[str, tuple[datetime, str]]:
    """``scheduled_activities`` from the newest events of the run only (read backwards, a few pages at most)."""
    found: dict[str, tuple[datetime, str]] = {}
    token = b""
    for _ in range(max_pages):
        page = await client.workflow_service.get_workflow_execution_history_reverse(
            GetWorkflowExecutionHistoryReverseRequest(
                namespace=client.namespace,
                execution=WorkflowExecution(workflow_id=workflow_id, run_id=run_id),
                maximum_page_size=200,
                next_page_token=token,
            )
        )
        found |= await scheduled_activities(client, page.history.events, activity_ids - set(found))
        token = page.next_page_token
        if not token or set(found) >= activity_ids:
            break
    return found


async def _describe(client: Client, events: list[Event], include_tasks: bool) -> list[HistoryEvent]:
    scheduled: dict[int, str] = {}
    accepted: dict[int, str] = {}
    out: list[HistoryEvent] = []
    for e in events:
        if (e.event_type in _BOOKKEEPING or _benign_task_failure(e)) and not include_tasks:
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
        kind, text = failure_text(failed.failure)
        return f"失败：{scheduled.get(failed.scheduled_event_id, '')}：{kind}：{text}"
    if t == EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
        return f"超时（将重试）：{scheduled.get(e.activity_task_timed_out_event_attributes.scheduled_event_id, '')}"
    if t == EventType.EVENT_TYPE_MARKER_RECORDED:  # a local activity (periods, the transition's write) ran
        marker = e.marker_recorded_event_attributes
        if marker.HasField("failure"):
            kind, text = failure_text(marker.failure)
            return f"失败（将重试）：{meta or marker.marker_name}：{kind}：{text}"
        return f"完成：{meta or marker.marker_name}"
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
    if name == "case_event":
        values = await _decode(client, payloads)
        arg = values[0] if values and isinstance(values[0], dict) else {}
        event = str(arg.get("event", ""))
        return f"案件事件：{EVENT_NAMES.get(event, event)}（{arg.get('key', '')}）"
    return f"请求：{name}"


# What the events of CASE_EVENT are, in court terms (a party's message is named, never quoted: the text is not in
# the history at all, only its id).
EVENT_NAMES = {
    "message": "当事人留言",
    "complaint": "当事人投诉",
    "reply": "答复留言或投诉",
    "eservice_reminder": "电子送达提醒",
    "downloaded": "当事人下载文书",
}

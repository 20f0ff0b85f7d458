"""The activities the case workflow calls: their names, their options, and typed stubs.

A workflow calls ``await schedule_periods(requests)`` and gets ``list[Schedule]`` back, typed; the stub runs
the activity by name, so no activity code enters the workflow sandbox. The implementations in ``activities/``
register under the same names (``build_activities``)."""

from __future__ import annotations

from datetime import timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import Priority, RetryPolicy

from domain.models import (
    Notice,
    NoticesInput,
    ScheduleInput,
    ScheduleResult,
    TransitionInput,
    TransitionResult,
)
from domain.obligations import PeriodRequest, Schedule
from domain.public_lists import MaskInput, MaskResult, PublicListChange, PublicListNodeInput

SCHEDULE_PERIODS = "schedule_periods"
SAVE_TRANSITION = "save_transition"
SEND_NOTICES = "send_notices"
APPLY_NODE_TO_PUBLIC_LISTS = "apply_node_to_public_lists"
MASK_CASE_ENTRIES = "mask_case_entries"

# Database writes and SMS are retried until they succeed: a deadline or a message is never dropped.
DB_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
SMS_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    maximum_interval=timedelta(minutes=10),
    non_retryable_error_types=["PermanentSmsError"],
)
# Masking is retried until every public list confirms; the mask-5wd ladder escalates meanwhile (seed 002 第十二条).
MASK_RETRY = RetryPolicy(initial_interval=timedelta(minutes=1), maximum_interval=timedelta(hours=1))
DB_TIMEOUT = timedelta(seconds=30)
# A local activity still failing after this waits for its next attempt on a durable timer, outside the workflow
# task: a database outage does not hold a workflow task (or a worker's shutdown) open.
LOCAL_RETRY_THRESHOLD = timedelta(seconds=5)
SMS_TIMEOUT = timedelta(minutes=2)  # several recipients, each up to the provider's 30 s HTTP timeout
# An SMS activity heartbeats before each message: a worker killed while sending is noticed within this, not
# after SMS_TIMEOUT, and the retry sends only what did not go (the outbox looks each row up first).
SMS_HEARTBEAT = timedelta(seconds=45)

# Ordinary activities get a worker slot only while the machine has CPU to spare (worker.py). One a person's request
# waits on goes ahead of the lanes' queued work (Temporal's task priority: 1 first, 3 when unset, 5 last).
WAITED_ON = Priority(priority_key=1)

R = TypeVar("R")


async def _local(name: str, arg: object, result_type: type[R], summary: str) -> R:
    """A step of the transition itself (its periods, its rows): a local activity, run by the worker that runs the
    workflow task, so an update answers after one workflow task instead of a round trip through the server.

    A workflow task that fails after a local activity ran (a killed worker, an update that landed as the run
    continued as new) runs it again, and only the task that succeeds records its result. So a local write must
    converge to that last run: its rows are keyed by ids the workflow derives from the request, never drawn at
    random (``CaseWorkflow._stable_id``), and a snapshot of the same version overwrites (db/read_model.py)."""
    return await workflow.execute_local_activity(
        name,
        arg,
        result_type=result_type,
        start_to_close_timeout=DB_TIMEOUT,
        retry_policy=DB_RETRY,
        local_retry_threshold=LOCAL_RETRY_THRESHOLD,
        summary=summary,
    )


async def _db(name: str, arg: object, result_type: type[R], summary: str) -> R:
    """A read-model activity inside a request (a node's public lists): retried until it succeeds, so nothing is
    dropped, and ahead of the lanes' queued work."""
    return await workflow.execute_activity(
        name,
        arg,
        result_type=result_type,
        start_to_close_timeout=DB_TIMEOUT,
        retry_policy=DB_RETRY,
        summary=summary,
        priority=WAITED_ON,
    )


async def schedule_periods(requests: list[PeriodRequest]) -> list[Schedule]:
    """Every period of one transition, with its ladder times, on the legal calendar (decision 3)."""
    keys = "、".join(r.key for r in requests)
    result = await _local(
        SCHEDULE_PERIODS, ScheduleInput(requests=requests), ScheduleResult, f"计算期限 (periods) {keys}"
    )
    return result.schedules


async def save_transition(inp: TransitionInput) -> TransitionResult:
    """One transaction of the read model: the node, the clocks, the rungs fired, the case's status."""
    node = f"保存节点 (save node) {inp.node.type} {inp.node.node_id}" if inp.node else ""
    parts = [node, f"期限 {len(inp.obligations)}" if inp.obligations else ""]
    parts += [f"督办 {len(inp.firings)}" if inp.firings else "", "立案" if inp.opened else ""]
    parts += ["结案" if inp.closing else "", "申请" if inp.extension else "", "指定承办人" if inp.assignment else ""]
    summary = "写入 (read model) " + " ".join(p for p in parts if p)
    return await _local(SAVE_TRANSITION, inp, TransitionResult, summary)


async def send_notices(case_id: str, notices: list[Notice]) -> None:
    """What the case announces, in one activity: SMS queued and sent, the staff SMS of rung batches sent, the
    listing among the unfinished cases. Each is keyed, so a retry sends and lists nothing twice."""
    await workflow.execute_activity(
        SEND_NOTICES,
        NoticesInput(case_id=case_id, notices=notices),
        start_to_close_timeout=SMS_TIMEOUT,
        heartbeat_timeout=SMS_HEARTBEAT,
        retry_policy=SMS_RETRY,
        summary=_batch_summary(notices),
    )


def _batch_summary(notices: list[Notice], shown: int = 3) -> str:
    """The first few notices by name (a provider down for a day leaves many waiting), and how many in all."""
    names = "、".join(_notice_summary(n) for n in notices[:shown])
    return names if len(notices) <= shown else f"{names} 等{len(notices)}条"


def _notice_summary(notice: Notice) -> str:
    kind, _, ref = notice.reason.partition(":")
    names = {"filed": "立案短信 (filing SMS)", "node": "节点短信 (node SMS)", "feedback": "反馈短信 (feedback SMS)"}
    names |= {  # a change of the parties that sent query codes (api/parties.py)
        "agent": "代理人查询码短信 (agent's query code)",
        "dismissal": "解除委托新查询码短信 (new query code)",
        "correction": "更正号码新查询码短信 (new query code)",
    }
    names |= {"request": "审批申请短信 (to the approvers)", "decision": "审批结果短信 (to the requester)"}
    names |= {"message": "留言、投诉短信 (to whoever answers it)", "reply": "答复短信 (to the party)"}  # messages
    names |= {"listed": "列入未结案件公开名单 (public list)"}
    return f"{names.get(kind, '督办短信 (ladder SMS)')} {ref}".strip()


async def apply_node_to_public_lists(case_id: str, node_id: str) -> None:
    inp = PublicListNodeInput(case_id=case_id, node_id=node_id)
    await _db(APPLY_NODE_TO_PUBLIC_LISTS, inp, PublicListChange, "公开名单 (public lists)")


async def mask_case_entries(case_id: str) -> None:
    """Mask every public entry of the case; returns once every list confirmed (seed 002 第十二条)."""
    await workflow.execute_activity(
        MASK_CASE_ENTRIES,
        MaskInput(case_id=case_id, lists=None, reason="closure"),
        result_type=MaskResult,
        start_to_close_timeout=SMS_TIMEOUT,
        retry_policy=MASK_RETRY,
        summary="屏蔽公开名单 (mask public lists until every list confirms)",
    )

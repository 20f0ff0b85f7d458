"""Where an update's time goes, read from workflow histories (server timestamps): for bench.vs_peer.

For each completed update it takes the span from the moment the server had it (the workflow task that accepted it
was scheduled; for update-with-start, the workflow started) to ``UpdateCompleted``, and the serial steps inside:
workflow tasks (queue wait, time on the worker) and activities (queue wait, run), by activity type. The client's
latency minus that span is what happens outside Temporal's history: for the product the API's own work (token,
case and key reads, the guard, the filing transaction) plus the RPC, for the peer the SDK's RPC alone.

Nothing here changes what is measured; it reads histories after the measured rounds.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from bench.api_load import percentile


@dataclass
class UpdateSpan:
    workflow_id: str
    update_id: str
    name: str
    start_ms: float
    end_ms: float
    wft_queue: list[float] = field(default_factory=list)
    wft_worker: list[float] = field(default_factory=list)
    activities: list[tuple[str, float, float]] = field(default_factory=list)  # (type, queue ms, run ms)

    @property
    def span(self) -> float:
        return self.end_ms - self.start_ms


async def update_spans(client: Client, workflow_ids: list[str]) -> list[UpdateSpan]:
    """Every completed update of these workflows with the workflow tasks and activities inside its span."""
    out: list[UpdateSpan] = []
    for wf in workflow_ids:
        hist = await client.get_workflow_handle(wf).fetch_history()
        at: dict[int, float] = {}
        wft_sched: dict[int, float] = {}  # WFT scheduled event id → time
        wft_started: dict[int, tuple[float, float]] = {}  # WFT started id → (scheduled ms, started ms)
        wfts: list[tuple[float, float, float]] = []  # (scheduled, started, completed)
        acts_sched: dict[int, tuple[str, float]] = {}
        acts_started: dict[int, float] = {}
        acts: list[tuple[str, float, float, float]] = []  # (type, scheduled, started, completed)
        started_at: float | None = None
        last_wft_sched = 0.0
        open_: dict[str, tuple[str, float]] = {}  # update id → (name, start)
        done: list[tuple[str, str, float, float]] = []
        for ev in hist.events:
            ms = ev.event_time.ToMicroseconds() / 1000
            at[ev.event_id] = ms
            et = ev.event_type
            if et == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
                started_at = ms
            elif et == EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
                wft_sched[ev.event_id] = ms
                last_wft_sched = ms
            elif et == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
                sch = ev.workflow_task_started_event_attributes.scheduled_event_id
                wft_started[ev.event_id] = (wft_sched.get(sch, ms), ms)
            elif et in (
                EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
                EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
                EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
            ):
                attrs = (
                    ev.workflow_task_completed_event_attributes
                    if et == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
                    else ev.workflow_task_failed_event_attributes
                    if et == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
                    else None
                )
                if attrs is not None and attrs.started_event_id in wft_started:
                    s, st = wft_started[attrs.started_event_id]
                    wfts.append((s, st, ms))
            elif et == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                acts_sched[ev.event_id] = (ev.activity_task_scheduled_event_attributes.activity_type.name, ms)
            elif et == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
                acts_started[ev.activity_task_started_event_attributes.scheduled_event_id] = ms
            elif et == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
                a = ev.activity_task_completed_event_attributes
                name, s = acts_sched[a.scheduled_event_id]
                acts.append((name, s, acts_started.get(a.scheduled_event_id, s), ms))
            elif et == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
                acc = ev.workflow_execution_update_accepted_event_attributes
                uid, name = acc.accepted_request.meta.update_id, acc.accepted_request.input.name
                # With update-with-start the request came with the start; otherwise the workflow task that
                # accepted it was scheduled when the server received it (a speculative task, or the next one).
                with_start = started_at is not None and len(wfts) <= 1 and not done and not open_
                open_[uid] = (name, started_at if with_start and started_at is not None else last_wft_sched)
            elif et == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
                uid = ev.workflow_execution_update_completed_event_attributes.meta.update_id
                if uid in open_:
                    name, start = open_.pop(uid)
                    done.append((uid, name, start, ms))
        for uid, name, start, end in done:
            u = UpdateSpan(wf, uid, name, start, end)
            for s, st, c in wfts:
                if start - 0.5 <= s and c <= end + 0.5:
                    u.wft_queue.append(st - s)
                    u.wft_worker.append(c - st)
            for name_, s, st, c in acts:
                if start - 0.5 <= s and c <= end + 0.5:
                    u.activities.append((name_, st - s, c - st))
            out.append(u)
    return out


def key(workflow_id: str, update_id: str) -> str:
    return f"{workflow_id}/{update_id}"


def summarize(spans: list[UpdateSpan], latency: dict[str, float] | None = None) -> dict[str, Any]:
    """Medians and per-update means of the steps; ``latency`` ("workflow id/update id" → client ms) gives what
    lies outside the history. With ``latency``, only the updates it names are summarized (the measured ones)."""
    if latency is not None:
        spans = [u for u in spans if key(u.workflow_id, u.update_id) in latency]
    if not spans:
        return {"n": 0}
    n = len(spans)
    act_count: Counter[str] = Counter()
    act_queue: dict[str, list[float]] = {}
    act_run: dict[str, list[float]] = {}
    for u in spans:
        for name, q, r in u.activities:
            act_count[name] += 1
            act_queue.setdefault(name, []).append(q)
            act_run.setdefault(name, []).append(r)
    wft_n = [len(u.wft_queue) for u in spans]
    out: dict[str, Any] = {
        "n": n,
        "span p50 ms": percentile([u.span for u in spans], 50),
        "workflow tasks per update (mean)": sum(wft_n) / n,
        "activities per update (mean)": sum(act_count.values()) / n,
        "activities per update by type (mean)": {k: round(v / n, 2) for k, v in act_count.most_common()},
        "per update, summed p50 ms: workflow task queue": percentile([sum(u.wft_queue) for u in spans], 50),
        "per update, summed p50 ms: workflow task on worker": percentile([sum(u.wft_worker) for u in spans], 50),
        "per update, summed p50 ms: activity queue": percentile(
            [sum(q for _, q, _ in u.activities) for u in spans], 50
        ),
        "per update, summed p50 ms: activity run": percentile([sum(r for _, _, r in u.activities) for u in spans], 50),
        "one workflow task p50 ms: queue / worker": (
            percentile([x for u in spans for x in u.wft_queue], 50),
            percentile([x for u in spans for x in u.wft_worker], 50),
        ),
        "activity run p50 ms by type": {k: round(percentile(v, 50), 1) for k, v in act_run.items()},
        "activity queue p50 ms by type": {k: round(percentile(v, 50), 1) for k, v in act_queue.items()},
    }
    if latency:
        lat = [latency[key(u.workflow_id, u.update_id)] for u in spans]
        out["client latency p50 ms"] = percentile(lat, 50)
        out["client latency − span, p50 ms (outside the history)"] = percentile(
            [x - u.span for x, u in zip(lat, spans, strict=True)], 50
        )
    return out


def describe(title: str, s: dict[str, Any]) -> list[str]:
    lines = [f"## {title}"]
    for k, v in s.items():
        if isinstance(v, float):
            v = round(v, 1)
        elif isinstance(v, tuple):
            v = " / ".join(f"{x:.1f}" for x in v)
        lines.append(f"- {k}: {v}")
    return lines

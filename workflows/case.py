"""CaseWorkflow: one enforcement case (执行案件), the only writer of its process state (decision 1)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.names import (
        FIRE_RUNG,
        MARK_CASE_CLOSED,
        MARK_CASE_OPEN,
        NOTIFY_PARTIES,
        SAVE_EXTENSION,
        SAVE_NODE,
        SAVE_OBLIGATION,
    )
    from domain.clock import BEIJING, beijing_date, format_day, start_of_day
    from domain.errors import CaseClosed, Conflict, InvalidInput, NotFound, YgError
    from domain.feedback import SAVE_FEEDBACK, SUBMIT_FEEDBACK, FeedbackResult, SaveFeedbackInput, SubmitFeedbackInput
    from domain.models import (
        CaseClosedInput,
        CaseInput,
        CaseOpenedInput,
        CaseState,
        DecideExtensionInput,
        Extension,
        FireRungInput,
        FireRungResult,
        NodeResult,
        NotifyInput,
        NotifyResult,
        Obligation,
        OpenCaseInput,
        OpenCaseResult,
        RecordedNode,
        RecordNodeInput,
        RequestExtensionInput,
        RequestZhongbenInput,
        RestoredInput,
        SaveExtensionInput,
        SaveNodeInput,
        SaveObligationInput,
    )
    from domain.node_rules import check_node
    from domain.nodes import node_type
    from domain.period_models import COMPUTE_DUE, WARN_AT, DueInput, DueResult, WarnInput, WarnResult
    from domain.public_lists import (
        APPLY_NODE_TO_PUBLIC_LISTS,
        LIST_UNFINISHED_CASE,
        MASK_CASE_ENTRIES,
        CaseListInput,
        MaskInput,
        MaskResult,
        PublicListChange,
        PublicListNodeInput,
    )
    from domain.rules import LEVELS, RUNG_NAMES, feedback_checkpoint_months, rule_set
    from domain.zhongben import ZHONGBEN_MODE, unmet_conditions
    from workflows import search_attributes as sa

# Database writes and SMS are retried until they succeed: a deadline or a message is never dropped.
DB_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
SMS_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    maximum_interval=timedelta(minutes=10),
    non_retryable_error_types=["PermanentSmsError"],
)
DB_TIMEOUT = timedelta(seconds=30)

T = TypeVar("T")

# Update names, for callers that need them untyped (the SDK's typing of async update handlers is loose).
OPEN_CASE = "open_case"
RECORD_NODE = "record_node"
REQUEST_EXTENSION = "request_extension"
DECIDE_EXTENSION = "decide_extension"
CALENDAR_CHANGED = "calendar_changed"
REQUEST_ZHONGBEN = "request_zhongben_exception"
RESTORED = "restored"
# Masking is retried until every public list confirms; the mask-5wd ladder escalates meanwhile (seed 002 第十二条).
MASK_RETRY = RetryPolicy(initial_interval=timedelta(minutes=1), maximum_interval=timedelta(hours=1))
SMS_TIMEOUT = timedelta(minutes=2)


@workflow.defn(name="CaseWorkflow")
class CaseWorkflow:
    @workflow.init
    def __init__(self, inp: CaseInput) -> None:
        self._inp = inp
        self._state = inp.state or CaseState()
        self._rules = rule_set(inp.rule_version)
        self._events_this_run = 0
        self._changed = False  # an update or signal changed the obligations: recompute the next wake-up
        self._recompute_unconfirmed = False
        self._visible: tuple[object, ...] | None = None
        self._masking = False
        self._mask_task: asyncio.Task[None] | None = None
        self._recording: set[str] = set()  # idempotency keys whose node is being recorded now

    @workflow.run
    async def run(self, inp: CaseInput) -> str:
        if not self._state.opened:
            await self._db(
                MARK_CASE_OPEN,
                CaseOpenedInput(case_id=inp.case_id, opened_at=workflow.now()),
                "登记立案 (case opened in the read model)",
            )
            await self._db(
                LIST_UNFINISHED_CASE, CaseListInput(case_id=inp.case_id), "列入未结案件公开名单", PublicListChange
            )
            await self._open_filing_obligations()
            self._state.opened = True
            await self._notify("filed", None, "立案短信 (filing SMS with query codes)")
        elif self._mask_obligations():
            self._start_masking()  # a run that continued as new picks up unconfirmed masking
        while True:
            await self._publish_visibility()
            wake = self._next_wake()
            timeout = max(wake[1] - workflow.now(), timedelta(0)) if wake else None
            self._changed = False
            with contextlib.suppress(asyncio.TimeoutError):  # the timeout is the next rung's time: not an error
                await workflow.wait_condition(
                    lambda: (
                        bool(self._state.pending_notices)
                        or self._changed
                        or self._recompute_unconfirmed
                        or (self._state.status == "closed" and not self._open_obligations() and not self._masking)
                        or self._should_continue_as_new()
                    ),
                    timeout=timeout,
                    timeout_summary=f"等待期限 {wake[0]} (next ladder rung)" if wake else None,
                )
            await self._fire_due_rungs()
            if self._recompute_unconfirmed:
                self._recompute_unconfirmed = False
                for ob in self._open_obligations():
                    if not ob.confirmed:
                        await self._schedule(ob)
                        await self._save(ob)
            while self._state.pending_notices:
                node_id = self._state.pending_notices[0]
                await self._notify(f"node:{node_id}", node_id, f"节点短信 (node SMS) {node_id}")
                self._state.pending_notices.pop(0)
            if self._state.status == "closed" and not self._open_obligations() and not self._masking:
                await workflow.wait_condition(workflow.all_handlers_finished)
                if not self._state.pending_notices and not self._open_obligations():
                    await self._publish_visibility()
                    workflow.logger.info("case closed", extra={"case_id": inp.case_id})
                    return "closed"
            elif self._should_continue_as_new() and not self._masking:
                # Notices still pending ride along in the state: the next run sends them (the outbox dedupes).
                await workflow.wait_condition(lambda: workflow.all_handlers_finished() and not self._masking)
                workflow.continue_as_new(inp.model_copy(update={"state": self._state}))

    def _should_continue_as_new(self) -> bool:
        """Continue as new when the server suggests it or this run has handled many events (decision 7)."""
        return workflow.info().is_continue_as_new_suggested() or self._events_this_run >= self._inp.max_events_per_run

    async def _db(self, activity: str, arg: object, summary: str, result_type: type[T] | None = None) -> Any:
        """A read-model or calendar activity: retried until it succeeds, so nothing is dropped."""
        return await workflow.execute_activity(
            activity,
            arg,
            result_type=result_type,
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
            summary=summary,
        )

    async def _notify(self, reason: str, node_id: str | None, summary: str) -> None:
        await workflow.execute_activity(
            NOTIFY_PARTIES,
            NotifyInput(case_id=self._inp.case_id, reason=reason, node_id=node_id),
            result_type=NotifyResult,
            start_to_close_timeout=SMS_TIMEOUT,
            retry_policy=SMS_RETRY,
            summary=summary,
        )

    # --- obligations and the ladder (decision 4) -------------------------------------------------------

    async def _open_filing_obligations(self) -> None:
        """Rules started by filing, counted from the filing date even when it lies in the past."""
        filed = start_of_day(self._inp.filed_on)
        term = self._rules.rule("term-6m")
        months = term.length if self._inp.has_property else term.params["no_property_months"]
        opening = [
            self._open("investigate-1m", "investigate-1m", "财产调查（网络查控）", filed),
            self._open("term-6m", "term-6m", f"执行期限（{months}个月）", filed, length=months),
            self._open_feedback(1),
        ]
        if not self._inp.handler:
            opening.insert(0, self._open("assign-7d", "assign-7d", "确定承办人", filed))
        await asyncio.gather(*opening)  # independent: their calendar activities run side by side
        self._state.obligations.sort(key=lambda ob: ob.due_at)

    async def _open_feedback(self, n: int) -> None:
        """The n-th progress feedback: due 15 days after its checkpoint (seed 002 第五条)."""
        months = feedback_checkpoint_months(n, self._rules)
        checkpoint = await self._due(start_of_day(self._inp.filed_on), months, "months")
        self._state.feedback_count = n
        await self._open(f"feedback:{n}", "feedback", f"第{n}次执行进展反馈（立案满{months}个月）", checkpoint.due_at)

    async def _open(
        self,
        ob_id: str,
        rule_id: str,
        subject: str,
        start: datetime,
        *,
        length: int | None = None,
        met_by: list[str] | None = None,
    ) -> Obligation:
        rule = self._rules.rule(rule_id)
        ob = Obligation(
            id=ob_id,
            rule=rule_id,
            subject=subject,
            opened_at=max(start, start_of_day(self._inp.filed_on)),
            start=start,
            length=length or rule.length,
            unit=rule.unit,
            met_by=met_by if met_by is not None else list(rule.met_by),
            due_at=start,
            remind_at=start,
            warn_at=start,
        )
        await self._schedule(ob)
        self._state.obligations.append(ob)
        self._changed = True
        await self._save(ob)
        return ob

    async def _schedule(self, ob: Obligation) -> None:
        """Due instant and ladder times by the legal calendar, computed by an activity (decision 3)."""
        due = await self._due(ob.start, ob.length, ob.unit)
        ob.due_at, ob.confirmed = due.due_at, due.confirmed
        ladder = self._rules.ladder
        ob.remind_at = await self._warn(ob.due_at, ladder.remind_before_working_days)
        ob.warn_at = (
            ob.remind_at
            if ladder.warn_before_working_days == ladder.remind_before_working_days
            else await self._warn(ob.due_at, ladder.warn_before_working_days)
        )
        # A moved deadline (an extension, a stay deducted, a schedule entered) re-arms the rungs still ahead of
        # it: the bureau chief is warned again before the new due day, and an escalation of the old one ends
        # (ladder, seed 004: each rung warns of the deadline as it now stands).
        times, now = ob.rung_times(), workflow.now()
        ob.rungs_fired = [r for r in ob.rungs_fired if r == "remind_open" or times[r] <= now]
        self._changed = True

    async def _due(self, start: datetime, length: int, unit: str) -> DueResult:
        return await self._db(
            COMPUTE_DUE,
            DueInput(start=start, length=length, unit=unit),
            f"计算期限 (legal period) {length} {unit} from {format_day(beijing_date(start))}",
            result_type=DueResult,
        )

    async def _warn(self, due_at: datetime, working_days: int) -> datetime:
        result = await self._db(
            WARN_AT,
            WarnInput(due_at=due_at, working_days=working_days),
            f"计算提醒日 (warning day) {working_days} working days before {format_day(beijing_date(due_at))}",
            result_type=WarnResult,
        )
        return result.at

    async def _save(self, ob: Obligation) -> None:
        await self._db(
            SAVE_OBLIGATION,
            SaveObligationInput(case_id=self._inp.case_id, obligation=ob),
            f"保存期限 (obligation) {ob.id} {ob.status}",
        )

    def _open_obligations(self) -> list[Obligation]:
        return [ob for ob in self._state.obligations if ob.status == "open"]

    def _next_wake(self) -> tuple[str, datetime] | None:
        """The earliest unfired rung of any open, running obligation."""
        rungs = self._pending_rungs()
        if not rungs:
            return None
        at, ob, rung = min(rungs, key=lambda r: r[0])
        return f"{ob.id} {RUNG_NAMES[rung]}", at

    def _pending_rungs(self) -> list[tuple[datetime, Obligation, str]]:
        pending = []
        for ob in self._open_obligations():
            nxt = ob.next_rung()
            if nxt is not None:
                pending.append((nxt[1], ob, nxt[0]))
        return pending

    async def _fire_due_rungs(self) -> None:
        """Fire every rung whose time has come, in time order; each fires once (state and a unique row)."""
        while True:
            now = workflow.now()
            due = [r for r in self._pending_rungs() if r[0] <= now]
            if not due:
                return
            _, ob, rung = min(due, key=lambda d: d[0])
            await workflow.execute_activity(
                FIRE_RUNG,
                FireRungInput(case_id=self._inp.case_id, obligation=ob, rung=rung),
                result_type=FireRungResult,
                start_to_close_timeout=SMS_TIMEOUT,
                retry_policy=SMS_RETRY,
                summary=f"督办 (ladder) {RUNG_NAMES[rung]}: {ob.subject}",
            )
            ob.rungs_fired.append(rung)
            self._events_this_run += 1
            await self._save(ob)
            if ob.rule == "feedback" and rung == "remind_open" and self._state.status == "open":
                await self._open_feedback(self._state.feedback_count + 1)

    async def _meet(self, ob: Obligation, at: datetime, status: str = "met") -> None:
        """Meet (or end at closure) an obligation; late when after its due instant. Higher rungs stop."""
        ob.status = "met" if status == "met" else "ended"
        ob.met_at = at
        ob.late = at > ob.due_at
        self._changed = True
        await self._save(ob)

    async def _apply_node(self, node: RecordedNode) -> None:
        """What a node does to the clocks: meets obligations, opens entry-3d, pauses or resumes the term."""
        now = workflow.now()
        for ob in self._open_obligations():
            if node.type not in ob.met_by:
                continue
            if ob.rule == "entry-3d" and node.occurred_at < start_of_day(beijing_date(ob.start)):
                continue  # the announcement of a scheduled act does not record the act itself
            await self._meet(ob, now)
            if ob.rule == "zhongben-5y":
                await self._open_follow_up()
            if ob.rule in ("entry-3d", "zhongben-5y"):
                break
        scheduled = node.fields.get("scheduled_at")
        if scheduled:
            nt = node_type(node.type)
            at = datetime.fromisoformat(scheduled).astimezone(BEIJING)
            await self._open(
                f"entry-3d:{node.node_id}",
                "entry-3d",
                f"{nt.name if nt else node.type}（定于{format_day(at.date())}）情况录入",
                at,
                met_by=[node.type],
            )
        if node.type in self._rules.stay_nodes and self._state.stayed_at is None:
            self._state.stayed_at = node.occurred_at
            for ob in self._open_obligations():
                if self._rules.rule(ob.rule).paused_by_stays:
                    ob.paused_at = node.occurred_at
                    await self._save(ob)
        elif node.type in self._rules.resume_nodes and self._state.stayed_at is not None:
            self._state.stayed_at = None
            for ob in self._open_obligations():
                if ob.paused_at is not None:
                    days = (beijing_date(node.occurred_at) - beijing_date(ob.paused_at)).days
                    ob.start += timedelta(days=max(days, 0))  # the stay is deducted from the period
                    ob.paused_at = None
                    await self._schedule(ob)
                    await self._save(ob)
        if node.type == "closure":
            for ob in self._open_obligations():  # closure ends the open clocks, recording those already late
                await self._meet(ob, now, status="ended")
        self._changed = True

    async def _after_closure(self, now: datetime) -> None:
        """Closure: query ends in 1 month, public entries are masked within 5 working days, 终本 is followed up."""
        workflow.upsert_search_attributes([sa.STATUS.value_set("closed")])
        query_end = await self._due(now, self._rules.rule("query-1m").length, "months")
        await self._db(
            MARK_CASE_CLOSED,
            CaseClosedInput(case_id=self._inp.case_id, closed_at=now, query_ends_at=query_end.due_at),
            "登记结案 (case closed in the read model)",
        )
        await self._open("mask-5wd", "mask-5wd", "结案后屏蔽公开名单信息", now, met_by=[])
        if self._state.closure_mode == "执行完毕" and "dishonest_listing" in self._state.last_node_at:
            await self._open("delist-3wd", "delist-3wd", "全部履行后删除失信名单信息", now, met_by=[])
        self._start_masking()
        if self._state.closure_mode == ZHONGBEN_MODE:
            await self._open_follow_up()

    def _mask_obligations(self) -> list[Obligation]:
        return [ob for ob in self._open_obligations() if ob.rule in ("mask-5wd", "delist-3wd")]

    def _start_masking(self) -> None:
        """Mask every public entry of the case in the background; the ladder watches the deadline meanwhile."""
        self._masking = True
        self._mask_task = asyncio.create_task(self._mask())  # deterministic: the workflow's own event loop

    async def _mask(self) -> None:
        result = await workflow.execute_activity(
            MASK_CASE_ENTRIES,
            MaskInput(case_id=self._inp.case_id, lists=None, reason="closure"),
            result_type=MaskResult,
            start_to_close_timeout=SMS_TIMEOUT,
            retry_policy=MASK_RETRY,
            summary="屏蔽公开名单 (mask public lists until every list confirms)",
        )
        for ob in self._mask_obligations():
            await self._meet(ob, result.confirmed_at)
        self._masking = False
        self._changed = True

    def _follow_up_active(self) -> bool:
        return self._state.closure_mode == ZHONGBEN_MODE and self._state.restored_as is None

    async def _open_follow_up(self) -> None:
        """The next 6-monthly network inquiry after 终本, for 5 years (终本规定 第九条)."""
        rule = self._rules.rule("zhongben-5y")
        if self._state.follow_ups >= rule.params["years"] * 12 // rule.length or self._state.closed_at is None:
            return
        self._state.follow_ups += 1
        n = self._state.follow_ups
        await self._open(
            f"zhongben-5y:{n}", "zhongben-5y", f"终本后第{n}次网络查控", self._state.closed_at, length=rule.length * n
        )

    async def _publish_visibility(self) -> None:
        """Earliest due and overdue level as search attributes, so supervision can list cases (no personal data)."""
        open_obs = self._open_obligations()
        earliest = min((ob.due_at for ob in open_obs if ob.paused_at is None), default=None)  # a stay stops clocks
        level = max((LEVELS[r] for ob in open_obs for r in ob.rungs_fired), default=0)
        if self._state.status == "closed":
            earliest, level = None, 0
        visible = (earliest, level)
        if visible == self._visible:
            return
        self._visible = visible
        workflow.upsert_search_attributes(
            [
                sa.EARLIEST_DUE.value_set(earliest) if earliest else sa.EARLIEST_DUE.value_unset(),
                sa.OVERDUE_LEVEL.value_set(level),
            ]
        )

    # --- updates and signals ---------------------------------------------------------------------------

    @workflow.update(name=OPEN_CASE)
    async def open_case(self, inp: OpenCaseInput) -> OpenCaseResult:
        """The update sent with update-with-start: returns once the filing is in the read model."""
        await workflow.wait_condition(lambda: self._state.opened)
        return OpenCaseResult(case_id=self._inp.case_id, status=self._state.status)

    @workflow.update(name=RECORD_NODE)
    async def record_node(self, inp: RecordNodeInput) -> NodeResult:
        """Record a node; a repeated idempotency key returns the first result (decision 2)."""
        key = inp.idempotency_key
        while key in self._recording:  # a repeat sent while the first is being recorded waits for its result
            await workflow.wait_condition(lambda: key not in self._recording)
        done = self._state.processed.get(key)
        if done is not None:
            return done.model_copy(update={"created": False})
        self._recording.add(key)
        try:
            await workflow.wait_condition(lambda: self._state.opened)
            return await self._record(inp)
        finally:
            self._recording.discard(key)

    async def _record(self, inp: RecordNodeInput) -> NodeResult:
        nt = node_type(inp.type)
        assert nt is not None  # the validator refused unknown types
        now = workflow.now()
        self._state.node_count += 1
        self._events_this_run += 1
        node_id = str(workflow.uuid4())
        # Reserve the key before the first await, so a concurrent repeat waits for this result.
        self._state.processed[inp.idempotency_key] = NodeResult(node_id=node_id, late=False)
        closing = nt.code == "closure"
        if closing:
            self._state.status = "closed"
            self._state.closed_at = now
            self._state.closure_mode = inp.fields.get("mode")
        previous = self._state.last_node_at.get(nt.code)
        if previous is None or inp.occurred_at > previous:
            self._state.last_node_at[nt.code] = inp.occurred_at
        entry = await self._due(inp.occurred_at, self._rules.rule("entry-3d").length, "days")
        node = RecordedNode(
            node_id=node_id,
            seq=self._state.node_count,
            type=nt.code,
            occurred_at=inp.occurred_at,
            entered_at=now,
            late=now > entry.due_at,
            disclose=nt.disclosed if inp.disclose is None else inp.disclose,
            summary=inp.summary,
            fields=inp.fields,
            idempotency_key=inp.idempotency_key,
            recorded_by=inp.recorded_by,
        )
        result = NodeResult(node_id=node.node_id, late=node.late)
        self._state.processed[inp.idempotency_key] = result
        self._state.node_types.append(nt.code)
        await self._db(
            SAVE_NODE,
            SaveNodeInput(case_id=self._inp.case_id, node=node),
            f"保存节点 (save node) {nt.name} {node.node_id}",
        )
        await self._db(
            APPLY_NODE_TO_PUBLIC_LISTS,
            PublicListNodeInput(case_id=self._inp.case_id, node_id=node.node_id),
            f"公开名单 (public lists) {nt.name}",
            PublicListChange,
        )
        await self._apply_node(node)
        if closing:
            await self._after_closure(now)
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
        self._refuse_unless(lambda: self._check_node(inp))

    def _check_node(self, inp: RecordNodeInput) -> None:
        if self._state.status == "closed" and not (inp.type == "network_inquiry" and self._follow_up_active()):
            raise CaseClosed("案件已结案，不能再录入节点")
        check_node(
            type_code=inp.type,
            occurred_at=inp.occurred_at,
            fields=inp.fields,
            filed_on=self._inp.filed_on,
            now=workflow.now(),
        )
        if inp.type == "closure" and inp.fields.get("mode") == ZHONGBEN_MODE:
            unmet = unmet_conditions(
                filed_on=self._inp.filed_on, last_at=self._state.last_node_at, closing_at=inp.occurred_at
            )
            approved = any(e.kind == "zhongben" and e.status == "approved" for e in self._state.extensions)
            if unmet and not approved:
                raise Conflict(
                    "不符合终结本次执行程序的条件：" + "；".join(unmet) + "。如确需终本，请说明理由并报执行局长批准。",
                    kind="ZhongbenConditionsUnmet",
                )

    @staticmethod
    def _refuse_unless(check: Callable[[], None]) -> None:
        """Turn a domain refusal into a non-retryable update failure named by its kind."""
        try:
            check()
        except YgError as e:
            raise ApplicationError(e.detail, type=e.kind, non_retryable=True) from None

    def _term(self) -> Obligation | None:
        return next((ob for ob in self._open_obligations() if ob.rule == "term-6m"), None)

    @workflow.update(name=REQUEST_EXTENSION)
    async def request_extension(self, inp: RequestExtensionInput) -> Extension:
        """The handler asks to extend the term; the president or vice president decides (法发〔2006〕35号)."""
        existing = next((e for e in self._state.extensions if e.id == inp.request_id), None)
        if existing is not None:
            return existing
        ext = Extension(
            id=inp.request_id,
            months=inp.months,
            reason=inp.reason,
            requested_by=inp.requested_by,
            requested_at=workflow.now(),
        )
        self._state.extensions.append(ext)
        await self._save_extension(ext)
        return ext

    @request_extension.validator
    def _check_request_extension(self, inp: RequestExtensionInput) -> None:
        if any(e.id == inp.request_id for e in self._state.extensions):
            return
        self._refuse_unless(lambda: self._check_extension_request(inp))

    def _check_extension_request(self, inp: RequestExtensionInput) -> None:
        term = self._term()
        params = self._rules.rule("term-6m").params
        if self._state.status == "closed" or term is None:
            raise CaseClosed("案件已结案，无需延长执行期限")
        if not 1 <= inp.months <= params["max_extension_months"]:
            raise InvalidInput(f"延长期限应为1至{params['max_extension_months']}个月", kind="InvalidExtension")
        if not inp.reason.strip():
            raise InvalidInput("请填写延长执行期限的理由", kind="MissingField")
        if any(e.status == "pending" for e in self._state.extensions):
            raise Conflict("已有待审批的延长申请", kind="ExtensionPending")
        days_left = (beijing_date(term.due_at) - beijing_date(workflow.now())).days
        if days_left < params["extension_notice_days"]:
            raise Conflict(
                f"延长执行期限应在期限届满{params['extension_notice_days']}日前申请，"
                f"执行期限至{format_day(beijing_date(term.due_at))}",
                kind="ExtensionTooLate",
            )

    @workflow.update(name=DECIDE_EXTENSION)
    async def decide_extension(self, inp: DecideExtensionInput) -> Extension:
        """Approval moves the term and tells the applicant through a 执行期限变更 node; refusal changes nothing."""
        ext = next(e for e in self._state.extensions if e.id == inp.request_id)
        if ext.status != "pending":
            return ext
        ext.status = "approved" if inp.approve else "refused"
        ext.decided_by, ext.decided_at, ext.note = inp.decided_by, workflow.now(), inp.note
        await self._save_extension(ext)
        term = self._term()
        if inp.approve and ext.kind == "extension" and term is not None:
            term.length += ext.months
            await self._schedule(term)
            await self._save(term)
            await self._record(
                RecordNodeInput(
                    idempotency_key=f"extension:{ext.id}",
                    type="term_change",
                    occurred_at=workflow.now(),
                    summary=f"执行期限延长{ext.months}个月，至{format_day(beijing_date(term.due_at))}",
                    fields={"months": str(ext.months), "due": beijing_date(term.due_at).isoformat()},
                    recorded_by=inp.decided_by,
                )
            )
        return ext

    @decide_extension.validator
    def _check_decide_extension(self, inp: DecideExtensionInput) -> None:
        def check() -> None:
            ext = next((e for e in self._state.extensions if e.id == inp.request_id), None)
            if ext is None:
                raise NotFound("没有这个延长执行期限申请", kind="ExtensionNotFound")
            if ext.status == "pending" and self._term() is None:
                raise CaseClosed("案件已结案，无需延长执行期限")

        self._refuse_unless(check)

    async def _save_extension(self, ext: Extension) -> None:
        await self._db(
            SAVE_EXTENSION,
            SaveExtensionInput(case_id=self._inp.case_id, extension=ext),
            f"延长执行期限申请 (term extension) {ext.status}",
        )

    @workflow.update(name=REQUEST_ZHONGBEN)
    async def request_zhongben_exception(self, inp: RequestZhongbenInput) -> Extension:
        """The handler asks the bureau chief to approve a 终本 closure that misses conditions (seed 003)."""
        existing = next((e for e in self._state.extensions if e.id == inp.request_id), None)
        if existing is not None:
            return existing
        ext = Extension(
            id=inp.request_id,
            kind="zhongben",
            reason=inp.reason,
            requested_by=inp.requested_by,
            requested_at=workflow.now(),
            note="；".join(
                unmet_conditions(
                    filed_on=self._inp.filed_on, last_at=self._state.last_node_at, closing_at=workflow.now()
                )
            ),
        )
        self._state.extensions.append(ext)
        await self._save_extension(ext)
        return ext

    @request_zhongben_exception.validator
    def _check_request_zhongben(self, inp: RequestZhongbenInput) -> None:
        def check() -> None:
            if any(e.id == inp.request_id for e in self._state.extensions):
                return
            if self._state.status == "closed":
                raise CaseClosed("案件已结案")
            if not inp.reason.strip():
                raise InvalidInput("请说明终本的理由", kind="MissingField")
            if any(e.kind == "zhongben" and e.status == "pending" for e in self._state.extensions):
                raise Conflict("已有待审批的终本申请", kind="ExtensionPending")

        self._refuse_unless(check)

    @workflow.update(name=SUBMIT_FEEDBACK)
    async def submit_feedback(self, inp: SubmitFeedbackInput) -> FeedbackResult:
        """Progress feedback to the applicant: meets the earliest feedback obligation whose checkpoint came."""
        done = self._state.feedback_done.get(inp.request_id)
        if done is not None:
            return done
        now = workflow.now()
        self._state.feedback_given += 1
        due = [ob for ob in self._open_obligations() if ob.rule == "feedback" and ob.opened_at <= now]
        ob = min(due, key=lambda o: o.due_at) if due else None
        result = FeedbackResult(
            feedback_id=str(workflow.uuid4()),
            n=self._state.feedback_given,
            obligation_id=ob.id if ob else None,
            late=bool(ob and now > ob.due_at),
        )
        self._state.feedback_done[inp.request_id] = result
        await self._db(
            SAVE_FEEDBACK,
            SaveFeedbackInput(
                case_id=self._inp.case_id,
                request_id=inp.request_id,
                feedback_id=result.feedback_id,
                n=result.n,
                obligation_id=result.obligation_id,
                measures=inp.measures,
                next_steps=inp.next_steps,
                applicant_tasks=inp.applicant_tasks,
                submitted_by=inp.submitted_by,
                submitted_at=now,
                late=result.late,
            ),
            f"保存执行进展反馈 (feedback) 第{result.n}次",
        )
        if ob is not None:
            await self._meet(ob, now)
        await self._notify(f"feedback:{result.feedback_id}", None, f"反馈短信 (feedback SMS) 第{result.n}次")
        return result

    @submit_feedback.validator
    def _check_submit_feedback(self, inp: SubmitFeedbackInput) -> None:
        def check() -> None:
            if inp.request_id in self._state.feedback_done:
                return
            if self._state.status == "closed":
                raise CaseClosed("案件已结案，无需再反馈执行进展")
            if not (inp.measures.strip() and inp.next_steps.strip()):  # seed 002 第五条 asks for both
                raise InvalidInput("请填写已采取的执行措施及结果和下一步执行计划", kind="MissingField")

        self._refuse_unless(check)

    @workflow.signal(name=RESTORED)
    async def restored(self, inp: RestoredInput) -> None:
        """Restored as a new linked case (恢复执行): the 终本 follow-up ends here."""
        self._state.restored_as = inp.case_number
        for ob in self._open_obligations():
            if ob.rule == "zhongben-5y":
                await self._meet(ob, workflow.now(), status="ended")

    @workflow.signal(name=CALENDAR_CHANGED)
    def calendar_changed(self) -> None:
        """An administrator entered a holiday schedule: deadlines computed on weekends alone are recomputed."""
        self._recompute_unconfirmed = True

    @workflow.query(name="state")
    def state(self) -> CaseState:
        return self._state

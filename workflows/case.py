"""CaseWorkflow: one enforcement case (执行案件), the only writer of its process state (decision 1).

The case's life: it is filed, its clocks open; judges record nodes, ask for extensions and exceptions, give
feedback, assign handlers; leaders decide; the ladder climbs when a clock runs late; closure ends the clocks,
masks the public lists and, after 终本, asks for an inquiry every six months. Which clocks exist and what they
do is the obligation book's business (domain/obligations.py, rules as data); this class carries out what the
book says — computing periods, writing the read model, firing rungs — and sends notices beside its main loop."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from contracts import activities as act
    from contracts.case import (
        ASSIGN,
        CALENDAR_CHANGED,
        CASE_EVENT,
        DECIDE_EXTENSION,
        OPEN_CASE,
        RECORD_NODE,
        REQUEST_EXTENSION,
        REQUEST_ZHONGBEN,
        RESTORED,
        STATE,
        SUBMIT_FEEDBACK,
        WORKFLOW,
    )
    from domain import guard
    from domain.approvals import decision_reason, request_reason
    from domain.clock import BEIJING, beijing_date, format_day, start_of_day
    from domain.errors import NotFound, YgError
    from domain.feedback import FeedbackResult, SaveFeedbackInput, SubmitFeedbackInput
    from domain.models import (
        AssignInput,
        Assignment,
        AssignResult,
        CalendarChangedInput,
        CaseClosing,
        CaseEventInput,
        CaseInput,
        CaseState,
        DecideExtensionInput,
        Extension,
        NodeResult,
        Notice,
        OpenCaseInput,
        OpenCaseResult,
        RecordedNode,
        RecordNodeInput,
        RequestExtensionInput,
        RequestZhongbenInput,
        RestoredInput,
        RungFiring,
        TransitionInput,
        TransitionResult,
    )
    from domain.nodes import node_type
    from domain.obligations import Effects, NodeEvent, ObligationBook, PeriodRequest, Schedule
    from domain.public_lists import touches_public_lists
    from domain.rules import rule_set
    from workflows import search_attributes as sa


@workflow.defn(name=WORKFLOW)
class CaseWorkflow:
    @workflow.init
    def __init__(self, inp: CaseInput) -> None:
        self._inp = inp
        self._state = inp.state or CaseState(handler=inp.handler)
        self._rules = rule_set(inp.rule_version)
        self._book = ObligationBook(self._rules, self._state.book, filed_at=start_of_day(inp.filed_on))
        # One transition at a time. Invariant: between two transitions the book, the state and the read model
        # agree; a transition (an event → periods computed → rows written) spans awaits, so every handler and
        # the main loop that changes the book holds this lock across it (samples-python safe_message_handlers).
        self._lock = asyncio.Lock()
        self._events_this_run = 0
        self._armed: tuple[object, ...] | None = None  # the clocks as the main loop last saw them (_clock_face)
        self._calendar_changed = False
        self._calendar_years: set[int] = set()  # years whose schedule was entered since the last recompute
        self._visible: tuple[object, ...] | None = None
        self._recording: set[str] = set()  # idempotency keys whose node is being recorded now
        self._masking: asyncio.Task[None] | None = None

    # --- the case's life -------------------------------------------------------------------------------

    @workflow.run
    async def run(self, inp: CaseInput) -> str:
        if not self._state.opened:
            async with self._lock:
                await self._file()
        notices = asyncio.create_task(self._send_notices())
        if self._state.masking:
            self._start_masking()  # a run that continued as new picks up unconfirmed masking
        while True:
            async with self._lock:
                await self._fire_due_rungs()
                if self._calendar_changed:
                    years, self._calendar_years, self._calendar_changed = self._calendar_years, set(), False
                    await self._carry_out(self._book.calendar_changed(years))
                await self._publish_visibility()
            await self._wait_for_something()
            if self._finished():
                await workflow.wait_condition(
                    lambda: workflow.all_handlers_finished() and not self._state.pending_notices
                )
                if self._finished():
                    notices.cancel()
                    await self._publish_visibility()
                    workflow.logger.info("case closed", extra={"case_id": inp.case_id})
                    return "closed"
            elif self._should_continue_as_new():
                # Notices still pending ride along in the state: the next run sends them (the outbox dedupes).
                await workflow.wait_condition(lambda: workflow.all_handlers_finished() and not self._state.masking)
                workflow.continue_as_new(inp.model_copy(update={"state": self._state.carried()}))

    async def _file(self) -> None:
        """Filing: the case is open in the read model with its clocks; the applicants are sent their query codes
        and the case is listed as unfinished beside the main loop."""
        effects = self._book.file(assigned=bool(self._state.handler), has_property=self._inp.has_property)
        await self._compute(effects)
        await self._write(effects, opened=True)
        self._state.opened = True  # the filing's update answers now; the SMS and the listing follow
        self._notify(Notice(reason="filed"))
        self._notify(Notice(kind="list", reason="listed"))

    async def _wait_for_something(self) -> None:
        """Sleep until the next rung, an event that changed the book, the end, or time to continue as new."""
        wake = self._book.next_wake()
        timeout = max(wake[1] - workflow.now(), timedelta(0)) if wake else None
        self._armed = self._clock_face()
        with contextlib.suppress(asyncio.TimeoutError):  # the timeout is the next rung's time: not an error
            await workflow.wait_condition(
                lambda: (
                    self._clock_face() != self._armed
                    or self._calendar_changed
                    or self._finished()
                    or self._should_continue_as_new()
                ),
                timeout=timeout,
                timeout_summary=f"等待期限 {wake[0]} (next ladder rung)" if wake else None,
            )

    def _clock_face(self) -> tuple[object, ...]:
        """What the main loop's sleep depends on: the next rung and what supervision sees. A transition that leaves
        it unchanged (most nodes) lets the timer run on instead of restarting it."""
        return self._book.next_wake(), self._book.earliest_due(), self._book.level()

    def _finished(self) -> bool:
        return self._state.status == "closed" and self._book.settled() and not self._state.masking

    def _should_continue_as_new(self) -> bool:
        """Continue as new when the server suggests it or this run has handled many events (decision 7)."""
        return workflow.info().is_continue_as_new_suggested() or self._events_this_run >= self._inp.max_events_per_run

    # --- carrying out what the book says -----------------------------------------------------------------

    async def _compute(self, effects: Effects, extra: list[PeriodRequest] | None = None) -> list[Schedule]:
        """Compute every period the transition needs in one call and install them in the book, then fire the
        rungs now due, so the transition writes them too; returns the schedules of ``extra`` (periods the
        transition needs besides obligations)."""
        extra, computed = extra or [], []
        while True:
            if effects.schedule or extra:
                drafts, effects.schedule = effects.schedule, []
                schedules = await act.schedule_periods(extra + [self._book.period_request(ob) for ob in drafts])
                computed += schedules[: len(extra)]
                effects.merge(self._book.install(drafts, schedules[len(extra) :], workflow.now()))
                extra = []
            effects.merge(self._book.fire(workflow.now()))
            if not effects.schedule:
                break
        return computed

    async def _write(self, effects: Effects, **rows: object) -> TransitionResult:
        """Write the transition's rows to the read model in one transaction; the staff SMS of the rungs it fired go
        out in the notices lane."""
        firings = [RungFiring(obligation=f.obligation, rung=f.rung, overdue=f.overdue) for f in effects.firings]
        batch = f"rungs:{self._book.next_version()}" if firings else ""
        result = await act.save_transition(
            TransitionInput(case_id=self._inp.case_id, obligations=effects.save, firings=firings, batch=batch, **rows)
        )
        if firings:
            self._events_this_run += 1
            self._notify(Notice(kind="deliver", reason=batch))
        return result

    async def _carry_out(self, effects: Effects) -> None:
        await self._compute(effects)
        await self._write(effects)

    async def _fire_due_rungs(self) -> None:
        """Every rung whose time has come, as one batch: supervision records and one SMS per staff member."""
        effects = Effects()
        await self._compute(effects)
        if effects.save:
            await self._write(effects)

    def _notify(self, notice: Notice) -> None:
        self._state.pending_notices.append(notice)

    async def _send_notices(self) -> None:
        """The notices lane: SMS and the public listing go out in order beside the main loop, so a failing provider
        delays them but never the clocks (decision 8). The notices waiting when it wakes go in one activity; they
        leave the queue only once sent."""
        while True:
            await workflow.wait_condition(lambda: bool(self._state.pending_notices))
            batch = list(self._state.pending_notices)
            await act.send_notices(self._inp.case_id, batch)
            del self._state.pending_notices[: len(batch)]

    def _start_masking(self) -> None:
        """Mask every public entry of the case in the background; the ladder watches the deadline meanwhile."""
        self._state.masking = True
        self._masking = asyncio.create_task(self._mask())  # deterministic: the workflow's own event loop

    async def _mask(self) -> None:
        await act.mask_case_entries(self._inp.case_id)
        async with self._lock:
            await self._carry_out(self._book.event("masked", workflow.now()))
            self._state.masking = False

    async def _publish_visibility(self) -> None:
        """Earliest due and overdue level as search attributes, so supervision can list cases (no personal data)."""
        earliest, level = self._book.earliest_due(), self._book.level()
        if self._state.status == "closed":
            earliest, level = None, 0
        visible = (earliest, level, self._state.status)
        if visible == self._visible:
            return
        self._visible = visible
        workflow.upsert_search_attributes(
            [
                sa.EARLIEST_DUE.value_set(earliest) if earliest else sa.EARLIEST_DUE.value_unset(),
                sa.OVERDUE_LEVEL.value_set(level),
                sa.STATUS.value_set(self._state.status),
            ]
        )

    def _view(self) -> guard.CaseView:
        """The case as the guard sees it (the API builds the same view from the read model)."""
        term = self._book.extendable()
        return guard.CaseView(
            filed_on=self._inp.filed_on,
            status=self._state.status,
            last_node_at=self._state.last_node_at,
            closure_mode=self._state.closure_mode,
            restored=self._state.restored_as is not None,
            term_due=term.due_at if term else None,
            pending=frozenset(e.kind for e in self._state.extensions if e.status == "pending"),
            approved=frozenset(e.kind for e in self._state.extensions if e.status == "approved"),
        )

    def _stable_id(self, kind: str, key: str) -> str:
        """The id of a row this case writes for a request: the same in every run and every retried workflow task,
        so a local write that a failed task made is the row the recorded task writes again (contracts/activities)."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"yangguang:{self._inp.case_id}:{kind}:{key}"))

    @staticmethod
    def _refuse_unless(check: Callable[[], None]) -> None:
        """Turn the guard's refusal into a non-retryable update failure named by its kind."""
        try:
            check()
        except YgError as e:
            raise ApplicationError(e.detail, type=e.kind, non_retryable=True) from None

    # --- filing and nodes --------------------------------------------------------------------------------

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
            async with self._lock:
                return await self._record(inp)
        finally:
            self._recording.discard(key)

    @record_node.validator
    def _check_record_node(self, inp: RecordNodeInput) -> None:
        """Refuse before anything is written to history (the one guard, API.md → Nodes)."""
        if inp.idempotency_key in self._state.processed:
            return
        self._refuse_unless(
            lambda: guard.check_node(
                self._rules,
                self._view(),
                type_code=inp.type,
                occurred_at=inp.occurred_at,
                fields=inp.fields,
                now=workflow.now(),
            )
        )

    async def _record(self, inp: RecordNodeInput, assignment: Assignment | None = None) -> NodeResult:
        """A node: the book learns of it, its entry deadline says whether it was late, the read model gets the node
        and the changed clocks in one transaction, the public lists follow, the applicant is told."""
        nt = node_type(inp.type)
        assert nt is not None  # the guard refused unknown types
        now = workflow.now()
        node_id = self._stable_id("node", inp.idempotency_key)
        # Reserve the key before the first await, so a concurrent repeat waits for this result.
        self._state.processed[inp.idempotency_key] = NodeResult(node_id=node_id, late=False)
        self._state.node_count += 1
        self._events_this_run += 1
        closing = nt.code == self._rules.closure_node
        scheduled = inp.fields.get("scheduled_at")
        event = NodeEvent(
            code=nt.code,
            name=nt.name,
            node_id=node_id,
            occurred_at=inp.occurred_at,
            scheduled_at=datetime.fromisoformat(scheduled).astimezone(BEIJING) if scheduled else None,
            mode=inp.fields.get("mode") if closing else None,
            recorded=frozenset(self._state.last_node_at),
            fields=dict(inp.fields),
        )
        previous = self._state.last_node_at.get(nt.code)
        if previous is None or inp.occurred_at > previous:
            self._state.last_node_at[nt.code] = inp.occurred_at
        if closing:
            self._state.status, self._state.closed_at, self._state.closure_mode = "closed", now, event.mode
        effects = self._book.record(event, now)
        await self._compute(effects)
        node = RecordedNode(
            node_id=node_id,
            seq=self._state.node_count,
            type=nt.code,
            occurred_at=inp.occurred_at,
            entered_at=now,
            late=False,  # decided where it is written, on the legal calendar
            disclose=nt.disclosed if inp.disclose is None else inp.disclose,
            summary=inp.summary,
            fields=inp.fields,
            idempotency_key=inp.idempotency_key,
            recorded_by=inp.recorded_by,
        )
        query_ends_at = effects.case_fields.get("query_ends_at")
        closed = CaseClosing(closed_at=now, query_ends_at=query_ends_at) if closing else None
        entry = self._book.entry_request(node_id, inp.occurred_at)
        written = await self._write(effects, node=node, entry=entry, closing=closed, assignment=assignment)
        result = NodeResult(node_id=node.node_id, late=written.late)
        self._state.processed[inp.idempotency_key] = result
        if touches_public_lists(nt.code, inp.fields):
            await act.apply_node_to_public_lists(self._inp.case_id, node.node_id)
        if closing:
            await self._publish_visibility()
            self._start_masking()
        if node.disclose:
            self._notify(Notice(reason=f"node:{node.node_id}", node_id=node.node_id))
        workflow.logger.info(
            "node recorded", extra={"case_id": self._inp.case_id, "node_type": nt.code, "late": result.late}
        )
        return result

    # --- assignment --------------------------------------------------------------------------------------

    @workflow.update(name=ASSIGN)
    async def assign(self, inp: AssignInput) -> AssignResult:
        """The bureau chief assigns the handler and clerk; a 确定承办人 node tells the applicant (seed 004)."""
        key = f"assign:{inp.request_id}"
        done = self._state.processed.get(key)
        if done is None:
            await workflow.wait_condition(lambda: self._state.opened)
            async with self._lock:
                self._state.handler, self._state.clerk = inp.handler, inp.clerk or self._state.clerk
                done = await self._record(
                    RecordNodeInput(
                        idempotency_key=key,
                        type=self._rules.assignment_node,
                        occurred_at=workflow.now(),
                        summary=f"承办人：{inp.handler_name or inp.handler}",
                        fields={"handler": inp.handler, **({"clerk": inp.clerk} if inp.clerk else {})},
                        recorded_by=inp.assigned_by,
                    ),
                    assignment=Assignment(handler=inp.handler, clerk=inp.clerk),  # before the node's SMS is written
                )
        return AssignResult(handler=self._state.handler or inp.handler, clerk=self._state.clerk, node_id=done.node_id)

    @assign.validator
    def _check_assign(self, inp: AssignInput) -> None:
        if f"assign:{inp.request_id}" in self._state.processed:
            return
        self._refuse_unless(lambda: guard.check_assignment(self._view(), handler=inp.handler, clerk=inp.clerk))

    # --- requests and decisions --------------------------------------------------------------------------

    def _request(self, request_id: str) -> Extension | None:
        return next((e for e in self._state.extensions if e.id == request_id), None)

    async def _save_request(self, ext: Extension) -> None:
        """The request's row, with its approvers' SMS (a new request) or its requester's (a decision) queued in the
        same transaction; the notices lane sends them (issue 11: a new request reaches its approvers at once)."""
        await self._write(Effects(), extension=ext, extension_version=self._book.next_version())
        reason = request_reason(ext.id) if ext.status == "pending" else decision_reason(ext.id)
        self._notify(Notice(kind="deliver", reason=reason))

    @workflow.update(name=REQUEST_EXTENSION)
    async def request_extension(self, inp: RequestExtensionInput) -> Extension:
        """The handler asks to extend the term; the president or vice president decides (法发〔2006〕35号)."""
        existing = self._request(inp.request_id)
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
        async with self._lock:
            await self._save_request(ext)
        return ext

    @request_extension.validator
    def _check_request_extension(self, inp: RequestExtensionInput) -> None:
        if self._request(inp.request_id) is not None:
            return
        self._refuse_unless(
            lambda: guard.check_extension_request(
                self._rules, self._view(), months=inp.months, reason=inp.reason, now=workflow.now()
            )
        )

    @workflow.update(name=REQUEST_ZHONGBEN)
    async def request_zhongben_exception(self, inp: RequestZhongbenInput) -> Extension:
        """The handler asks the bureau chief to approve a 终本 closure that misses conditions (seed 003); the
        conditions it would waive are kept with the request, apart from the approver's note."""
        existing = self._request(inp.request_id)
        if existing is not None:
            return existing
        ext = Extension(
            id=inp.request_id,
            kind="zhongben",
            reason=inp.reason,
            requested_by=inp.requested_by,
            requested_at=workflow.now(),
            waived=guard.unmet_zhongben(self._rules, self._view(), closing_at=workflow.now()),
        )
        self._state.extensions.append(ext)
        async with self._lock:
            await self._save_request(ext)
        return ext

    @request_zhongben_exception.validator
    def _check_request_zhongben(self, inp: RequestZhongbenInput) -> None:
        if self._request(inp.request_id) is not None:
            return
        self._refuse_unless(lambda: guard.check_zhongben_request(self._rules, self._view(), reason=inp.reason))

    @workflow.update(name=DECIDE_EXTENSION)
    async def decide_extension(self, inp: DecideExtensionInput) -> Extension:
        """Approval of an extension moves the term and tells the applicant through a 执行期限变更 node; approval of a
        终本 exception admits the closure; refusal changes nothing."""
        ext = self._request(inp.request_id)
        assert ext is not None  # the validator refused unknown requests
        if ext.status != "pending":
            return ext
        async with self._lock:
            ext.status = "approved" if inp.approve else "refused"
            ext.decided_by, ext.decided_at, ext.note = inp.decided_by, workflow.now(), inp.note
            await self._save_request(ext)
            if inp.approve and ext.months:
                await self._extend(ext)
        return ext

    async def _extend(self, ext: Extension) -> None:
        effects = self._book.extend(ext.months, workflow.now())
        await self._carry_out(effects)
        term = self._book.extendable()
        if term is None:
            return
        due = format_day(beijing_date(term.due_at))
        await self._record(
            RecordNodeInput(
                idempotency_key=f"extension:{ext.id}",
                type=self._rules.extension_node,
                occurred_at=workflow.now(),
                summary=f"执行期限延长{ext.months}个月，至{due}",
                fields={"months": str(ext.months), "due": beijing_date(term.due_at).isoformat()},
                recorded_by=ext.decided_by or "",
            )
        )

    @decide_extension.validator
    def _check_decide_extension(self, inp: DecideExtensionInput) -> None:
        def check() -> None:
            ext = self._request(inp.request_id)
            if ext is None:
                raise NotFound("没有这个申请", kind="ExtensionNotFound")
            if ext.status == "pending":
                guard.check_pending_decision(self._view())

        self._refuse_unless(check)

    # --- progress feedback --------------------------------------------------------------------------------

    @workflow.update(name=SUBMIT_FEEDBACK)
    async def submit_feedback(self, inp: SubmitFeedbackInput) -> FeedbackResult:
        """Progress feedback to the applicant: meets the earliest feedback obligation whose checkpoint came."""
        done = self._state.feedback_done.get(inp.request_id)
        if done is not None:
            return done
        async with self._lock:
            now = workflow.now()
            self._state.feedback_given += 1
            effects = self._book.event("feedback", now)
            ob = effects.met[0] if effects.met else None
            result = FeedbackResult(
                feedback_id=self._stable_id("feedback", inp.request_id),
                n=self._state.feedback_given,
                obligation_id=ob.id if ob else None,
                late=bool(ob and ob.late),
            )
            self._state.feedback_done[inp.request_id] = result
            await self._compute(effects)
            await self._write(
                effects,
                feedback=SaveFeedbackInput(
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
            )
        self._notify(Notice(reason=f"feedback:{result.feedback_id}"))
        return result

    @submit_feedback.validator
    def _check_submit_feedback(self, inp: SubmitFeedbackInput) -> None:
        if inp.request_id in self._state.feedback_done:
            return
        self._refuse_unless(
            lambda: guard.check_feedback(self._view(), measures=inp.measures, next_steps=inp.next_steps)
        )

    # --- signals and queries ---------------------------------------------------------------------------

    # --- what happens outside the nodes ------------------------------------------------------------------

    @workflow.update(name=CASE_EVENT)
    async def case_event(self, inp: CaseEventInput) -> None:
        """A party writes, the handler replies, a document is offered or first downloaded: the clocks the rules
        tie to it open or are met, and its notice (if any) goes out."""
        await workflow.wait_condition(lambda: self._state.opened)
        async with self._lock:
            if inp.key in self._state.events_done:
                return
            self._state.events_done.append(inp.key)
            self._events_this_run += 1
            await self._carry_out(self._book.event(inp.event, workflow.now(), ref=inp.ref))
            if inp.notice is not None:
                self._notify(inp.notice)

    @case_event.validator
    def _check_case_event(self, inp: CaseEventInput) -> None:
        if inp.key in self._state.events_done:
            return
        self._refuse_unless(lambda: guard.check_event(self._rules, self._view(), event=inp.event))

    @workflow.signal(name=RESTORED)
    async def restored(self, inp: RestoredInput) -> None:
        """Restored as a new linked case (恢复执行): the 终本 follow-up ends here."""
        async with self._lock:
            self._state.restored_as = inp.case_number
            await self._carry_out(self._book.event("restored", workflow.now()))

    @workflow.signal(name=CALENDAR_CHANGED)
    def calendar_changed(self, inp: CalendarChangedInput | None = None) -> None:
        """An administrator entered or changed a year's holiday schedule: the deadlines it may move are recomputed."""
        self._calendar_changed = True
        if inp is not None and inp.year is not None:
            self._calendar_years.add(inp.year)

    @workflow.query(name=STATE)
    def state(self) -> CaseState:
        return self._state

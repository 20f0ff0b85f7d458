"""The obligation book (decision 4): a pure, deterministic deadline engine the case workflow drives.

Given the case's rule set, its events and ``now``, the book opens, meets, ends, pauses, resumes and re-arms
obligations, says which ladder rungs are due and when to wake next. It does no I/O: each call returns the
``Effects`` to carry out — periods to compute on the legal calendar (``schedule``), read-model rows to write
(``save``) — and the workflow executes them. Every rule it applies is data in ``domain/rules.py``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pydantic import AwareDatetime, BaseModel, Field

from domain import ladder
from domain.clock import beijing_date, format_day, start_of_day
from domain.ladder import Obligation
from domain.rules import Rule, RuleSet


class PeriodRequest(BaseModel):
    """A period to compute on the legal calendar, with its ladder times (one batch per transition).

    With ``offset_months`` the period counts from the checkpoint that many months after ``start``."""

    key: str
    start: AwareDatetime
    offset_months: int = 0
    length: int
    unit: str
    remind_before: int = 1
    warn_before: int = 1


class Schedule(BaseModel):
    """A computed period: where it counts from, its due instant (24:00 Beijing) and its ladder times."""

    key: str
    start: AwareDatetime
    due_at: AwareDatetime
    confirmed: bool
    remind_at: AwareDatetime
    warn_at: AwareDatetime


class BookState(BaseModel):
    """What the book keeps across events and continued runs."""

    obligations: list[Obligation] = Field(default_factory=list)
    chains: dict[str, int] = Field(default_factory=dict)  # rule id → instances opened
    anchors: dict[str, AwareDatetime] = Field(default_factory=dict)  # rule id → what its chain counts from
    stayed_at: AwareDatetime | None = None
    version: int = 0  # grows with every change; each saved obligation carries it


@dataclass(frozen=True)
class NodeEvent:
    """A recorded node as the book sees it."""

    code: str
    name: str
    node_id: str
    occurred_at: datetime
    scheduled_at: datetime | None = None
    mode: str | None = None  # a closure's mode
    recorded: frozenset[str] = frozenset()  # node codes recorded on the case before this one
    fields: dict[str, str] = field(default_factory=dict)  # the node's type fields (a service node's document_id)


@dataclass(frozen=True)
class Firing:
    """A rung that fired: the obligation as it stood, and whether its deadline had already passed."""

    obligation: Obligation
    rung: str
    at: datetime
    overdue: bool


@dataclass
class Effects:
    """What a transition asks the workflow to do: compute periods, then write rows."""

    schedule: list[Obligation] = field(default_factory=list)  # drafts or moved deadlines to (re)compute
    save: list[Obligation] = field(default_factory=list)
    met: list[Obligation] = field(default_factory=list)
    case_fields: dict[str, datetime] = field(default_factory=dict)
    firings: list[Firing] = field(default_factory=list)  # rungs that fired: supervision records and staff SMS

    def merge(self, other: Effects) -> Effects:
        self.schedule += other.schedule
        self.save = [ob for ob in self.save if ob.id not in {o.id for o in other.save}] + other.save
        self.met += other.met
        self.case_fields.update(other.case_fields)
        self.firings += other.firings
        return self


def _next(ob: Obligation) -> list[tuple[datetime, str]]:
    nxt = ladder.next_rung(ob)
    return [nxt] if nxt else []


class ObligationBook:
    """The case's obligations under its pinned rule set."""

    def __init__(self, rules: RuleSet, state: BookState, *, filed_at: datetime) -> None:
        self.rules = rules
        self.state = state
        self.filed_at = filed_at

    # --- reading ---------------------------------------------------------------------------------------

    def open(self) -> list[Obligation]:
        return [ob for ob in self.state.obligations if ob.status == "open"]

    def settled(self) -> bool:
        """Nothing left to watch: the case's clocks have all stopped."""
        return not self.open()

    def next_wake(self) -> tuple[str, datetime] | None:
        """The next instant something happens on its own: the earliest rung not yet fired."""
        wakes = [(at, f"{ob.id} {ladder.RUNG_NAMES[rung]}") for ob in self.open() for at, rung in _next(ob)]
        if not wakes:
            return None
        at, what = min(wakes)
        return what, at

    def earliest_due(self) -> datetime | None:
        """The earliest running deadline (a stay stops clocks; silent clocks chase no one)."""
        return min((ob.due_at for ob in self.open() if ob.paused_at is None), default=None)

    def level(self) -> int:
        return max((ladder.level(ob) for ob in self.open()), default=0)

    def extendable(self) -> Obligation | None:
        """The open execution term, which an approved extension lengthens."""
        rule = self.rules.extendable
        return next((ob for ob in self.open() if ob.rule == rule.id), None)

    def period_request(self, ob: Obligation) -> PeriodRequest:
        lad = self.rules.ladder
        return PeriodRequest(
            key=ob.id,
            start=ob.start,
            offset_months=ob.offset_months,
            length=ob.length,
            unit=ob.unit,
            remind_before=lad.remind_before_working_days,
            warn_before=lad.warn_before_working_days,
        )

    def entry_request(self, node_id: str, occurred_at: datetime) -> PeriodRequest:
        """The node's own entry deadline: recorded within 3 days of the act, or flagged late (seed 002 第二条)."""
        rule = self.rules.entry
        return PeriodRequest(key=f"entry:{node_id}", start=occurred_at, length=rule.length, unit=rule.unit)

    # --- events ----------------------------------------------------------------------------------------

    def file(self, *, assigned: bool, has_property: bool) -> Effects:
        """Filing opens the rules started by it, counted from the filing date even when it lies in the past."""
        effects = Effects()
        for event in ("filed",) if assigned else ("filed", "filed_unassigned"):
            for rule in self.rules.opened_by(event):
                length = rule.length
                if not has_property and rule.length_without_property is not None:
                    length = rule.length_without_property
                effects.schedule.append(self._draft(rule, self.filed_at, length=length))
        return effects

    def record(self, node: NodeEvent, now: datetime) -> Effects:
        """A node meets what it records, opens the entry of a scheduled act, pauses or resumes the stayed clocks,
        and a closure ends the open clocks and opens those that follow closure."""
        effects = self._meet(node.code, at=node.occurred_at, now=now, fields=node.fields)
        if node.scheduled_at is not None:
            for rule in self.rules.opened_by("scheduled_act"):
                draft = self._draft(
                    rule,
                    node.scheduled_at,
                    ref=node.node_id,
                    node=node.name,
                    day=format_day(beijing_date(node.scheduled_at)),
                )
                draft.met_by = [node.code]
                draft.not_before = start_of_day(beijing_date(node.scheduled_at))
                effects.schedule.append(draft)
        if node.code in self.rules.stay_nodes and self.state.stayed_at is None:
            effects.merge(self._pause(node.occurred_at))
        elif node.code in self.rules.resume_nodes and self.state.stayed_at is not None:
            effects.merge(self._resume(node.occurred_at))
        if node.code == self.rules.closure_node:
            events = ["closed"] + ([f"closed:{node.mode}"] if node.mode else [])
            effects.merge(self._end("closed", now))
            for event in events:
                for rule in self.rules.opened_by(event):
                    if rule.requires_recorded and not set(rule.requires_recorded) & node.recorded:
                        continue
                    effects.schedule.append(self._draft(rule, now))
        return effects

    def event(self, name: str, now: datetime, *, at: datetime | None = None, ref: str | None = None) -> Effects:
        """Any other event (feedback given, lists masked, a message, its reply, a download, a restoration):
        it meets, ends or opens what its name stands for in the rules."""
        effects = self._meet(name, at=at or now, now=now, ref=ref)
        effects.merge(self._end(name, now))
        for rule in self.rules.opened_by(name):
            effects.schedule.append(self._draft(rule, at or now, ref=ref))
        return effects

    def extend(self, months: int, now: datetime) -> Effects:
        """An approved extension lengthens the execution term; its ladder re-arms when the new day is known."""
        term = self.extendable()
        if term is None:
            return Effects()
        term.length += months
        return Effects(schedule=[term])

    def calendar_changed(self, years: set[int]) -> Effects:
        """A holiday schedule entered or changed: recompute every open deadline whose period touches one of those
        years, and every one computed without a year's schedule (an empty ``years`` means those alone)."""

        def touches(ob: Obligation) -> bool:
            first, last = beijing_date(ob.start).year, beijing_date(ob.due_at).year
            return any(first <= y <= last for y in years)

        return Effects(schedule=[ob for ob in self.open() if not ob.confirmed or touches(ob)])

    def install(self, obligations: list[Obligation], schedules: list[Schedule], now: datetime) -> Effects:
        """Put computed periods in place: drafts join the book, moved deadlines re-arm their ladder."""
        by_key = {s.key: s for s in schedules}
        effects = Effects()
        known = {ob.id for ob in self.state.obligations}
        for ob in obligations:
            s = by_key[ob.id]
            if ob.offset_months:  # a checkpoint: the period counts from it, and the obligation opens there
                ob.start = ob.opened_at = s.start
                ob.offset_months = 0
            ob.due_at, ob.confirmed, ob.remind_at, ob.warn_at = s.due_at, s.confirmed, s.remind_at, s.warn_at
            if case_field := self.rules.rule(ob.rule).case_field:
                effects.case_fields[case_field] = ob.due_at
            if not ob.laddered:
                continue  # a date on the case (the end of online query), not a duty anyone is chased for
            if ob.id in known:
                ladder.rearm(ob, now)
            else:
                self.state.obligations.append(ob)
                known.add(ob.id)
            effects.save.append(self._touch(ob))
        self.state.obligations.sort(key=lambda o: o.due_at)
        return effects

    def fire(self, now: datetime) -> Effects:
        """Every rung due by ``now``, each once, in time order; a chain whose next instance opens with this one
        opens it."""
        effects = Effects()
        for at, ob, rung in ladder.due_rungs(self.open(), now):
            ob.rungs_fired.append(rung)
            effects.firings.append(Firing(ob.model_copy(deep=True), rung, at, overdue=now > ob.due_at))
            effects.save = [o for o in effects.save if o.id != ob.id] + [self._touch(ob)]
            rule = self.rules.rule(ob.rule)
            if rung == "remind_open" and rule.chain and rule.chain.next_on == "open":
                effects.schedule += self._next_in_chain(rule)
        return effects

    # --- the mechanics -----------------------------------------------------------------------------------

    def _draft(
        self, rule: Rule, start: datetime, *, length: int | None = None, ref: str | None = None, **subject: str
    ) -> Obligation:
        """A new obligation of ``rule`` whose period is still to be computed."""
        n = self.state.chains.get(rule.id, 0) + 1
        self.state.chains[rule.id] = n
        ob_id = f"{rule.id}:{ref or n}" if rule.chain or ref else rule.id
        offset = 0
        length = length or rule.length
        months = 0
        if rule.chain is not None:
            anchor = self.state.anchors.setdefault(rule.id, start)
            start, months = anchor, rule.chain.months(n)
            if rule.chain.due_at_checkpoint:
                length = months
            else:
                offset = months
        start = max(start, self.filed_at)
        return Obligation(
            id=ob_id,
            rule=rule.id,
            subject=rule.subject.format(length=length, n=n, months=months, **subject),
            n=n,
            ref=ref,
            opened_at=start,
            start=start,
            offset_months=offset,
            length=length,
            unit=rule.unit,
            met_by=list(rule.met_by),
            due_at=start,
            remind_at=start,
            warn_at=start,
            laddered=rule.laddered,
            assignee=rule.assignee,
            rungs_fired=["remind_open"] if rule.announced else [],
        )

    def _next_in_chain(self, rule: Rule) -> list[Obligation]:
        assert rule.chain is not None
        if rule.chain.limit is not None and self.state.chains.get(rule.id, 0) >= rule.chain.limit:
            return []
        return [self._draft(rule, self.state.anchors[rule.id])]

    def _meet(
        self, name: str, *, at: datetime, now: datetime, ref: str | None = None, fields: dict[str, str] | None = None
    ) -> Effects:
        """Meet, for each rule, the earliest-due open obligation that ``name`` meets; late when after its due
        instant. A chain that continues when met opens its next instance. A node (``fields`` given) meets an
        obligation of a rule with a ``ref_field`` only if that field names the obligation's ref."""
        effects = Effects()
        seen: set[str] = set()
        for ob in sorted(self.open(), key=lambda o: o.due_at):
            if ob.rule in seen or name not in ob.met_by or (ob.ref and ref and ob.ref != ref):
                continue
            ref_field = self.rules.rule(ob.rule).ref_field
            if fields is not None and ref_field and ob.ref and fields.get(ref_field) != ob.ref:
                continue
            if at < (ob.not_before or ob.opened_at):
                continue  # the act came before this obligation opened (an announcement, an earlier inquiry)
            seen.add(ob.rule)
            ob.status, ob.met_at, ob.late = "met", now, now > ob.due_at
            effects.save.append(self._touch(ob))
            effects.met.append(ob)
            rule = self.rules.rule(ob.rule)
            if rule.chain and rule.chain.next_on == "met":
                effects.schedule += self._next_in_chain(rule)
        return effects

    def _end(self, name: str, now: datetime) -> Effects:
        """End, unmet, every open obligation that ``name`` ends (closure, restoration), recording lateness."""
        effects = Effects()
        for ob in self.open():
            if name in self.rules.rule(ob.rule).ended_by:
                ob.status, ob.met_at, ob.late = "ended", now, now > ob.due_at
                effects.save.append(self._touch(ob))
        return effects

    def _pause(self, at: datetime) -> Effects:
        """A stay (中止, 暂缓) stops the clocks of the rules that stays pause."""
        self.state.stayed_at = at
        effects = Effects()
        for ob in self.open():
            if self.rules.rule(ob.rule).paused_by_stays:
                ob.paused_at = at
                effects.save.append(self._touch(ob))
        return effects

    def _resume(self, at: datetime) -> Effects:
        """Resumption (恢复): the stayed days are deducted, so the paused periods count from later."""
        self.state.stayed_at = None
        effects = Effects()
        for ob in self.open():
            if ob.paused_at is not None:
                days = (beijing_date(at) - beijing_date(ob.paused_at)).days
                ob.start += timedelta(days=max(days, 0))
                ob.paused_at = None
                effects.schedule.append(ob)
        return effects

    def next_version(self) -> int:
        """The case's next version, for any row the workflow writes as a snapshot (decision 1)."""
        self.state.version += 1
        return self.state.version

    def _touch(self, ob: Obligation) -> Obligation:
        ob.version = self.next_version()
        return ob

"""The obligation book and the ladder as pure, millisecond scenarios (decision 4)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from domain.calendar import Calendar, ScheduledDay
from domain.clock import BEIJING, start_of_day
from domain.ladder import Obligation
from domain.obligations import BookState, Effects, Firing, NodeEvent, ObligationBook
from domain.periods import schedule_period
from domain.rules import CURRENT_VERSION, rule_set

RULES = rule_set(CURRENT_VERSION)


def at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=BEIJING)


class Case:
    """Drives a book the way CaseWorkflow does: effects → periods on the legal calendar → install."""

    def __init__(self, filed_on: date, *, calendar: Calendar | None = None) -> None:
        self.calendar = calendar or Calendar()
        self.book = ObligationBook(RULES, BookState(), filed_at=start_of_day(filed_on))
        self.saved: list[tuple[str, int, str]] = []
        self.nodes = 0

    def run(self, effects: Effects, now: datetime) -> Effects:
        while effects.schedule:
            drafts, effects.schedule = effects.schedule, []
            schedules = [schedule_period(self.calendar, self.book.period_request(ob))[0] for ob in drafts]
            effects.merge(self.book.install(drafts, schedules, now))
        self.saved += [(ob.id, ob.version, ob.status) for ob in effects.save]
        return effects

    def file(self, now: datetime, *, assigned: bool = True, has_property: bool = True) -> None:
        self.run(self.book.file(assigned=assigned, has_property=has_property), now)

    def node(
        self,
        code: str,
        now: datetime,
        *,
        occurred: datetime | None = None,
        scheduled_at: datetime | None = None,
        mode: str | None = None,
        recorded: frozenset[str] = frozenset(),
        fields: dict[str, str] | None = None,
    ) -> Effects:
        self.nodes += 1
        event = NodeEvent(code, code, f"n{self.nodes}", occurred or now, scheduled_at, mode, recorded, fields or {})
        return self.run(self.book.record(event, now), now)

    def event(self, name: str, now: datetime, *, ref: str | None = None) -> Effects:
        return self.run(self.book.event(name, now, ref=ref), now)

    def fire(self, now: datetime) -> list[Firing]:
        effects = self.book.fire(now)
        self.run(effects, now)
        return effects.firings

    def ob(self, ob_id: str) -> Obligation:
        return next(o for o in self.book.state.obligations if o.id == ob_id)


def test_filing_opens_investigation_term_and_first_feedback() -> None:
    case = Case(date(2026, 3, 2))
    case.file(at("2026-03-02"))
    assert {o.id for o in case.book.open()} == {"investigate-1m", "term-6m", "feedback:1"}
    assert case.ob("term-6m").due_at == at("2026-09-02", 0).replace(hour=23, minute=59, second=59, microsecond=999999)
    assert case.ob("term-6m").subject == "执行期限（6个月）"
    # feedback: checkpoint one month after filing, then 15 days (seed 002 第五条)
    assert case.ob("feedback:1").opened_at.date() == date(2026, 4, 2)
    assert case.ob("feedback:1").due_at.date() == date(2026, 4, 17)


def test_a_case_without_property_has_three_months_and_an_unassigned_one_asks_for_a_handler() -> None:
    case = Case(date(2026, 3, 2))
    case.file(at("2026-03-02"), assigned=False, has_property=False)
    assert case.ob("term-6m").subject == "执行期限（3个月）"
    assert case.ob("term-6m").due_at.date() == date(2026, 6, 2)
    assert case.ob("assign-7d").assignee == "bureau_chief"
    case.node("handler_assigned", at("2026-03-04"))
    assert case.ob("assign-7d").status == "met" and not case.ob("assign-7d").late


def test_each_rung_fires_once_in_ladder_order() -> None:
    case = Case(date(2026, 3, 2))
    case.file(at("2026-03-02"))
    inv = case.ob("investigate-1m")
    assert inv.due_at.date() == date(2026, 4, 2)
    assert inv.remind_at == inv.warn_at == start_of_day(date(2026, 4, 1))  # one working day before
    assert [f.rung for f in case.fire(at("2026-03-02", 11))] == ["remind_open", "remind_open"]
    assert case.fire(at("2026-03-02", 12)) == []
    assert [(f.obligation.id, f.rung) for f in case.fire(at("2026-04-01", 1))] == [
        ("investigate-1m", "remind_due"),
        ("investigate-1m", "warn"),
    ]
    escalated = [f for f in case.fire(at("2026-04-03", 0)) if f.obligation.id == "investigate-1m"]
    assert [(f.rung, f.overdue) for f in escalated] == [("escalate", True)]
    assert case.book.level() == 3
    assert case.fire(at("2026-04-03", 9)) == []
    # met late: the higher rungs stop and lateness is recorded
    case.node("network_inquiry", at("2026-04-03", 10))
    assert case.ob("investigate-1m").status == "met" and case.ob("investigate-1m").late


def test_next_wake_is_the_earliest_unfired_rung() -> None:
    case = Case(date(2026, 3, 2))
    case.file(at("2026-03-02"))
    case.fire(at("2026-03-02", 11))
    what, when = case.book.next_wake() or ("", at("2000-01-01"))
    assert when == start_of_day(date(2026, 4, 1)) and what.startswith("investigate-1m")


def test_a_stay_pauses_the_term_and_resumption_deducts_the_stayed_days() -> None:
    case = Case(date(2026, 3, 2))
    case.file(at("2026-03-02"))
    assert case.ob("term-6m").due_at.date() == date(2026, 9, 2)
    case.node("stay", at("2026-04-10"))
    assert case.ob("term-6m").paused_at is not None and case.ob("feedback:1").paused_at is None
    assert case.book.earliest_due() == case.ob("feedback:1").due_at  # a paused deadline is not shown as running
    case.node("resumption", at("2026-05-10"))
    term = case.ob("term-6m")
    # 30 stayed days: 2 October, in the National Day holiday, so the next working day (民法典 第二百零三条)
    assert term.paused_at is None and term.due_at.date() == date(2026, 10, 8)


def test_an_extension_approved_after_expiry_rearms_the_ladder() -> None:
    case = Case(date(2026, 3, 2))
    case.file(at("2026-03-02"))
    case.fire(at("2026-09-03", 1))
    assert "escalate" in case.ob("term-6m").rungs_fired and case.book.level() == 3
    case.run(case.book.extend(3, at("2026-09-03", 9)), at("2026-09-03", 9))
    term = case.ob("term-6m")
    assert term.due_at.date() == date(2026, 12, 2)
    assert term.rungs_fired == ["remind_open"]  # the bureau chief will be warned again before the new day
    assert case.ob("term-6m").subject == "执行期限（6个月）"
    fired = [f.rung for f in case.fire(at("2026-12-02", 1)) if f.obligation.id == "term-6m"]
    assert fired == ["remind_due", "warn"]


def test_a_past_filing_date_makes_every_due_rung_due_at_once_and_says_they_are_overdue() -> None:
    case = Case(date(2026, 1, 5))
    case.file(at("2026-06-01"))
    firings = case.fire(at("2026-06-01"))
    inv = [f for f in firings if f.obligation.id == "investigate-1m"]
    assert [f.rung for f in inv] == ["remind_open", "remind_due", "warn", "escalate"]
    assert all(f.overdue for f in inv)
    assert case.fire(at("2026-06-01", 11)) == []


def test_a_schedule_entered_later_confirms_the_deadlines_computed_on_weekends() -> None:
    case = Case(date(2026, 12, 1), calendar=Calendar(published=True))
    case.file(at("2026-12-01"))
    term = case.ob("term-6m")
    assert not term.confirmed  # 2027 is not published in chinese-calendar 1.11
    case.calendar = Calendar([ScheduledDay.of(date(2027, 6, 1), "holiday", "假日")])
    case.run(case.book.calendar_changed(set()), at("2026-12-02"))
    assert case.ob("term-6m").confirmed
    assert case.ob("term-6m").due_at.date() == date(2027, 6, 2)  # 2027-06-01 is now a holiday


def test_a_changed_schedule_moves_every_deadline_in_that_year_even_confirmed_ones() -> None:
    case = Case(date(2026, 3, 2))
    case.file(at("2026-03-02"))
    assert case.ob("investigate-1m").confirmed and case.ob("investigate-1m").due_at.date() == date(2026, 4, 2)
    case.calendar = Calendar([ScheduledDay.of(date(2026, 4, 2), "holiday", "假日")], published=False)
    case.run(case.book.calendar_changed({2026}), at("2026-03-03"))
    assert case.ob("investigate-1m").due_at.date() == date(2026, 4, 3)
    unchanged = case.book.calendar_changed({2030})
    assert unchanged.schedule == []


def test_closure_ends_the_clocks_records_lateness_and_opens_masking_and_query() -> None:
    case = Case(date(2026, 3, 2))
    case.file(at("2026-03-02"))
    case.node("dishonest_listing", at("2026-03-03"))
    closing = case.node("closure", at("2026-05-06"), mode="执行完毕", recorded=frozenset({"dishonest_listing"}))
    assert case.ob("term-6m").status == "met" and not case.ob("term-6m").late
    assert case.ob("investigate-1m").status == "ended" and case.ob("investigate-1m").late
    assert {o.id for o in case.book.open()} == {"mask-5wd", "delist-3wd"}
    # online query ends a month later, the next working day (seed 002 第四条): a date on the case, not a duty
    assert closing.case_fields["query_ends_at"].date() == date(2026, 6, 8)
    assert case.ob("mask-5wd").due_at.date() == date(2026, 5, 12)  # 5 working days, Saturday 9 May a make-up day
    case.event("masked", at("2026-05-07"))
    assert case.ob("mask-5wd").status == "met" and case.ob("delist-3wd").status == "met"
    assert case.book.settled()


def test_delisting_opens_only_for_a_case_with_a_dishonest_listing() -> None:
    case = Case(date(2026, 3, 2))
    case.file(at("2026-03-02"))
    case.node("closure", at("2026-05-06"), mode="执行完毕")
    assert "delist-3wd" not in {o.id for o in case.book.open()}


def test_the_feedback_chain_opens_each_checkpoint_when_the_previous_opens() -> None:
    case = Case(date(2026, 3, 2))
    case.file(at("2026-03-02"))
    case.fire(at("2026-03-02", 11))
    assert "feedback:2" not in {o.id for o in case.book.open()}
    case.fire(at("2026-04-03"))  # feedback:1 opens at its checkpoint: the 6-month one is scheduled
    fb2 = case.ob("feedback:2")
    assert fb2.subject == "第2次执行进展反馈（立案满6个月）" and fb2.opened_at.date() == date(2026, 9, 2)
    effects = case.event("feedback", at("2026-04-05"))
    assert [o.id for o in effects.met] == ["feedback:1"] and case.ob("feedback:2").status == "open"
    case.fire(at("2026-09-03"))
    assert case.ob("feedback:3").subject == "第3次执行进展反馈（立案满9个月）"


def test_the_zhongben_chain_asks_an_inquiry_every_six_months_until_restored() -> None:
    case = Case(date(2026, 1, 5))
    case.file(at("2026-01-05"))
    case.node("closure", at("2026-05-06"), mode="终本")
    first = case.ob("zhongben-5y:1")
    assert first.due_at.date() == date(2026, 11, 6)
    case.node("network_inquiry", at("2026-10-01"))
    assert case.ob("zhongben-5y:1").status == "met"
    assert case.ob("zhongben-5y:2").due_at.date() == date(2027, 5, 6)
    assert case.ob("zhongben-5y:2").status == "open"  # one inquiry meets one period
    case.event("restored", at("2026-12-01"))
    assert case.ob("zhongben-5y:2").status == "ended"


def test_the_zhongben_chain_ends_after_five_years() -> None:
    case = Case(date(2020, 1, 6))
    case.file(at("2020-01-06"))
    case.node("closure", at("2020-05-06"), mode="终本")
    for i in range(10):
        case.node("network_inquiry", at("2020-06-01") + timedelta(days=180 * i))
    assert not [o for o in case.book.open() if o.rule == "zhongben-5y"]
    assert len([o for o in case.book.state.obligations if o.rule == "zhongben-5y"]) == 10


def test_a_scheduled_act_is_watched_and_its_announcement_does_not_meet_it() -> None:
    case = Case(date(2026, 3, 2))
    case.file(at("2026-03-02"))
    case.node("hearing", at("2026-03-05"), scheduled_at=at("2026-03-20"))
    entry = next(o for o in case.book.open() if o.rule == "entry-3d")
    assert entry.subject == "hearing（定于2026年3月20日）情况录入" and entry.due_at.date() == date(2026, 3, 23)
    case.node("hearing", at("2026-03-06"), occurred=at("2026-03-06"))
    assert entry.status == "open"
    case.node("hearing", at("2026-03-21"), occurred=at("2026-03-20", 9))
    assert entry.status == "met" and not entry.late


def test_a_message_is_answered_by_its_own_reply() -> None:
    case = Case(date(2026, 3, 2))
    case.file(at("2026-03-02"))
    case.event("message", at("2026-03-06"), ref="m1")
    case.event("message", at("2026-03-06", 11), ref="m2")
    assert case.ob("message:m1").due_at.date() == date(2026, 3, 11)  # 3 working days
    case.event("reply", at("2026-03-07"), ref="m2")
    assert case.ob("message:m1").status == "open" and case.ob("message:m2").status == "met"


def test_a_download_or_the_clerks_service_node_meets_only_its_own_documents_eservice() -> None:
    """Seed 001 第十一条: each served document has its own 3-day clock for the clerk; the party's download of it,
    or a service node naming it (``document_id``), meets that clock and no other document's."""
    case = Case(date(2026, 3, 2))
    case.file(at("2026-03-02"))
    case.event("eservice_reminder", at("2026-03-04"), ref="d1")
    case.event("eservice_reminder", at("2026-03-04", 11), ref="d2")
    case.event("eservice_reminder", at("2026-03-04", 12), ref="d3")
    d1, d2, d3 = case.ob("eservice-3d:d1"), case.ob("eservice-3d:d2"), case.ob("eservice-3d:d3")
    # 3 days end on Saturday the 7th: the period ends on the next working day (民法典 第二百零三条).
    assert d1.assignee == "clerk" and d1.due_at.date() == date(2026, 3, 9)
    case.node("service", at("2026-03-10"), fields={"method": "邮寄"})  # names no document: meets none
    case.node("service", at("2026-03-10", 11), fields={"method": "邮寄", "document_id": "d2"})
    assert (d1.status, d2.status, d3.status) == ("open", "met", "open") and d2.late
    case.event("downloaded", at("2026-03-05"), ref="d3")
    assert (d1.status, d3.status) == ("open", "met") and not d3.late


def test_every_saved_row_carries_a_newer_version() -> None:
    case = Case(date(2026, 3, 2))
    case.file(at("2026-03-02"))
    case.fire(at("2026-03-02", 11))
    case.node("network_inquiry", at("2026-03-03"))
    versions = [v for ob_id, v, _ in case.saved if ob_id == "investigate-1m"]
    assert versions == sorted(versions) and len(set(versions)) == len(versions) >= 3


@pytest.mark.parametrize("rule", [r for r in RULES.rules])
def test_every_rule_cites_its_source_and_names_its_events(rule) -> None:
    assert rule.source and rule.text and rule.opens_on

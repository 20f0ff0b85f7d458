"""Who decides what is rule data (domain/rules.py ``deciders``), checked in one place (domain/guard.py)."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from domain import guard
from domain.calendar import PUBLISHED_LAST_YEAR, check_enterable
from domain.errors import Conflict, Forbidden
from domain.rules import CURRENT_VERSION, rule_set

RULES = rule_set(CURRENT_VERSION)


@pytest.mark.parametrize(
    ("kind", "allowed"),
    [
        ("extension", {"president", "vice_president"}),
        ("zhongben", {"bureau_chief"}),
        ("assignment", {"bureau_chief", "vice_president"}),
    ],
)
def test_each_kind_of_decision_has_its_deciders(kind: str, allowed: set[str]) -> None:
    roles = ("registrar", "handler", "clerk", "bureau_chief", "vice_president", "president", "discipline", "admin")
    for role in roles:
        if role in allowed:
            guard.check_decider(RULES, kind=kind, role=role)
        else:
            with pytest.raises(Forbidden):
                guard.check_decider(RULES, kind=kind, role=role)


def test_only_a_high_court_administrator_keeps_the_calendar() -> None:
    guard.check_decider(RULES, kind="calendar", role="admin", court_level="high")
    for level in ("intermediate", "basic", None):
        with pytest.raises(Forbidden) as refused:
            guard.check_decider(RULES, kind="calendar", role="admin", court_level=level)
        assert refused.value.kind == "CourtNotAllowed"
    with pytest.raises(Forbidden) as refused:
        guard.check_decider(RULES, kind="calendar", role="president", court_level="high")
    assert refused.value.kind == "RoleNotAllowed"


def test_published_and_earlier_years_are_read_only() -> None:
    check_enterable(PUBLISHED_LAST_YEAR + 1)
    for year in (PUBLISHED_LAST_YEAR, 2010, 1999):
        with pytest.raises(Forbidden) as refused:
            check_enterable(year)
        assert refused.value.kind == "ScheduleReadOnly"


def test_a_zhongben_case_is_restored_once() -> None:
    closed = guard.CaseView(
        filed_on=date(2026, 1, 5), status="closed", last_node_at={}, closure_mode=RULES.zhongben.mode
    )
    guard.check_restore(RULES, closed)
    with pytest.raises(Conflict) as refused:
        guard.check_restore(RULES, dataclasses.replace(closed, restored=True))
    assert refused.value.kind == "AlreadyRestored"
    with pytest.raises(Conflict) as other:
        guard.check_restore(RULES, dataclasses.replace(closed, closure_mode="full"))
    assert other.value.kind == "NotZhongben"


@pytest.mark.parametrize(
    ("kind", "role", "is_handler", "case_has_handler", "in_court", "answers"),
    [
        ("message", "handler", True, True, True, True),
        ("message", "clerk", False, True, True, False),
        ("message", "bureau_chief", False, True, True, False),  # the case has its handler
        ("message", "bureau_chief", False, False, True, True),  # nobody handles it: the chief stands in
        ("message", "bureau_chief", False, False, False, False),  # not the chief of an upper court
        ("message", "president", False, False, True, False),
        ("complaint", "discipline", False, True, True, True),
        ("complaint", "handler", True, True, True, False),  # never the handler complained about
        ("complaint", "bureau_chief", False, False, True, False),
    ],
)
def test_who_answers_a_party(
    kind: str, role: str, is_handler: bool, case_has_handler: bool, in_court: bool, answers: bool
) -> None:
    by = guard.Replier(role=role, is_handler=is_handler, case_has_handler=case_has_handler, in_court=in_court)
    assert guard.answers(RULES, kind=kind, by=by) is answers
    if not answers:
        with pytest.raises(Forbidden):
            guard.check_reply(RULES, kind=kind, by=by, replied=False, text="已答复")

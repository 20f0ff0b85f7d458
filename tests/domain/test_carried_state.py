"""A long case continues as new with a small state (decision 7; issue 9: ~231 bytes per node were carried for ever)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Literal

from domain.clock import BEIJING, start_of_day
from domain.ladder import Obligation
from domain.models import RECENT_KEYS, CaseState, NodeResult


def _obligation(i: int, status: Literal["open", "met", "ended"]) -> Obligation:
    at = start_of_day(date(2026, 1, 1)) + timedelta(days=i)
    return Obligation(
        id=f"entry-3d:{i}",
        rule="entry-3d",
        subject="情况录入",
        opened_at=at,
        start=at,
        length=3,
        unit="days",
        due_at=at,
        remind_at=at,
        warn_at=at,
        status=status,
    )


def test_ten_thousand_nodes_later_the_carried_state_is_as_small_as_after_two_hundred() -> None:
    def case(nodes: int) -> CaseState:
        state = CaseState(opened=True, node_count=nodes)
        state.processed = {f"key-{i}": NodeResult(node_id=f"{i:036d}", late=False) for i in range(nodes)}
        state.book.obligations = [_obligation(i, "met") for i in range(nodes)] + [_obligation(nodes, "open")]
        return state

    small, large = case(RECENT_KEYS).carried(), case(10_000).carried()
    assert len(large.model_dump_json()) <= len(small.model_dump_json()) * 1.05  # longer keys, no more of them
    assert len(large.model_dump_json()) < 64_000  # the payload limit is 2 MB
    assert list(large.processed) == [f"key-{i}" for i in range(10_000 - RECENT_KEYS, 10_000)]
    assert [ob.status for ob in large.book.obligations] == ["open"]  # met ones live in the read model
    assert large.node_count == 10_000
    assert datetime.now(BEIJING)  # the state is a copy: the running workflow's own is untouched

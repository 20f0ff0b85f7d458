"""Demo cases (issue 11 item 6): one case of each scenario filed and worked through the real API, a real worker
and the Temporal dev server; every state present, the read model equal to each workflow's ``state`` query, and a
second run adds nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import func, select
from temporalio.testing import WorkflowEnvironment

from contracts.case import STATE
from db import queries
from db.demo_cases import SCENARIOS, plan, portal_demo_login, seed_cases
from db.models import Case, ExtensionRequest, Feedback, Node, ObligationRow, PartyMessage
from domain.identity import check_id_number
from domain.models import CaseState
from domain.phones import check_mobile
from tests.api.conftest import Api, running_api
from tests.api.helpers import eventually

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
async def api(dev_env: WorkflowEnvironment, sqlite_url: str) -> AsyncIterator[Api]:
    async for a in running_api(dev_env, sqlite_url):
        yield a


def test_the_plan_takes_every_scenario_first_then_by_weight() -> None:
    names = [name for name, _ in SCENARIOS]
    assert plan(5) == names[:5]
    big = plan(240)
    assert len(big) == 240 and big[: len(names)] == names
    assert big.count("overdue") > big.count("restored") > 0


async def test_demo_cases_cover_every_state_through_the_workflows(api: Api, dev_env: WorkflowEnvironment) -> None:
    count = len(SCENARIOS)
    report = await seed_cases(api.http, api.sessions, api.settings, count=count)

    assert not report.failed, report.failed
    assert {name: report.filed[name] for name, _ in SCENARIOS} == {name: 1 for name, _ in SCENARIOS}
    case_of = {scenario: case_id for case_id, scenario in report.cases}
    now = datetime.now(UTC)

    # The read model is what each workflow says, once the steps that follow a request are done (masking after a
    # closure, the old case's follow-up ended by the restoration's signal).
    async def open_in_rows(case_id: str) -> set[tuple[str, str, tuple[str, ...]]]:
        async with api.sessions() as s:
            rows = await queries.obligations_of_case(s, case_id=case_id)
        return {(o.obligation_id, o.status, tuple(o.rungs_fired)) for o in rows if o.status == "open"}

    async def both(case: Case) -> tuple[CaseState, set[tuple[str, str, tuple[str, ...]]]]:
        state = await dev_env.client.get_workflow_handle(case.workflow_id).query(STATE, result_type=CaseState)
        return state, await open_in_rows(case.id)

    def agree(pair: tuple[CaseState, set[tuple[str, str, tuple[str, ...]]]]) -> bool:
        state, rows = pair
        return {(o.id, o.status, tuple(o.rungs_fired)) for o in state.book.obligations if o.status == "open"} == rows

    await eventually(
        partial(open_in_rows, case_of["restored"]),
        lambda rows: not any(o.startswith("zhongben-5y") for o, _, _ in rows),
        seconds=30,
    )
    async with api.sessions() as s:
        everything = list((await s.scalars(select(Case))).unique())
    for case in everything:
        state, rows = await eventually(partial(both, case), agree, seconds=30)
        async with api.sessions() as s:
            row = await s.get(Case, case.id)
            assert row is not None
            closure: list[str | None] = [
                n.fields["mode"] for n in await queries.nodes_of_case(s, case_id=case.id) if n.type == "closure"
            ]
            node_count = len(await queries.nodes_of_case(s, case_id=case.id))
        assert agree((state, rows)), case.case_number
        assert state.status == row.status, case.case_number
        assert [state.closure_mode] == (closure or [None]), case.case_number
        assert (state.handler or None) == (row.handler.username if row.handler else None), case.case_number
        assert state.node_count == node_count, case.case_number

    async with api.sessions() as s:
        cases = {c.id: c for c in (await s.scalars(select(Case))).unique()}
        assert len(cases) == count + 1  # and the restored 执恢 case
        obligations = {cid: await queries.obligations_of_case(s, case_id=cid) for cid in cases}
        nodes = {cid: list(await queries.nodes_of_case(s, case_id=cid)) for cid in cases}
        requests = {(r.case_id, r.kind): r.status for r in await s.scalars(select(ExtensionRequest))}
        replied = {f.case_id for f in await s.scalars(select(Feedback).where(Feedback.reply.is_not(None)))}
        messages = {(m.case_id, m.kind) for m in await s.scalars(select(PartyMessage))}

        def open_rules(scenario: str) -> dict[str, ObligationRow]:
            return {o.rule: o for o in obligations[case_of[scenario]] if o.status == "open"}

        # open on time: nothing overdue
        assert all(o.due_at > now for o in open_rules("new").values())
        # filed without a handler: the bureau chief's assignment clock
        assert "assign-7d" in open_rules("unassigned")
        # about to expire: the term ends within days, the bureau chief warned, not yet overdue
        term = open_rules("due_soon")["term-6m"]
        assert now < term.due_at < now + timedelta(days=4) and term.level == 2
        # overdue: escalated to the president and the discipline head
        assert open_rules("overdue")["term-6m"].level == 3 and open_rules("overdue")["term-6m"].due_at < now
        # stayed: the term's clock stands still
        assert "stay" in [n.type for n in nodes[case_of["stayed"]]] and open_rules("stayed")["term-6m"].paused
        # closed with a mode; 终本 with its 6-monthly inquiry, and one already made
        closed = {sc: cases[case_of[sc]] for sc in ("closed_paid", "closed_other", "zhongben", "zhongben_followup")}
        assert all(c.status == "closed" for c in closed.values())
        assert "zhongben-5y" in open_rules("zhongben")
        followup = [o for o in obligations[case_of["zhongben_followup"]] if o.rule == "zhongben-5y"]
        assert sorted(o.status for o in followup) == ["met", "open"]
        # requests: pending for the leaders' approvals page, and approved ones carried out
        assert requests[(case_of["extension"], "extension")] == "pending"
        assert requests[(case_of["extension_approved"], "extension")] == "approved"
        assert requests[(case_of["zb_exception"], "zhongben")] == "pending"
        assert requests[(case_of["zb_exception_approved"], "zhongben")] == "approved"
        assert cases[case_of["zb_exception_approved"]].status == "closed"
        # feedback with the applicant's reply, a message, a complaint
        assert case_of["progress"] in replied
        assert (case_of["messaged"], "message") in messages and (case_of["complained"], "complaint") in messages
        # restored: a 执恢 case linked to the 终本 case, whose follow-up ended
        restored = [c for c in cases.values() if c.restored_from == case_of["restored"]]
        assert len(restored) == 1 and "执恢" in restored[0].case_number
        assert "zhongben-5y" not in open_rules("restored")

        # Generated parties pass the checks a registrar's form does.
        for c in cases.values():
            for p in c.parties:
                if p.id_number:
                    assert check_id_number(p.id_number, today=now.date()).number == p.id_number
                if p.phone:
                    assert check_mobile(p.phone) == p.phone

    # A second run files nothing again.
    again = await seed_cases(api.http, api.sessions, api.settings, count=count)
    assert again.skipped == count and not again.filed and not again.failed
    async with api.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Case)) == count + 1
        assert await s.scalar(select(func.count()).select_from(Node)) == sum(len(n) for n in nodes.values())

    # The log's portal login works: the portal's own login takes it.
    login = await portal_demo_login(api.sessions)
    assert login is not None
    number, id_number, phone, code = login
    r = await api.http.post(
        "/api/portal/token",
        json={"case_number": number, "id_number": id_number, "phone": phone, "query_code": code},
    )
    assert r.status_code == 200, r.text


def test_demo_cases_are_refused_outside_development(sqlite_url: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YG_")}
    env.update(YG_ENVIRONMENT="production", YG_DATABASE_URL=sqlite_url, PYTHONPATH=str(REPO))
    done = subprocess.run(
        [sys.executable, "-m", "db.demo_cases", "http://127.0.0.1:9"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "拒绝写入演示案件" in done.stderr

"""A case filed while Temporal is unreachable is not left without its workflow (issue 8, defect 9): the filing
answers 503, the API starts the workflow once Temporal is back, with no one asking; until then a node on the
case says the workflow has not started, not that it has ended."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment

from db.models import Case
from tests.api.conftest import Api, running_api
from tests.api.helpers import case_body, eventually, now_iso
from tests.api.outage import TemporalProxy

sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
DEADLINE = timedelta(seconds=3)


async def _case(api: Api, case_number: str) -> Case | None:
    async with api.sessions() as s:
        case: Case | None = await s.scalar(select(Case).where(Case.case_number == case_number))
        return case


FILED: dict[str, dict[str, Any]] = {}  # case number → the body it was filed with


async def _file_while_down(api: Api, env: WorkflowEnvironment) -> tuple[Case, TemporalProxy]:
    """The API's Temporal goes down (the worker's stays up), a case is filed: 503, the row without a workflow."""
    proxy = TemporalProxy(env)
    await proxy.up()
    api.app.state.temporal = await proxy.client(env)
    await proxy.down()
    body = case_body()
    FILED[body["case_number"]] = body
    r = await api.as_("registrar", "POST", "/api/cases", json=body)
    assert r.status_code == 503, r.text
    assert r.json()["error"] == "TemporalUnavailable"
    assert "自动" in r.json()["detail"]
    case = await _case(api, body["case_number"])
    assert case is not None and case.status == "filing"  # the row is in, the workflow is not
    return case, proxy


@pytest.fixture
async def quick_api(dev_env: WorkflowEnvironment, db_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Api]:
    """The API looking for unstarted cases every 0.3 s, with no grace period."""
    monkeypatch.setattr("api.updates.UPDATE_DEADLINE", DEADLINE)
    monkeypatch.setattr("api.filing.ORPHAN_SCAN_INTERVAL", timedelta(milliseconds=300))
    monkeypatch.setattr("api.filing.ORPHAN_GRACE", timedelta(0))
    async for a in running_api(dev_env, db_url):
        yield a


@sqlite_only
async def test_a_case_filed_while_temporal_is_down_gets_its_workflow_once_it_is_back(
    quick_api: Api, dev_env: WorkflowEnvironment
) -> None:
    api = quick_api
    case, proxy = await _file_while_down(api, dev_env)

    await proxy.up()  # Temporal is back; nobody retries anything

    opened = await eventually(lambda: _status(api, case.id), lambda s: s == "open", seconds=30)
    assert opened == "open"
    detail = await eventually(
        lambda: _json(api, "handler", f"/api/cases/{case.id}"), lambda d: len(d["obligations"]) >= 3, seconds=30
    )
    assert {o["rule"] for o in detail["obligations"]} >= {"investigate-1m", "term-6m"}
    sms = await eventually(
        lambda: _json(api, "handler", f"/api/sms?case_id={case.id}"),
        lambda ms: any(m["reason"] == "filed" and m["status"] == "sent" for m in ms),
        seconds=30,
    )
    assert [m["reason"] for m in sms if m["reason"] == "filed"] == ["filed"]
    described = await dev_env.client.get_workflow_handle(case.workflow_id).describe()
    assert described.id == case.workflow_id

    # Filing the same case again returns it, started once; the same number with other data is refused.
    again = await api.as_("registrar", "POST", "/api/cases", json=FILED[case.case_number])
    assert again.status_code == 200, again.text
    assert again.json()["case_id"] == case.id
    other = await api.as_("registrar", "POST", "/api/cases", json=case_body(case_number=case.case_number))
    assert (other.status_code, other.json()["error"]) == (409, "CaseAlreadyFiled")


@sqlite_only
async def test_a_node_on_a_case_whose_workflow_has_not_started_says_so(
    api: Api, dev_env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("api.updates.UPDATE_DEADLINE", DEADLINE)
    case, proxy = await _file_while_down(api, dev_env)
    await proxy.up()  # back, but the default grace period has not passed: not started yet

    r = await api.as_(
        "handler",
        "POST",
        f"/api/cases/{case.id}/nodes",
        json={"type": "freeze", "occurred_at": now_iso(-timedelta(hours=1)), "summary": "冻结存款"},
        headers={"Idempotency-Key": "early"},
    )

    assert r.status_code == 503, r.text
    assert r.json()["error"] == "CaseNotStarted"
    assert "尚未启动" in r.json()["detail"] and "已结束" not in r.json()["detail"]


async def _status(api: Api, case_id: str) -> str | None:
    async with api.sessions() as s:
        return await s.scalar(select(Case.status).where(Case.id == case_id))


async def _json(api: Api, user: str, url: str) -> Any:
    r = await api.as_(user, "GET", url)
    assert r.status_code == 200, r.text
    return r.json()

"""Supervision (督办) and the inbox over HTTP: the ladder of seed 004 as the bureau chief, president and
discipline head see it, against a real worker and the dev server's visibility store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from temporalio.testing import WorkflowEnvironment

from api.supervision import visibility_query
from db import queries
from db.demo import DEMO_PASSWORD
from db.models import Staff
from domain.clock import BEIJING
from domain.secrets import hash_secret
from tests.api.conftest import Api
from tests.api.helpers import case_body, eventually, now_iso
from workflows.search_attributes import EARLIEST_DUE

TODAY = datetime.now(BEIJING).date()
# Filed 40 days ago: the property investigation (1 month) is overdue and escalates at once, while the first
# progress feedback (1 month + 15 days) is still about 5 days away, outside the default 3-day window.
FILED_40_DAYS_AGO = (TODAY - timedelta(days=40)).isoformat()


async def _file(api: Api, *, registrar: str = "registrar", **overrides: Any) -> str:
    r = await api.as_(registrar, "POST", "/api/cases", json=case_body(**overrides))
    assert r.status_code == 201, r.text
    case_id: str = r.json()["case_id"]
    return case_id


async def _file_second_court(api: Api, **overrides: Any) -> str:
    body = case_body(court_code="YN0103", handler="handler2", clerk="clerk2", **overrides)
    body["case_number"] = body["case_number"].replace("云0102", "云0103")
    return await _file(api, registrar="registrar2", **body)


async def _escalated(api: Api, case_id: str, rule: str = "investigate-1m", user: str = "handler") -> None:
    """Wait until the workflow fired the obligation's last rung (it fires every rung whose time has passed)."""

    async def obligation() -> dict[str, Any]:
        r = await api.as_(user, "GET", f"/api/cases/{case_id}")
        return next((o for o in r.json()["obligations"] if o["rule"] == rule), {})

    ob = await eventually(obligation, lambda o: o.get("level") == 3, seconds=20)
    assert ob.get("level") == 3, ob


async def _supervision(api: Api, user: str, **params: Any) -> httpx.Response:
    return await api.as_(user, "GET", "/api/supervision", params=params)


async def _listed(api: Api, user: str, case_id: str, **params: Any) -> dict[str, Any]:
    """The caller's supervision list once it shows the case (visibility lags the workflow a little)."""

    async def probe() -> dict[str, Any]:
        r = await _supervision(api, user, **params)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    return await eventually(probe, lambda b: any(i["case_id"] == case_id for i in b["items"]), seconds=20)


async def _inbox(api: Api, user: str, **params: Any) -> list[dict[str, Any]]:
    r = await api.as_(user, "GET", "/api/inbox", params=params)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def test_overdue_investigation_is_listed_for_the_bureau_chief_at_level_3(api: Api) -> None:
    case_id = await _file(api, filed_on=FILED_40_DAYS_AGO)
    await _escalated(api, case_id)
    body = await _listed(api, "bureau_chief", case_id)
    assert body["within_days"] == 3
    [item] = [i for i in body["items"] if i["case_id"] == case_id]
    assert (item["rule"], item["obligation_id"], item["level"], item["rung"]) == (
        "investigate-1m",
        "investigate-1m",
        3,
        "escalate",
    )
    assert (item["handler"], item["handler_name"], item["overdue"]) == ("handler", "王承办", True)
    assert item["case_number"].startswith("（2026）云0102执") and item["subject"]
    assert datetime.fromisoformat(item["due_at"]) < datetime.now(UTC)
    # since: when the president and discipline head were told, i.e. just now (the rung fired at filing).
    assert datetime.now(UTC) - datetime.fromisoformat(item["since"]) < timedelta(minutes=2)
    assert body["per_handler"] == [{"handler": "handler", "handler_name": "王承办", "due_soon": 0, "overdue": 1}]

    # A wider window also shows the first progress feedback, about to expire but not overdue.
    wide = await _listed(api, "bureau_chief", case_id, within_days=10)
    feedback = [i for i in wide["items"] if i["case_id"] == case_id and i["rule"] == "feedback"]
    assert [(i["overdue"], i["level"]) for i in feedback] == [(False, 0)]
    assert wide["per_handler"] == [{"handler": "handler", "handler_name": "王承办", "due_soon": 1, "overdue": 1}]

    for user in ("president", "vice_president", "discipline", "supervisor"):
        r = await _supervision(api, user)
        assert r.status_code == 200, r.text
        assert case_id in {i["case_id"] for i in r.json()["items"]}, user


async def test_other_basic_court_does_not_see_the_case_and_handlers_may_not_look(api: Api) -> None:
    case_id = await _file(api, filed_on=FILED_40_DAYS_AGO)
    await _escalated(api, case_id)
    await _listed(api, "bureau_chief", case_id)
    for user in ("president2", "bureau_chief2", "supervisor2"):
        r = await _supervision(api, user)
        assert r.status_code == 200, r.text
        assert r.json() == {"within_days": 3, "items": [], "per_handler": []}, user
    for user in ("handler", "clerk", "registrar", "admin"):
        r = await _supervision(api, user)
        assert r.status_code == 403, r.text
        assert r.json()["error"] == "RoleNotAllowed"
    assert (await _supervision(api, "bureau_chief", within_days=-1)).status_code == 422
    assert (await api.http.get("/api/supervision")).status_code == 401


async def test_upper_court_sees_its_subtree(api: Api) -> None:
    """The demo has users only in the basic courts: a supervisor of the high court is added for this test."""
    async with api.sessions() as s:
        s.add(
            Staff(
                username="supervisor_high",
                password_hash=hash_secret(DEMO_PASSWORD),
                name="高院审管",
                role="supervisor",
                court_code="YN",
                active=True,
            )
        )
        await s.commit()
    first = await _file(api, filed_on=FILED_40_DAYS_AGO)
    second = await _file_second_court(api, filed_on=FILED_40_DAYS_AGO)
    await _escalated(api, first)
    await _escalated(api, second, user="handler2")

    body = await eventually(
        lambda: _supervision(api, "supervisor_high"),
        lambda r: {first, second} <= {i["case_id"] for i in r.json()["items"]},
        seconds=20,
    )
    items = body.json()["items"]
    assert {(i["case_id"], i["court_code"]) for i in items} == {(first, "YN0102"), (second, "YN0103")}
    assert {(c["handler"], c["overdue"]) for c in body.json()["per_handler"]} == {("handler", 1), ("handler2", 1)}
    # Each basic court sees its own case only.
    assert {i["case_id"] for i in (await _supervision(api, "bureau_chief")).json()["items"]} == {first}
    second_court = await _listed(api, "bureau_chief2", second)
    assert {i["case_id"] for i in second_court["items"]} == {second}


async def test_supervised_obligations_follow_the_court_tree(api: Api) -> None:
    """The query behind the list, without visibility: a court path selects the court and the courts below it."""
    first = await _file(api, filed_on=FILED_40_DAYS_AGO)
    second = await _file_second_court(api, filed_on=FILED_40_DAYS_AGO)
    await _escalated(api, first)
    await _escalated(api, second, user="handler2")
    now = datetime.now(UTC)
    async with api.sessions() as s:
        assert await queries.court_codes_in_subtree(s, court_path="/YN/") == ["YN", "YN01", "YN0102", "YN0103"]
        assert await queries.court_codes_in_subtree(s, court_path="/YN/YN01/YN0103/") == ["YN0103"]

        async def cases(path: str, workflow_ids: list[str] | None = None) -> set[str]:
            rows = await queries.supervised_obligations(s, court_path=path, horizon=now, workflow_ids=workflow_ids)
            return {ob.case_id for ob, _, _ in rows}

        assert await cases("/YN/") == {first, second}
        assert await cases("/YN/YN01/") == {first, second}
        assert await cases("/YN/YN01/YN0102/") == {first}
        assert await cases("/YN/YN01/YN0103/") == {second}
        assert await cases("/YN/", workflow_ids=[f"case-{second}", "case-unknown"]) == {second}
        assert await cases("/YN/", workflow_ids=[]) == set()


def test_visibility_query_names_the_courts_and_the_horizon() -> None:
    q = visibility_query(["YN0102", "YN0103", "bad' OR '1'='1"], datetime(2026, 11, 27, 8, tzinfo=BEIJING))
    assert q == (
        "YgCourt IN ('YN0102', 'YN0103') AND YgStatus = 'open' AND ExecutionStatus = 'Running'"
        " AND (YgOverdueLevel >= 1 OR YgEarliestDue <= '2026-11-27T00:00:00Z')"
    )


async def test_inbox_shows_the_escalation_until_the_investigation_is_recorded(api: Api) -> None:
    case_id = await _file(api, filed_on=FILED_40_DAYS_AGO)
    await _escalated(api, case_id)

    def escalation(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [i for i in items if i["case_id"] == case_id and i["obligation_id"] == "investigate-1m"]

    for user in ("president", "discipline"):
        [item] = escalation(await _inbox(api, user))
        assert (item["rung"], item["rung_name"], item["rule"], item["met_at"]) == (
            "escalate",
            "超期报告院长、纪检组长",
            "investigate-1m",
            None,
        )
        assert item["case_number"].startswith("（2026）云0102执")
    assert [i["rung"] for i in escalation(await _inbox(api, "bureau_chief"))] == ["warn"]
    assert {i["rung"] for i in escalation(await _inbox(api, "handler"))} == {"remind_open", "remind_due"}
    assert escalation(await _inbox(api, "vice_president")) == []
    assert await _inbox(api, "president2") == []
    items = await _inbox(api, "handler")
    assert [i["created_at"] for i in items] == sorted((i["created_at"] for i in items), reverse=True)

    inquiry = {"type": "network_inquiry", "occurred_at": now_iso(-timedelta(hours=1)), "summary": "总对总查询"}
    r = await api.as_("handler", "POST", f"/api/cases/{case_id}/nodes", json=inquiry)
    assert r.status_code == 201, r.text

    left = await eventually(lambda: _inbox(api, "president"), lambda items: not escalation(items))
    assert escalation(left) == []
    [met] = escalation(await _inbox(api, "president", all="true"))
    assert met["met_at"] is not None
    assert escalation(await _inbox(api, "handler")) == []
    # Met, the investigation leaves the supervision list too.
    body = await eventually(
        lambda: _supervision(api, "bureau_chief"),
        lambda r: not [i for i in r.json()["items"] if i["case_id"] == case_id],
    )
    assert [i for i in body.json()["items"] if i["case_id"] == case_id] == []


async def test_inbox_needs_a_login_and_is_personal(api: Api) -> None:
    assert (await api.http.get("/api/inbox")).status_code == 401
    case_id = await _file(api)
    # A fresh case reminds its handler that the clocks started; nobody else hears of it yet.
    items = await eventually(lambda: _inbox(api, "handler"), lambda items: any(i["case_id"] == case_id for i in items))
    assert {i["rung"] for i in items if i["case_id"] == case_id} == {"remind_open"}
    for user in ("clerk", "bureau_chief", "president", "handler2"):
        assert [i for i in await _inbox(api, user) if i["case_id"] == case_id] == [], user


async def test_a_stay_takes_paused_deadlines_out_of_the_earliest_due(api: Api, dev_env: WorkflowEnvironment) -> None:
    """During a stay only the running clocks (progress feedback) set YgEarliestDue, so supervision skips the case."""
    case_id = await _file(api)
    workflow_id = f"case-{case_id}"

    async def earliest() -> datetime | None:
        desc = await dev_env.client.get_workflow_handle(workflow_id).describe()
        return desc.typed_search_attributes.get(EARLIEST_DUE)

    async def due_of(obligation_id: str) -> datetime | None:
        r = await api.as_("handler", "GET", f"/api/cases/{case_id}")
        ob = next((o for o in r.json()["obligations"] if o["obligation_id"] == obligation_id), None)
        return datetime.fromisoformat(ob["due_at"]) if ob else None

    investigate = await eventually(lambda: due_of("investigate-1m"), lambda d: d is not None)
    assert investigate is not None
    assert await eventually(earliest, lambda d: d == investigate) == investigate
    url = f"/api/cases/{case_id}/nodes"
    stay = {"type": "stay", "occurred_at": now_iso(-timedelta(minutes=5)), "summary": "暂缓执行"}
    assert (await api.as_("handler", "POST", url, json=stay)).status_code == 201
    feedback = await due_of("feedback:1")
    assert feedback is not None and feedback > investigate
    assert await eventually(earliest, lambda d: d == feedback) == feedback  # not the paused investigation

"""Bad input gets a 4xx in the API.md shape, names the problem and changes nothing (API.md → Cases, Nodes)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from api.security import issue_token
from db.models import Case, Node, Party, SmsMessage, Staff
from domain.clock import BEIJING
from domain.models import CaseState
from tests.api.conftest import Api
from tests.api.helpers import case_body, eventually, now_iso

TODAY = datetime.now(BEIJING).date()


def applicant(phone: str, *, name: str = "张三", id_number: str = "530102199001012234") -> list[dict[str, Any]]:
    return [{"name": name, "id_number": id_number, "phone": phone, "eservice_consent": True}]


def assert_error(r: httpx.Response, status: int, kind: str, *named: str) -> None:
    """The one error shape of API.md, with a detail that names what was wrong."""
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error", "detail"}, body
    assert body["error"] == kind, body
    for word in named:
        assert word in body["detail"], body


async def _rows(api: Api) -> dict[str, int]:
    """Rows a request could have created: cases, parties, nodes, messages to parties (not the ladder's to staff)."""
    counts = {
        "Case": select(func.count()).select_from(Case),
        "Party": select(func.count()).select_from(Party),
        "Node": select(func.count()).select_from(Node),
        "SmsMessage": select(func.count()).where(SmsMessage.recipient.startswith("party:")),
    }
    async with api.sessions() as s:
        return {name: int(await s.scalar(q) or 0) for name, q in counts.items()}


async def _workflows(env: WorkflowEnvironment, api: Api) -> int:
    """Workflows started on this test's own task queue (visibility lags a little; callers poll)."""
    return (await env.client.count_workflows(f"TaskQueue = '{api.settings.task_queue}'")).count


async def _file(api: Api, **overrides: Any) -> dict[str, Any]:
    """File a case and wait for its filing SMS, so later counts are stable."""
    r = await api.as_("registrar", "POST", "/api/cases", json=case_body(**overrides))
    assert r.status_code == 201, r.text
    filed: dict[str, Any] = r.json()
    await eventually(lambda: _sms(api, filed["case_id"]), lambda s: [m["status"] for m in s] == ["sent"])
    return filed


async def _sms(api: Api, case_id: str) -> list[dict[str, Any]]:
    """The case's messages to parties (the filing and its nodes); the ladder's reminders to staff are left out."""
    r = await api.as_("handler", "GET", f"/api/sms?case_id={case_id}")
    assert r.status_code == 200, r.text
    return [m for m in r.json() if m["reason"] == "filed" or m["reason"].startswith("node:")]


async def _state(env: WorkflowEnvironment, workflow_id: str) -> CaseState:
    return await env.client.get_workflow_handle(workflow_id).query("state", result_type=CaseState)


# ---------------------------------------------------------------------------------------------- filing


# Kinds refused as "not allowed" or "not found"; every other kind of bad input is a 422.
STATUS = {"RoleNotAllowed": 403, "OtherCourt": 403, "NotOnCase": 403, "CaseNotFound": 404}


def bad(id_: str, change: Any, kind: str, *named: str, user: str = "registrar") -> Any:
    """One row of a refusal table: who sends what, the kind of error, and words its detail must contain."""
    return pytest.param(user, change, STATUS.get(kind, 422), kind, list(named), id=id_)


def phone(number: str) -> dict[str, Any]:
    return {"applicants": applicant(number)}


NEXT_YEAR_BUT_ONE = TODAY.year + 2

# Refusals happen before anything is written, the same on every engine: the long tables run on SQLite only,
# the tests that do write (repeats, races, flags, closure) on PostgreSQL as well.
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.mark.parametrize(
    ("user", "overrides", "status", "kind", "named"),
    [
        bad("malformed-number", {"case_number": "2026云0102执1号"}, "InvalidCaseNumber", "2026云0102执1号"),
        bad("civil-number", {"case_number": "（2026）云0102民1号"}, "InvalidCaseNumber", "格式"),
        bad("other-court-prefix", {"case_number": "（2026）云0103执1号"}, "InvalidCaseNumber", "云0103", "云0102"),
        bad("year-ahead", {"case_number": f"（{NEXT_YEAR_BUT_ONE}）云0102执1号"}, "InvalidCaseNumber", "年份"),
        bad("phone-11-stars", phone("*" * 11), "PlaceholderPhone", "*" * 11),
        bad("phone-11-ones", phone("1" * 11), "PlaceholderPhone", "1" * 11),
        bad("phone-11-zeros", phone("0" * 11), "PlaceholderPhone", "0" * 11),
        bad("phone-sequence", phone("12345678901"), "PlaceholderPhone", "12345678901"),
        bad("phone-landline", phone("0871-65123456"), "LandlinePhone", "0871-65123456", "固定电话"),
        bad("phone-service-number", phone("4008001234"), "NotMobilePhone", "4008001234"),
        bad("phone-too-short", phone("1380013800"), "InvalidPhone", "1380013800"),
        bad("phone-missing", phone(""), "MissingPhone", "张三"),
        # The demo handler's own mobile (db/demo.py: court 1, role 2), typed with a +86 prefix.
        bad("phone-of-staff", phone("+86 147 0871 1002"), "StaffPhone", "147****1002", "工作人员"),
        bad("unknown-court", {"court_code": "YN9999"}, "UnknownCourt", "YN9999"),
        bad("unknown-handler", {"handler": "nobody"}, "UnknownHandler", "nobody"),
        bad("handler-of-other-court", {"handler": "handler2"}, "UnknownHandler", "handler2"),
        bad("handler-not-a-handler", {"handler": "clerk"}, "UnknownHandler", "clerk"),
        bad("clerk-not-a-clerk", {"clerk": "handler"}, "UnknownClerk", "handler"),
        bad("filed-tomorrow", {"filed_on": (TODAY + timedelta(days=1)).isoformat()}, "FutureFiling", "立案日期"),
        bad("filed-before-number-year", {"filed_on": "1900-01-01"}, "FilingDateMismatch", "1900年1月1日", "2026"),
        bad("filed-in-year-1", {"filed_on": "0001-01-01"}, "FilingDateMismatch", "案号年份"),
        bad("no-applicant", {"applicants": []}, "InvalidInput", "applicants"),
        bad("negative-amount", {"amount": "-1"}, "InvalidInput", "amount"),
        bad("handler-files", {}, "RoleNotAllowed", "立案人员", user="handler"),
        bad("admin-files", {}, "RoleNotAllowed", "立案人员", user="admin"),
        bad("registrar-of-other-court", {}, "OtherCourt", "本院", user="registrar2"),
    ],
)
@sqlite_only
async def test_bad_filing_is_refused_and_stores_nothing(
    api: Api,
    dev_env: WorkflowEnvironment,
    user: str,
    overrides: dict[str, Any],
    status: int,
    kind: str,
    named: list[str],
) -> None:
    before = await _rows(api)
    r = await api.as_(user, "POST", "/api/cases", json=case_body(**overrides))
    assert_error(r, status, kind, *named)
    assert await _rows(api) == before == {"Case": 0, "Party": 0, "Node": 0, "SmsMessage": 0}
    assert await _workflows(dev_env, api) == 0


@pytest.mark.parametrize(
    ("headers", "kind"),
    [
        pytest.param({}, "NotAuthenticated", id="no-token"),
        pytest.param({"Authorization": "Bearer not-a-token"}, "InvalidToken", id="garbage-token"),
        pytest.param({"Authorization": "Basic cmVnaXN0cmFyOmRlbW8tcGFzc3dvcmQ="}, "NotAuthenticated", id="basic-auth"),
        pytest.param("forged", "InvalidToken", id="token-signed-with-another-key"),
        pytest.param("expired", "TokenExpired", id="expired-token"),
    ],
)
@sqlite_only
async def test_filing_without_a_valid_login_is_401(
    api: Api, dev_env: WorkflowEnvironment, headers: dict[str, str] | str, kind: str
) -> None:
    if headers == "forged":
        token = issue_token(Staff(username="registrar", role="registrar", login_epoch=0), secret="x" * 40, minutes=5)
        headers = {"Authorization": f"Bearer {token}"}
    elif headers == "expired":
        token = issue_token(
            Staff(username="registrar", role="registrar", login_epoch=0), secret=api.settings.secret_key, minutes=-1
        )
        headers = {"Authorization": f"Bearer {token}"}
    assert isinstance(headers, dict)
    r = await api.http.post("/api/cases", json=case_body(), headers=headers)
    assert_error(r, 401, kind)
    assert r.headers["WWW-Authenticate"] == "Bearer"
    assert (await _rows(api))["Case"] == 0
    assert await _workflows(dev_env, api) == 0


@sqlite_only
async def test_wrong_password_is_401_without_a_token(api: Api) -> None:
    r = await api.http.post("/api/auth/token", data={"username": "registrar", "password": "guess"})
    assert_error(r, 401, "WrongCredentials")
    assert "access_token" not in r.json()


async def test_filing_the_same_number_twice_returns_the_first_case(api: Api, dev_env: WorkflowEnvironment) -> None:
    body = case_body()
    first = await api.as_("registrar", "POST", "/api/cases", json=body)
    assert first.status_code == 201, first.text
    # Half-width brackets are the same number once normalised; the same filing again is the first case.
    again_body = {**body, "case_number": body["case_number"].replace("（", "(").replace("）", ")")}
    again = await api.as_("registrar", "POST", "/api/cases", json=again_body)
    assert again.status_code == 200, again.text
    # The same number with other data is refused and changes nothing (issue 9 item 5).
    other = await api.as_("registrar", "POST", "/api/cases", json={**again_body, "cause": "其他"})
    assert other.status_code == 409 and other.json()["error"] == "CaseAlreadyFiled", other.text
    assert again.json()["case_id"] == first.json()["case_id"]
    assert again.json()["workflow_id"] == first.json()["workflow_id"]
    case_id = first.json()["case_id"]
    sms = await eventually(lambda: _sms(api, case_id), lambda s: len(s) == 1 and s[0]["status"] == "sent")
    assert [m["reason"] for m in sms] == ["filed"]
    assert (await _rows(api))["Case"] == 1
    assert await eventually(lambda: _workflows(dev_env, api), lambda n: n >= 1) == 1


async def test_filing_the_same_number_at_once_starts_one_workflow(api: Api, dev_env: WorkflowEnvironment) -> None:
    body = case_body()
    a, b = await asyncio.gather(*(api.as_("registrar", "POST", "/api/cases", json=body) for _ in range(2)))
    assert sorted([a.status_code, b.status_code]) == [200, 201], (a.text, b.text)
    assert a.json()["case_id"] == b.json()["case_id"]
    assert (await _rows(api))["Case"] == 1
    assert await eventually(lambda: _workflows(dev_env, api), lambda n: n >= 1) == 1


async def test_refiling_a_closed_case_returns_it_and_starts_nothing(api: Api, dev_env: WorkflowEnvironment) -> None:
    body = case_body()
    filed = await _file(api, **body)
    closure = {"type": "closure", "occurred_at": now_iso(-timedelta(minutes=1)), "mode": "执行完毕"}
    r = await api.as_("handler", "POST", f"/api/cases/{filed['case_id']}/nodes", json=closure)
    assert r.status_code == 201, r.text
    handle = dev_env.client.get_workflow_handle(filed["workflow_id"])
    assert await handle.result() == "closed"
    query = f"WorkflowId = '{filed['workflow_id']}'"
    before = {w.run_id async for w in dev_env.client.list_workflows(query)}  # a run may have continued as new
    again = await api.as_("registrar", "POST", "/api/cases", json=body)
    assert again.status_code == 200, again.text
    assert again.json()["case_id"] == filed["case_id"]
    assert {w.run_id async for w in dev_env.client.list_workflows(query)} == before
    assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED


async def test_shared_applicant_phone_is_accepted_but_flagged(api: Api) -> None:
    phone = "13912345678"
    first = await api.as_("registrar", "POST", "/api/cases", json=case_body(applicants=applicant(phone)))
    assert first.status_code == 201, first.text
    assert first.json()["warnings"] == []
    # The same person on a second case is not suspicious; a different person with the number is.
    same = await api.as_("registrar", "POST", "/api/cases", json=case_body(applicants=applicant(phone)))
    other = await api.as_(
        "registrar",
        "POST",
        "/api/cases",
        json=case_body(applicants=applicant(phone, name="王五", id_number="530102198001014235")),
    )
    assert (same.status_code, other.status_code) == (201, 201), (same.text, other.text)
    assert same.json()["warnings"] == []
    assert len(other.json()["warnings"]) == 1 and "139****5678" in other.json()["warnings"][0]
    flags = []
    for filed in (first, same, other):
        case = (await api.as_("handler", "GET", f"/api/cases/{filed.json()['case_id']}")).json()
        flags.append([p["phone_flag"] for p in case["parties"] if p["role"] == "applicant"])
    assert flags == [[None], [None], ["shared_phone"]]


# ----------------------------------------------------------------------------------------------- nodes


def _node(**overrides: Any) -> dict[str, Any]:
    return {"type": "freeze", "occurred_at": now_iso(-timedelta(hours=1)), "summary": "冻结银行存款", **overrides}


def _filed_on_minus(days: int) -> str:
    """An instant on the Beijing day ``days`` before case_body's filing day (two days ago)."""
    day = TODAY - timedelta(days=2 + days)
    return datetime.combine(day, datetime.min.time().replace(hour=12), BEIJING).isoformat()


def node(**change: Any) -> Callable[[], dict[str, Any]]:
    """A node body built when the test runs, so "an hour ago" and "in half an hour" stay true."""
    return lambda: _node(**{k: v() if callable(v) else v for k, v in change.items()})


def bad_node(id_: str, change: Any, kind: str, *named: str, user: str = "handler") -> Any:
    return bad(id_, change, kind, *named, user=user)


def ago(**delta: float) -> Callable[[], str]:
    return lambda: now_iso(-timedelta(**delta))


@pytest.mark.parametrize(
    ("user", "body", "status", "kind", "named"),
    [
        bad_node("handler-of-other-court", node(), "CaseNotFound", user="handler2"),
        bad_node("admin-of-other-court", node(), "CaseNotFound", user="admin2"),
        bad_node("registrar-of-the-court", node(), "NotOnCase", "承办人", user="registrar"),
        bad_node("bureau-chief", node(), "NotOnCase", "承办人", user="bureau_chief"),
        bad_node("unknown-type", node(type="teleport"), "UnknownNodeType", "teleport"),
        bad_node("tomorrow", node(occurred_at=ago(days=-1)), "FutureTime", "未来"),
        bad_node("half-hour-ahead", node(occurred_at=ago(minutes=-30)), "FutureTime", "未来"),
        bad_node("before-filing", node(occurred_at=_filed_on_minus(1)), "BeforeFiling", "立案日期"),
        bad_node("no-timezone", node(occurred_at="2026-01-01T10:00:00"), "InvalidInput", "occurred_at"),
        bad_node("year-1-east-of-beijing", node(occurred_at="0001-01-01T00:00:00+14:00"), "InvalidTime", "范围"),
        bad_node("bad-closure-mode", node(type="closure", mode="随便"), "InvalidClosureMode", "随便", "执行完毕"),
        bad_node("closure-without-mode", node(type="closure"), "MissingField", "mode"),
        bad_node("auction-without-time", node(type="online_auction"), "MissingField", "scheduled_at"),
        bad_node("negative-amount", node(type="funds_received", amount="-500"), "InvalidAmount", "-500"),
        bad_node("bad-scheduled-at", node(type="hearing", scheduled_at="下周一"), "InvalidTime", "scheduled_at"),
        bad_node("key-too-long", node(key="k" * 129), "InvalidIdempotencyKey", "Idempotency-Key"),
    ],
)
@sqlite_only
async def test_bad_node_is_refused_and_records_nothing(
    api: Api,
    dev_env: WorkflowEnvironment,
    user: str,
    body: Callable[[], dict[str, Any]],
    status: int,
    kind: str,
    named: list[str],
) -> None:
    filed = await _file(api)
    before = await _rows(api)
    payload = body()
    key = payload.pop("key", "k")
    url = f"/api/cases/{filed['case_id']}/nodes"
    r = await api.as_(user, "POST", url, json=payload, headers={"Idempotency-Key": key})
    assert_error(r, status, kind, *named)
    assert await _rows(api) == before
    state = await _state(dev_env, filed["workflow_id"])
    assert (state.node_count, state.processed) == (0, {})
    assert [m["reason"] for m in await _sms(api, filed["case_id"])] == ["filed"]


async def test_node_on_unknown_case_or_without_login_is_refused(api: Api) -> None:
    r = await api.as_("handler", "POST", "/api/cases/no-such-case/nodes", json=_node())
    assert_error(r, 404, "CaseNotFound")
    filed = await _file(api)
    r = await api.http.post(f"/api/cases/{filed['case_id']}/nodes", json=_node())
    assert_error(r, 401, "NotAuthenticated")
    assert (await _rows(api))["Node"] == 0


async def test_node_on_a_closed_case_is_409_and_the_closure_key_still_answers(
    api: Api, dev_env: WorkflowEnvironment
) -> None:
    filed = await _file(api)
    url = f"/api/cases/{filed['case_id']}/nodes"
    closure = _node(type="closure", mode="执行完毕", summary="执行完毕")
    closed = await api.as_("clerk", "POST", url, json=closure, headers={"Idempotency-Key": "end"})
    assert closed.status_code == 201, closed.text
    assert await dev_env.client.get_workflow_handle(filed["workflow_id"]).result() == "closed"
    late = await api.as_("handler", "POST", url, json=_node(), headers={"Idempotency-Key": "after"})
    assert_error(late, 409, "CaseClosed", "结案")
    again = await api.as_("handler", "POST", url, json=closure, headers={"Idempotency-Key": "end"})
    assert again.status_code == 200, again.text
    assert again.json()["node_id"] == closed.json()["node_id"]
    case = (await api.as_("handler", "GET", f"/api/cases/{filed['case_id']}")).json()
    assert case["status"] == "closed"
    assert [(n["type"], n["fields"]) for n in case["nodes"]] == [("closure", {"mode": "执行完毕"})]
    sms = await _sms(api, filed["case_id"])
    assert [m["reason"] for m in sms] == ["filed", f"node:{closed.json()['node_id']}"]


@sqlite_only
async def test_node_while_the_worker_is_down_is_503_and_the_same_key_records_it_once(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stuck workflow answers 503 in bounded time instead of hanging the request; the retry acts once."""
    filed = await _file(api)
    url = f"/api/cases/{filed['case_id']}/nodes"
    node = _node()  # one body: the retry sends the same request
    monkeypatch.setattr("api.updates.UPDATE_DEADLINE", timedelta(seconds=2))
    await api.worker.stop()
    try:
        r = await api.as_("handler", "POST", url, json=node, headers={"Idempotency-Key": "down"})
        assert_error(r, 503, "TemporalUnavailable", "Idempotency-Key")
        assert (await _rows(api))["Node"] == 0
    finally:
        await api.worker.start()
    again = await api.as_("handler", "POST", url, json=node, headers={"Idempotency-Key": "down"})
    assert again.status_code in (200, 201), again.text
    sms = await eventually(lambda: _sms(api, filed["case_id"]), lambda s: len(s) == 2)
    assert [m["reason"] for m in sms] == ["filed", f"node:{again.json()['node_id']}"]
    assert (await _rows(api))["Node"] == 1

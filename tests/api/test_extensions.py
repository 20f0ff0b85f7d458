"""Extending the execution term over HTTP (法发〔2006〕35号; DOMAIN.md → term-6m), against a real worker."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import httpx

from domain.clock import BEIJING, add_months
from tests.api.conftest import Api
from tests.api.helpers import case_body, eventually, now_iso

TODAY = datetime.now(BEIJING).date()
REASON = "被执行人名下房产正在网络拍卖，需延长执行期限"


def assert_error(r: httpx.Response, status: int, kind: str) -> None:
    assert r.status_code == status, r.text
    assert set(r.json()) == {"error", "detail"}, r.json()
    assert r.json()["error"] == kind, r.json()


async def _file(api: Api, **overrides: Any) -> str:
    r = await api.as_("registrar", "POST", "/api/cases", json=case_body(**overrides))
    assert r.status_code == 201, r.text
    case_id: str = r.json()["case_id"]
    return case_id


async def _case(api: Api, case_id: str) -> dict[str, Any]:
    r = await api.as_("handler", "GET", f"/api/cases/{case_id}")
    assert r.status_code == 200, r.text
    case: dict[str, Any] = r.json()
    return case


def _term(case: dict[str, Any]) -> dict[str, Any]:
    return next(o for o in case["obligations"] if o["rule"] == "term-6m")


async def _term_end(api: Api, filed_on: str, months: int) -> datetime:
    """The term's end by the legal calendar, as GET /api/periods computes it."""
    params = {"start": filed_on, "length": months, "unit": "months"}
    r = await api.as_("handler", "GET", "/api/periods", params=params)
    assert r.status_code == 200, r.text
    return datetime.fromisoformat(r.json()["ends_at"])


async def _request(
    api: Api, case_id: str, user: str = "handler", key: str | None = None, **body: Any
) -> httpx.Response:
    headers = {"Idempotency-Key": key} if key else {}
    payload = {"months": 3, "reason": REASON, **body}
    return await api.as_(user, "POST", f"/api/cases/{case_id}/extensions", json=payload, headers=headers)


async def _decide(api: Api, case_id: str, ext_id: str, user: str = "president", **body: Any) -> httpx.Response:
    payload = {"approve": True, "note": "同意延长", **body}
    return await api.as_(user, "POST", f"/api/cases/{case_id}/extensions/{ext_id}/decision", json=payload)


async def test_approved_extension_moves_the_term_and_tells_the_applicant(api: Api) -> None:
    body = case_body()
    case_id = await _file(api, **body)
    before = _term(await _case(api, case_id))
    assert datetime.fromisoformat(before["due_at"]) == await _term_end(api, body["filed_on"], 6)

    r = await _request(api, case_id, key="ext-1")
    assert r.status_code == 201, r.text
    ext = r.json()
    assert (ext["months"], ext["reason"], ext["status"], ext["requested_by"]) == (3, REASON, "pending", "handler")
    again = await _request(api, case_id, key="ext-1")
    assert again.status_code == 200, again.text
    assert again.json()["id"] == ext["id"]

    listed = await api.as_("clerk", "GET", f"/api/cases/{case_id}/extensions")
    assert listed.status_code == 200, listed.text
    assert [(e["id"], e["status"]) for e in listed.json()["items"]] == [(ext["id"], "pending")]

    r = await _decide(api, case_id, ext["id"])
    assert r.status_code == 200, r.text
    decided = r.json()
    assert (decided["status"], decided["decided_by"], decided["note"]) == ("approved", "president", "同意延长")
    nine_months = await _term_end(api, body["filed_on"], 9)
    assert datetime.fromisoformat(decided["term_due_at"]) == nine_months

    case = await _case(api, case_id)
    after = _term(case)
    assert datetime.fromisoformat(after["due_at"]) == nine_months
    assert datetime.fromisoformat(after["due_at"]) - datetime.fromisoformat(before["due_at"]) >= timedelta(days=89)
    changes = [n for n in case["nodes"] if n["type"] == "term_change"]
    assert len(changes) == 1 and changes[0]["fields"]["months"] == "3", case["nodes"]
    assert changes[0]["recorded_by"] == "president"

    async def party_sms() -> list[dict[str, Any]]:
        r = await api.as_("handler", "GET", f"/api/sms?case_id={case_id}")
        return [m for m in r.json() if m["audience"] == "party"]

    reason = f"node:{changes[0]['node_id']}"
    sms = await eventually(party_sms, lambda ms: any(m["reason"] == reason and m["status"] == "sent" for m in ms))
    assert any(m["reason"] == reason and m["status"] == "sent" for m in sms), sms

    listed = await api.as_("handler", "GET", f"/api/cases/{case_id}/extensions")
    assert [e["status"] for e in listed.json()["items"]] == ["approved"]
    # The same decision again changes nothing; the opposite one is refused.
    same = await _decide(api, case_id, ext["id"])
    assert same.status_code == 200, same.text
    assert _term(await _case(api, case_id))["due_at"] == after["due_at"]
    assert_error(await _decide(api, case_id, ext["id"], user="vice_president", approve=False), 409, "ExtensionDecided")


async def test_refused_extension_leaves_the_term_and_a_new_request_may_follow(api: Api) -> None:
    case_id = await _file(api)
    before = _term(await _case(api, case_id))
    ext = (await _request(api, case_id, months=2)).json()
    r = await _decide(api, case_id, ext["id"], user="vice_president", approve=False, note="理由不充分")
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["decided_by"]) == ("refused", "vice_president")
    case = await _case(api, case_id)
    assert _term(case)["due_at"] == before["due_at"]
    assert not [n for n in case["nodes"] if n["type"] == "term_change"]
    assert (await _request(api, case_id, months=1)).status_code == 201


async def test_bad_months_or_reason_is_422(api: Api) -> None:
    case_id = await _file(api)
    for months in (0, 7, -1):
        assert_error(await _request(api, case_id, months=months), 422, "InvalidInput")
    assert_error(await _request(api, case_id, reason=""), 422, "InvalidInput")
    # Blank but present: only the workflow's validator knows it is empty.
    assert_error(await _request(api, case_id, reason="   "), 422, "MissingField")
    listed = await api.as_("handler", "GET", f"/api/cases/{case_id}/extensions")
    assert listed.json()["items"] == []


async def test_second_request_while_one_is_pending_is_409(api: Api) -> None:
    case_id = await _file(api)
    assert (await _request(api, case_id, key="a")).status_code == 201
    assert_error(await _request(api, case_id, key="b", months=1), 409, "ExtensionPending")


async def test_only_the_handler_requests_and_only_the_president_or_vice_president_decides(api: Api) -> None:
    case_id = await _file(api)
    for user in ("clerk", "bureau_chief", "president"):
        assert_error(await _request(api, case_id, user=user), 403, "NotHandler")
    assert_error(await _request(api, case_id, user="handler2"), 404, "CaseNotFound")
    ext = (await _request(api, case_id)).json()
    for user in ("handler", "clerk", "bureau_chief", "discipline", "supervisor"):
        assert_error(await _decide(api, case_id, ext["id"], user=user), 403, "RoleNotAllowed")
    for user in ("president2", "vice_president2"):
        assert_error(await _decide(api, case_id, ext["id"], user=user), 404, "CaseNotFound")
    r = await api.as_("registrar2", "GET", f"/api/cases/{case_id}/extensions")
    assert_error(r, 404, "CaseNotFound")
    listed = await api.as_("handler", "GET", f"/api/cases/{case_id}/extensions")
    assert [e["status"] for e in listed.json()["items"]] == ["pending"]


async def test_unknown_extension_is_404(api: Api) -> None:
    case_id = await _file(api)
    assert_error(await _decide(api, case_id, "ext-nope"), 404, "ExtensionNotFound")
    # An extension of another case is unknown to this one.
    other = await _file(api)
    ext = (await _request(api, other)).json()
    assert_error(await _decide(api, case_id, ext["id"]), 404, "ExtensionNotFound")


async def test_request_less_than_five_days_before_expiry_is_409(api: Api) -> None:
    filed_on: date = add_months(TODAY, -6) + timedelta(days=1)  # the term ends tomorrow (or the next working day)
    case_id = await _file(api, filed_on=filed_on.isoformat(), has_property=True)
    r = await _request(api, case_id)
    assert_error(r, 409, "ExtensionTooLate")
    assert "5日前" in r.json()["detail"]


async def test_request_on_a_closed_case_is_409(api: Api) -> None:
    case_id = await _file(api)
    closure = {"type": "closure", "occurred_at": now_iso(-timedelta(minutes=1)), "mode": "执行完毕"}
    assert (await api.as_("handler", "POST", f"/api/cases/{case_id}/nodes", json=closure)).status_code == 201
    assert_error(await _request(api, case_id), 409, "CaseClosed")

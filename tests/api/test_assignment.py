"""Assignment and transfer (API.md → Assignment; seed 004): the bureau chief names the handler and clerk."""

from __future__ import annotations

from datetime import timedelta

from db.models import Staff
from domain.secrets import hash_secret
from tests.api.conftest import Api
from tests.api.helpers import case_body, eventually, now_iso


async def _case(api: Api, case_id: str) -> dict:
    r = await api.as_("bureau_chief", "GET", f"/api/cases/{case_id}")
    assert r.status_code == 200, r.text
    return r.json()


async def test_a_case_filed_without_a_handler_gets_one_and_the_applicant_is_told(api: Api) -> None:
    r = await api.as_("registrar", "POST", "/api/cases", json=case_body(handler=None, clerk=None))
    assert r.status_code == 201, r.text
    case_id = r.json()["case_id"]
    case = await eventually(
        lambda: _case(api, case_id), lambda c: any(o["rule"] == "assign-7d" for o in c["obligations"])
    )
    assert case["handler"] is None

    r = await api.as_(
        "bureau_chief", "POST", f"/api/cases/{case_id}/assignment", json={"handler": "handler", "clerk": "clerk"}
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"handler": "handler", "clerk": "clerk"}

    case = await _case(api, case_id)
    assert (case["handler"], case["clerk"]) == ("handler", "clerk")
    assert [n["type"] for n in case["nodes"]] == ["handler_assigned"]
    assign = next(o for o in case["obligations"] if o["rule"] == "assign-7d")
    assert assign["status"] == "met" and not assign["late"]
    sms = await eventually(
        lambda: api.as_("handler", "GET", f"/api/sms?case_id={case_id}"),
        lambda r: any("确定承办人" in m["body"] or "已确定承办人" in m["body"] for m in r.json()),
    )
    assert sms.status_code == 200
    # the new handler records nodes at once
    node = {"type": "notice_issued", "occurred_at": now_iso(-timedelta(minutes=5))}
    r = await api.as_("handler", "POST", f"/api/cases/{case_id}/nodes", json=node, headers={"Idempotency-Key": "a1"})
    assert r.status_code == 201, r.text


async def test_only_the_bureau_chief_or_vice_president_of_the_court_assigns(api: Api) -> None:
    case_id = (await api.as_("registrar", "POST", "/api/cases", json=case_body())).json()["case_id"]
    for user in ("handler", "president", "registrar", "discipline"):
        r = await api.as_(user, "POST", f"/api/cases/{case_id}/assignment", json={"handler": "handler"})
        assert r.status_code == 403, (user, r.text)
        assert r.json()["error"] == "RoleNotAllowed"
    r = await api.as_("bureau_chief", "POST", f"/api/cases/{case_id}/assignment", json={"handler": "handler2"})
    assert r.status_code == 422 and "不是本院在职的承办人" in r.json()["detail"]
    r = await api.as_("bureau_chief", "POST", f"/api/cases/{case_id}/assignment", json={"handler": "clerk"})
    assert r.status_code == 422


async def test_reassignment_moves_the_case_and_the_previous_handler_loses_it(api: Api) -> None:
    async with api.sessions.begin() as s:
        if not await s.get(Staff, 9001):
            s.add(
                Staff(
                    id=9001,
                    username="handler_li",
                    password_hash=hash_secret("demo-password"),
                    name="李承办",
                    role="handler",
                    court_code="YN0102",
                    mobile="13900009001",
                    active=True,
                )
            )
    case_id = (await api.as_("registrar", "POST", "/api/cases", json=case_body())).json()["case_id"]
    await eventually(lambda: _case(api, case_id), lambda c: bool(c["obligations"]))
    r = await api.as_("vice_president", "POST", f"/api/cases/{case_id}/assignment", json={"handler": "handler_li"})
    assert r.status_code == 200, r.text
    assert r.json() == {"handler": "handler_li", "clerk": "clerk"}  # the clerk stays

    node = {"type": "freeze", "occurred_at": now_iso(-timedelta(minutes=5)), "summary": "冻结银行存款"}
    r = await api.as_("handler", "POST", f"/api/cases/{case_id}/nodes", json=node, headers={"Idempotency-Key": "old"})
    assert r.status_code == 403 and r.json()["error"] == "NotOnCase"
    r = await api.as_(
        "handler_li", "POST", f"/api/cases/{case_id}/nodes", json=node, headers={"Idempotency-Key": "new"}
    )
    assert r.status_code == 201, r.text
    # the same assignment again changes nothing: no second node
    r = await api.as_("bureau_chief", "POST", f"/api/cases/{case_id}/assignment", json={"handler": "handler_li"})
    assert r.status_code == 200
    case = await _case(api, case_id)
    assert [n["type"] for n in case["nodes"]] == ["handler_assigned", "freeze"]

"""Filing a case and recording nodes through the HTTP API, against a real worker on the dev server."""

from __future__ import annotations

from datetime import timedelta

from tests.api.conftest import Api
from tests.api.helpers import case_body, eventually, now_iso


async def _sms(api: Api, case_id: str) -> list[dict]:
    """The case's messages to its parties (staff reminders of the ladder are listed too, marked staff)."""
    r = await api.as_("handler", "GET", f"/api/sms?case_id={case_id}")
    assert r.status_code == 200, r.text
    return [m for m in r.json() if m["audience"] == "party"]


async def test_filed_case_sends_filing_sms_with_query_code(api: Api) -> None:
    r = await api.as_("registrar", "POST", "/api/cases", json=case_body())
    assert r.status_code == 201, r.text
    case_id = r.json()["case_id"]
    sms = await eventually(lambda: _sms(api, case_id), lambda s: len(s) == 1 and s[0]["status"] == "sent")
    assert sms[0]["reason"] == "filed"
    assert "【昆明市五华区人民法院】" in sms[0]["body"]
    assert "查询码：******" in sms[0]["body"]
    case = (await api.as_("handler", "GET", f"/api/cases/{case_id}")).json()
    assert case["status"] == "open"


async def test_recorded_node_gets_sms_and_repeat_changes_nothing(api: Api) -> None:
    case_id = (await api.as_("registrar", "POST", "/api/cases", json=case_body())).json()["case_id"]
    node = {"type": "freeze", "occurred_at": now_iso(-timedelta(hours=1)), "summary": "冻结银行存款5万元"}
    r1 = await api.as_("handler", "POST", f"/api/cases/{case_id}/nodes", json=node, headers={"Idempotency-Key": "k1"})
    assert r1.status_code == 201, r1.text
    assert r1.json()["late"] is False
    r2 = await api.as_("handler", "POST", f"/api/cases/{case_id}/nodes", json=node, headers={"Idempotency-Key": "k1"})
    assert r2.status_code == 200
    assert r2.json()["node_id"] == r1.json()["node_id"]
    sms = await eventually(lambda: _sms(api, case_id), lambda s: len(s) == 2)
    assert [m["reason"] for m in sms] == ["filed", f"node:{r1.json()['node_id']}"]
    assert "已冻结被执行人财产" in sms[1]["body"]
    case = (await api.as_("handler", "GET", f"/api/cases/{case_id}")).json()
    assert [n["type"] for n in case["nodes"]] == ["freeze"]

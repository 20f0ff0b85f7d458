"""终本 through the API: refused with reasons, allowed after the bureau chief approves, restored as 执恢."""

from __future__ import annotations

from datetime import timedelta

from tests.api.conftest import Api
from tests.api.helpers import case_body, eventually, now_iso


async def _zhongben(api: Api, case_id: str, key: str) -> dict:
    node = {"type": "closure", "occurred_at": now_iso(-timedelta(minutes=5)), "mode": "终本"}
    r = await api.as_("handler", "POST", f"/api/cases/{case_id}/nodes", json=node, headers={"Idempotency-Key": key})
    return {"status": r.status_code, **r.json()}


async def test_zhongben_is_refused_until_the_bureau_chief_approves_then_restored(api: Api) -> None:
    case_id = (await api.as_("registrar", "POST", "/api/cases", json=case_body())).json()["case_id"]
    refused = await _zhongben(api, case_id, "zb1")
    assert refused["status"] == 422 and refused["error"] == "ZhongbenConditionsUnmet", refused
    assert "未满3个月" in refused["detail"] and "终本约谈" in refused["detail"]

    asked = await api.as_(
        "handler", "POST", f"/api/cases/{case_id}/zhongben-requests", json={"reason": "被执行人下落不明，确无财产"}
    )
    assert asked.status_code == 201, asked.text
    request_id = asked.json()["id"]
    wrong = await api.as_(
        "president", "POST", f"/api/cases/{case_id}/zhongben-requests/{request_id}/decision", json={"approve": True}
    )
    assert wrong.status_code == 403  # the bureau chief decides 终本 exceptions
    approved = await api.as_(
        "bureau_chief", "POST", f"/api/cases/{case_id}/zhongben-requests/{request_id}/decision", json={"approve": True}
    )
    assert approved.status_code == 200 and approved.json()["status"] == "approved", approved.text

    closed = await _zhongben(api, case_id, "zb2")
    assert closed["status"] == 201, closed
    case = await eventually(
        lambda: api.as_("handler", "GET", f"/api/cases/{case_id}"), lambda r: r.json()["status"] == "closed"
    )
    obligations = {o["obligation_id"]: o for o in case.json()["obligations"]}
    assert obligations["zhongben-5y:1"]["status"] == "open"  # the 5-year follow-up started

    body = case_body()
    body["case_number"] = body["case_number"].replace("执", "执恢")
    restored = await api.as_("registrar", "POST", f"/api/cases/{case_id}/restore", json=body)
    assert restored.status_code == 201, restored.text
    case = await eventually(
        lambda: api.as_("handler", "GET", f"/api/cases/{case_id}"),
        lambda r: {o["obligation_id"]: o for o in r.json()["obligations"]}["zhongben-5y:1"]["status"] == "ended",
    )
    not_zhongben = await api.as_("registrar", "POST", f"/api/cases/{restored.json()['case_id']}/restore", json=body)
    assert not_zhongben.status_code == 409


async def test_approving_a_zhongben_exception_with_a_note_keeps_the_unmet_conditions(api: Api) -> None:
    """Issue 8 defect 6: the approver's note overwrote the list of unmet conditions. The request keeps them as
    ``waived_conditions``, the decision's note stands apart, in the API and on the case page."""
    case_id = (await api.as_("registrar", "POST", "/api/cases", json=case_body())).json()["case_id"]
    asked = await api.as_(
        "handler", "POST", f"/api/cases/{case_id}/zhongben-requests", json={"reason": "被执行人下落不明，确无财产"}
    )
    assert asked.status_code == 201, asked.text
    waived = asked.json()["waived_conditions"]
    assert any("未满3个月" in c for c in waived) and any("终本约谈" in c for c in waived), waived
    assert asked.json()["note"] == ""

    note = "同意。经核查被执行人确无财产可供执行，准予终本。"
    url = f"/api/cases/{case_id}/zhongben-requests/{asked.json()['id']}/decision"
    approved = await api.as_("bureau_chief", "POST", url, json={"approve": True, "note": note})
    assert approved.status_code == 200, approved.text
    assert (approved.json()["status"], approved.json()["waived_conditions"], approved.json()["note"]) == (
        "approved",
        waived,
        note,
    )

    listed = await eventually(
        lambda: api.as_("handler", "GET", f"/api/cases/{case_id}/extensions"),
        lambda r: [i["status"] for i in r.json()["items"]] == ["approved"],
    )
    [item] = listed.json()["items"]
    assert (item["status"], item["waived_conditions"], item["note"]) == ("approved", waived, note)

    token = (await api.login("bureau_chief"))["Authorization"].removeprefix("Bearer ")
    page = await api.http.get(f"/cases/{case_id}", headers={"Cookie": f"yg_token={token}"})  # the console's login
    assert page.status_code == 200
    section = page.text[page.text.index('id="requests"') :]
    assert "未满足的条件" in section and "审批意见" in section
    for condition in waived:
        assert f"<li>{condition}</li>" in section
    assert f'<td data-label="审批意见">{note}</td>' in section  # the note in its own column, not the conditions' list


async def test_the_follow_up_inquiry_is_recorded_on_the_closed_zhongben_case_until_it_is_restored(api: Api) -> None:
    """Issue 8 item 3: after 终本 the 6-monthly network inquiry (终本规定 第九条) is still recorded on the closed
    case and meets ``zhongben-5y:1``, which opens ``zhongben-5y:2``; any other node is refused as on every closed
    case, and once the case is restored the follow-up ends and a further inquiry is refused too."""
    case_id = (await api.as_("registrar", "POST", "/api/cases", json=case_body())).json()["case_id"]
    asked = await api.as_(
        "handler", "POST", f"/api/cases/{case_id}/zhongben-requests", json={"reason": "被执行人下落不明，确无财产"}
    )
    assert asked.status_code == 201, asked.text
    url = f"/api/cases/{case_id}/zhongben-requests/{asked.json()['id']}/decision"
    approved = await api.as_("bureau_chief", "POST", url, json={"approve": True})
    assert approved.status_code == 200 and approved.json()["status"] == "approved", approved.text
    closed = await _zhongben(api, case_id, "fu-close")
    assert closed["status"] == 201, closed
    await eventually(
        lambda: api.as_("handler", "GET", f"/api/cases/{case_id}"),
        lambda r: (
            r.json()["status"] == "closed"
            and any(o["obligation_id"] == "zhongben-5y:1" for o in r.json()["obligations"])
        ),
    )

    async def node(node_type: str, key: str) -> dict:
        body = {
            "type": node_type,
            "occurred_at": now_iso(),
            "summary": "通过网络执行查控系统查询，未发现可供执行的财产",
        }
        r = await api.as_("handler", "POST", f"/api/cases/{case_id}/nodes", json=body, headers={"Idempotency-Key": key})
        return {"status": r.status_code, **r.json()}

    inquiry = await node("network_inquiry", "fu-inquiry-1")
    assert inquiry["status"] == 201, inquiry
    case = await eventually(
        lambda: api.as_("handler", "GET", f"/api/cases/{case_id}"),
        lambda r: {o["obligation_id"]: o["status"] for o in r.json()["obligations"]}.get("zhongben-5y:2") == "open",
    )
    follow_up = {o["obligation_id"]: o for o in case.json()["obligations"] if o["rule"] == "zhongben-5y"}
    assert {k: o["status"] for k, o in follow_up.items()} == {"zhongben-5y:1": "met", "zhongben-5y:2": "open"}
    assert not follow_up["zhongben-5y:1"]["late"]
    assert case.json()["status"] == "closed"
    assert inquiry["node_id"] in {n["node_id"] for n in case.json()["nodes"] if n["type"] == "network_inquiry"}

    for other in ("freeze", "field_inquiry", "notice_issued", "consumption_restriction"):
        refused = await node(other, f"fu-{other}")
        assert (refused["status"], refused["error"]) == (409, "CaseClosed"), refused

    body = case_body()
    body["case_number"] = body["case_number"].replace("执", "执恢")
    restored = await api.as_("registrar", "POST", f"/api/cases/{case_id}/restore", json=body)
    assert restored.status_code == 201, restored.text
    after = await node("network_inquiry", "fu-inquiry-2")
    assert (after["status"], after["error"]) == (409, "CaseClosed"), after
    case = await eventually(
        lambda: api.as_("handler", "GET", f"/api/cases/{case_id}"),
        lambda r: {o["obligation_id"]: o["status"] for o in r.json()["obligations"]}.get("zhongben-5y:2") == "ended",
    )
    assert [n["type"] for n in case.json()["nodes"]].count("network_inquiry") == 1


async def test_who_decides_follows_the_request_kind_on_either_decision_endpoint(api: Api) -> None:
    """Issue 9 item 2: the president approved a 终本 exception through the extensions decision endpoint. Whatever
    the path, the president or vice president decides extensions only, the bureau chief 终本 exceptions only, and a
    refused decider changes nothing."""
    case_id = (await api.as_("registrar", "POST", "/api/cases", json=case_body())).json()["case_id"]
    zb = await api.as_("handler", "POST", f"/api/cases/{case_id}/zhongben-requests", json={"reason": "确无财产"})
    assert zb.status_code == 201, zb.text
    ext = await api.as_("handler", "POST", f"/api/cases/{case_id}/extensions", json={"months": 3, "reason": "拍卖中"})
    assert ext.status_code == 201, ext.text
    before = (await api.as_("handler", "GET", f"/api/cases/{case_id}")).json()
    approve = {"approve": True, "note": "同意"}

    for path in ("extensions", "zhongben-requests"):
        for user in ("president", "vice_president"):
            url = f"/api/cases/{case_id}/{path}/{zb.json()['id']}/decision"
            r = await api.as_(user, "POST", url, json=approve)
            assert (r.status_code, r.json()["error"]) == (403, "RoleNotAllowed"), (path, user, r.text)
        url = f"/api/cases/{case_id}/{path}/{ext.json()['id']}/decision"
        r = await api.as_("bureau_chief", "POST", url, json=approve)
        assert (r.status_code, r.json()["error"]) == (403, "RoleNotAllowed"), (path, r.text)

    listed = (await api.as_("handler", "GET", f"/api/cases/{case_id}/extensions")).json()["items"]
    assert [(e["status"], e["decided_by"]) for e in listed] == [("pending", None), ("pending", None)]
    refused = await _zhongben(api, case_id, "zb-after-refusals")
    assert refused["status"] == 422 and refused["error"] == "ZhongbenConditionsUnmet", refused
    after = (await api.as_("handler", "GET", f"/api/cases/{case_id}")).json()
    term = [o["due_at"] for o in before["obligations"] if o["rule"] == "term-6m"]
    assert [o["due_at"] for o in after["obligations"] if o["rule"] == "term-6m"] == term
    assert [n["type"] for n in after["nodes"]] == [n["type"] for n in before["nodes"]]

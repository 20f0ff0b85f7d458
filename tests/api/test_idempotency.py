"""An Idempotency-Key is bound to its body (issue 9 item 5; API.md → Nodes): the same key with another body is 409
naming the key and changes nothing, the same body again is 200 with the first result, and of identical requests
sent at once exactly one is 201. Filing a number again with other data, and restoring into another case's 执恢
number, are refused instead of dropping or relinking anything."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, select

from db.models import Case
from tests.api.conftest import Api
from tests.api.helpers import case_body, now_iso

FREEZE = {"type": "freeze", "occurred_at": now_iso(-timedelta(hours=1)), "summary": "冻结存款5万元"}
FEEDBACK = {"measures": "已冻结存款5万元", "next_steps": "评估拍卖房产", "applicant_tasks": ""}


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


def _reused(r: httpx.Response, key: str) -> None:
    assert r.status_code == 409, r.text
    assert r.json()["error"] == "IdempotencyKeyReused" and key in r.json()["detail"], r.json()


async def _post(api: Api, case_id: str, path: str, body: dict[str, Any], key: str, user: str = "handler") -> Any:
    return await api.as_(user, "POST", f"/api/cases/{case_id}/{path}", json=body, headers={"Idempotency-Key": key})


async def test_a_node_key_reused_with_another_body_is_409_and_the_first_node_stands(api: Api) -> None:
    """The probe's closure, sent with a key already used for another node, was silently dropped."""
    case_id = await _file(api)
    first = await _post(api, case_id, "nodes", FREEZE, "node-1")
    assert first.status_code == 201, first.text

    closure = {"type": "closure", "occurred_at": now_iso(-timedelta(minutes=5)), "mode": "执行完毕"}
    _reused(await _post(api, case_id, "nodes", closure, "node-1"), "node-1")
    _reused(await _post(api, case_id, "nodes", {**FREEZE, "summary": "冻结存款6万元"}, "node-1"), "node-1")

    again = await _post(api, case_id, "nodes", FREEZE, "node-1")
    assert (again.status_code, again.json()) == (200, first.json())
    case = await _case(api, case_id)
    assert case["status"] == "open"
    assert [(n["type"], n["summary"]) for n in case["nodes"] if n["type"] != "filed"] == [("freeze", "冻结存款5万元")]


async def test_ten_identical_nodes_sent_at_once_are_one_201_and_nine_200_with_the_same_node(api: Api) -> None:
    case_id = await _file(api)
    answers = await asyncio.gather(*(_post(api, case_id, "nodes", FREEZE, "same-10") for _ in range(10)))
    assert sorted(r.status_code for r in answers) == [200] * 9 + [201], [r.text for r in answers]
    assert len({r.json()["node_id"] for r in answers}) == 1
    case = await _case(api, case_id)
    assert [n["type"] for n in case["nodes"]].count("freeze") == 1


async def test_one_key_with_different_bodies_at_once_records_the_first_and_refuses_the_others(api: Api) -> None:
    case_id = await _file(api)
    bodies = [{**FREEZE, "summary": f"冻结存款{n}万元"} for n in range(1, 6)]
    answers = await asyncio.gather(*(_post(api, case_id, "nodes", b, "race") for b in bodies))
    assert sorted(r.status_code for r in answers) == [201, 409, 409, 409, 409], [r.text for r in answers]
    [won] = [b for b, r in zip(bodies, answers, strict=True) if r.status_code == 201]
    case = await _case(api, case_id)
    assert [n["summary"] for n in case["nodes"] if n["type"] == "freeze"] == [won["summary"]]


async def test_a_refused_request_frees_its_key_for_the_corrected_body(api: Api) -> None:
    case_id = await _file(api)
    future = {**FREEZE, "occurred_at": now_iso(timedelta(days=2))}
    assert (await _post(api, case_id, "nodes", future, "fix-me")).status_code == 422
    assert (await _post(api, case_id, "nodes", FREEZE, "fix-me")).status_code == 201


async def test_extension_and_zhongben_keys_are_bound_to_their_bodies(api: Api) -> None:
    case_id = await _file(api)
    ext = {"months": 3, "reason": "房产正在拍卖"}
    answers = await asyncio.gather(*(_post(api, case_id, "extensions", ext, "ext-1") for _ in range(10)))
    assert sorted(r.status_code for r in answers) == [200] * 9 + [201], [r.text for r in answers]
    assert len({r.json()["id"] for r in answers}) == 1
    _reused(await _post(api, case_id, "extensions", {**ext, "months": 6}, "ext-1"), "ext-1")
    again = await _post(api, case_id, "extensions", ext, "ext-1")
    assert again.status_code == 200 and again.json()["months"] == 3

    zb = {"reason": "被执行人确无财产"}
    assert (await _post(api, case_id, "zhongben-requests", zb, "zb-1")).status_code == 201
    _reused(await _post(api, case_id, "zhongben-requests", {"reason": "另一理由"}, "zb-1"), "zb-1")
    assert (await _post(api, case_id, "zhongben-requests", zb, "zb-1")).status_code == 200
    listed = (await api.as_("handler", "GET", f"/api/cases/{case_id}/extensions")).json()["items"]
    assert sorted((e["months"], e["reason"]) for e in listed) == [(0, "被执行人确无财产"), (3, "房产正在拍卖")]


async def test_feedback_and_assignment_keys_are_bound_to_their_bodies(api: Api) -> None:
    case_id = await _file(api)
    answers = await asyncio.gather(*(_post(api, case_id, "feedback", FEEDBACK, "fb-1") for _ in range(5)))
    assert sorted(r.status_code for r in answers) == [200] * 4 + [201], [r.text for r in answers]
    _reused(await _post(api, case_id, "feedback", {**FEEDBACK, "next_steps": "另行处理"}, "fb-1"), "fb-1")
    assert (await _post(api, case_id, "feedback", FEEDBACK, "fb-1")).status_code == 200
    listed = (await api.as_("handler", "GET", f"/api/cases/{case_id}/feedback")).json()
    assert [f["next_steps"] for f in listed] == ["评估拍卖房产"]

    r = await _post(api, case_id, "assignment", {"handler": "handler"}, "as-1", user="bureau_chief")
    assert r.status_code == 200, r.text
    moved = {"handler": "handler", "clerk": "registrar"}  # refused (not a clerk): the key is free again
    assert (await _post(api, case_id, "assignment", moved, "as-2", user="bureau_chief")).status_code == 422
    _reused(await _post(api, case_id, "assignment", {"handler": "clerk"}, "as-1", user="bureau_chief"), "as-1")
    assert (await _case(api, case_id))["handler"] == "handler"


async def test_filing_a_number_again_with_other_parties_is_409_and_keeps_the_first_filing(api: Api) -> None:
    body = case_body()
    first = await api.as_("registrar", "POST", "/api/cases", json=body)
    assert first.status_code == 201, first.text
    other = {**body, "applicants": [{**body["applicants"][0], "name": "王五", "phone": "13900001111"}]}

    r = await api.as_("registrar", "POST", "/api/cases", json=other)

    assert r.status_code == 409, r.text
    assert r.json()["error"] == "CaseAlreadyFiled" and body["case_number"] in r.json()["detail"]
    again = await api.as_("registrar", "POST", "/api/cases", json=body)
    assert (again.status_code, again.json()["case_id"]) == (200, first.json()["case_id"])
    case = await _case(api, first.json()["case_id"])
    assert [p["name"] for p in case["parties"] if p["role"] == "applicant"] == ["张三"]


async def _closed_by_zhongben(api: Api) -> str:
    case_id = await _file(api)
    asked = await _post(api, case_id, "zhongben-requests", {"reason": "确无财产"}, "zb")
    assert asked.status_code == 201, asked.text
    decision = f"/api/cases/{case_id}/zhongben-requests/{asked.json()['id']}/decision"
    assert (await api.as_("bureau_chief", "POST", decision, json={"approve": True})).status_code == 200
    closure = {"type": "closure", "occurred_at": now_iso(-timedelta(minutes=5)), "mode": "终本"}
    assert (await _post(api, case_id, "nodes", closure, "close")).status_code == 201
    return case_id


async def _restored_from(api: Api, case_id: str) -> str | None:
    async with api.sessions() as s:
        case = await s.get(Case, case_id)
        assert case is not None
        return case.restored_from


async def test_restoring_into_another_case_s_number_is_409_and_its_link_stays(api: Api) -> None:
    a, b = await _closed_by_zhongben(api), await _closed_by_zhongben(api)
    body = case_body()
    body["case_number"] = body["case_number"].replace("执", "执恢")
    restored = await api.as_("registrar", "POST", f"/api/cases/{a}/restore", json=body)
    assert restored.status_code == 201, restored.text
    new_id = restored.json()["case_id"]

    r = await api.as_("registrar", "POST", f"/api/cases/{b}/restore", json=body)

    assert r.status_code == 409, r.text
    assert r.json()["error"] == "CaseNumberTaken"
    assert await _restored_from(api, new_id) == a
    again = await api.as_("registrar", "POST", f"/api/cases/{a}/restore", json=body)
    assert (again.status_code, again.json()["case_id"]) == (200, new_id)
    # Restored once: a second 执恢 number for the same 终本 case is refused, and files nothing.
    twice = case_body()
    twice["case_number"] = twice["case_number"].replace("执", "执恢")
    r = await api.as_("registrar", "POST", f"/api/cases/{a}/restore", json=twice)
    assert (r.status_code, r.json()["error"]) == (409, "AlreadyRestored"), r.text
    assert "已经恢复执行" in r.json()["detail"]
    async with api.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Case).where(Case.restored_from == a)) == 1

    alone = case_body()
    alone["case_number"] = alone["case_number"].replace("执", "执恢")
    filed = await api.as_("registrar", "POST", "/api/cases", json=alone)
    assert filed.status_code == 201, filed.text
    r = await api.as_("registrar", "POST", f"/api/cases/{b}/restore", json=alone)
    assert (r.status_code, r.json()["error"]) == (409, "CaseNumberTaken")
    assert await _restored_from(api, filed.json()["case_id"]) is None

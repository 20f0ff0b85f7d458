"""Public lists over HTTP, no login (API.md → Public lists): masked, filtered by court, paged, 404 for unknown lists."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from temporalio.api.enums.v1 import EventType
from temporalio.testing import ActivityEnvironment

from activities.public_lists import PublicListActivities
from db.models import PublicListEntry
from domain.public_lists import MaskInput, PublicListNodeInput
from tests.api.conftest import Api
from tests.api.helpers import case_body, eventually, now_iso

PERSON_ID = "530103198505053234"
COMPANY_CODE = "91530102MA6N123J5X"
STREET = "某某路12号3栋"


def _respondents() -> list[dict[str, str]]:
    return [
        {"name": "李四", "id_number": PERSON_ID, "address": f"云南省昆明市五华区{STREET}"},
        {"name": "云南某某建材有限公司", "id_number": COMPANY_CODE, "address": "昆明市盘龙区北京路1188号"},
    ]


async def _file(api: Api, registrar: str = "registrar", **overrides: Any) -> dict[str, Any]:
    r = await api.as_(registrar, "POST", "/api/cases", json=case_body(respondents=_respondents(), **overrides))
    assert r.status_code == 201, r.text
    case: dict[str, Any] = r.json()
    await eventually(lambda: _listed(api, case["case_id"]), bool)  # the workflow lists it beside the filing
    return case


async def _listed(api: Api, case_id: str) -> int:
    async with api.sessions() as s:
        query = select(func.count()).select_from(PublicListEntry).where(PublicListEntry.case_id == case_id)
        return int(await s.scalar(query) or 0)


async def _node(api: Api, case_id: str, type_code: str, key: str, **fields: str) -> str:
    body = {"type": type_code, "occurred_at": now_iso(-timedelta(minutes=30)), **fields}
    r = await api.as_("handler", "POST", f"/api/cases/{case_id}/nodes", json=body, headers={"Idempotency-Key": key})
    assert r.status_code == 201, r.text
    node_id: str = r.json()["node_id"]

    async def nodes() -> list[str]:
        return [n["node_id"] for n in (await api.as_("handler", "GET", f"/api/cases/{case_id}")).json()["nodes"]]

    await eventually(nodes, lambda ids: node_id in ids)
    await ActivityEnvironment().run(
        PublicListActivities(api.sessions).apply_node_to_public_lists,
        PublicListNodeInput(case_id=case_id, node_id=node_id),
    )
    return node_id


async def _list(api: Api, name: str, **params: Any) -> dict[str, Any]:
    r = await api.http.get(f"/api/public/{name}", params=params)  # no Authorization header: public
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _of(page: dict[str, Any], case_number: str) -> list[dict[str, Any]]:
    return [i for i in page["items"] if i["case_number"] == case_number]


async def test_filed_case_is_on_the_unfinished_cases_list_without_login(api: Api) -> None:
    case = await _file(api)

    page = await _list(api, "unfinished-cases")

    assert page["total"] == 2
    person, company = sorted(_of(page, case["case_number"]), key=lambda i: i["name"] != "李四")
    assert person == {
        "case_number": case["case_number"],
        "court": "昆明市五华区人民法院",
        "court_code": "YN0102",
        "name": "李四",
        "id_number_masked": "5301************34",
        "address_masked": "云南省昆明市五华区",
        "since": person["since"],
        "list": "unfinished-cases",
        "list_title": "未结执行实施案件",
        "filed_on": case_body()["filed_on"],
        "amount": "50000.00",
    }
    assert (company["name"], company["id_number_masked"], company["address_masked"]) == (
        "云南某某建材有限公司",
        "9153************5X",
        "昆明市盘龙区",
    )


async def test_public_lists_never_show_a_whole_id_number_or_address(api: Api) -> None:
    case = await _file(api)
    await _node(api, case["case_id"], "dishonest_listing", "d1")
    await _node(api, case["case_id"], "exit_restriction", "e1")

    for name in ("unfinished-cases", "dishonest", "exit-restrictions"):
        r = await api.http.get(f"/api/public/{name}")
        assert r.status_code == 200
        assert len(_of(r.json(), case["case_number"])) == 2, name
        for secret in (PERSON_ID, COMPANY_CODE, "19850505", STREET, "北京路1188号"):
            assert secret not in r.text, (name, secret)
    # nor does the applicant (a party, not a respondent) appear anywhere
    applicant_id = case_body()["applicants"][0]["id_number"]
    for name in ("unfinished-cases", "dishonest", "exit-restrictions"):
        r = await api.http.get(f"/api/public/{name}")
        assert "张三" not in r.text and applicant_id not in r.text


async def test_dishonest_listing_shows_until_the_measure_is_lifted(api: Api) -> None:
    case = await _file(api)
    await _node(api, case["case_id"], "dishonest_listing", "d1")

    page = await _list(api, "dishonest")
    assert {i["name"] for i in _of(page, case["case_number"])} == {"李四", "云南某某建材有限公司"}
    assert {i["amount"] for i in page["items"]} == {"50000.00"}
    assert {i["filed_on"] for i in page["items"]} == {None}  # 立案日期 is an unfinished-cases field
    assert (await _list(api, "exit-restrictions"))["items"] == []

    await _node(api, case["case_id"], "measure_lifted", "l1", measure="dishonest_listing")

    assert await _list(api, "dishonest") == {"items": [], "total": 0, "limit": 20, "offset": 0}
    assert len(_of(await _list(api, "unfinished-cases"), case["case_number"])) == 2


async def test_a_listing_node_goes_ahead_of_the_notices_waiting_for_a_worker_slot(api: Api) -> None:
    """On a busy machine ordinary activities wait for a slot (worker.py): the public-list step the handler's request
    waits on is scheduled at a higher priority than the case's SMS lane, so the server hands it out first."""
    case = await _file(api)
    await _node(api, case["case_id"], "dishonest_listing", "d1")

    history = await api.worker.client.get_workflow_handle(case["workflow_id"]).fetch_history()
    scheduled = [
        e.activity_task_scheduled_event_attributes
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]
    priorities = {a.activity_type.name: a.priority for a in scheduled}
    assert priorities["apply_node_to_public_lists"].priority_key == 1
    assert priorities["send_notices"].priority_key in (0, 3)  # unset: the default, 3


async def test_lifting_a_measure_that_lists_no_one_is_refused(api: Api) -> None:
    case = await _file(api)
    body = {"type": "measure_lifted", "occurred_at": now_iso(-timedelta(minutes=30)), "measure": "detention"}

    r = await api.as_(
        "handler", "POST", f"/api/cases/{case['case_id']}/nodes", json=body, headers={"Idempotency-Key": "x"}
    )

    assert r.status_code == 422, r.text
    assert r.json()["error"] == "InvalidMeasure"
    assert "detention" in r.json()["detail"]


async def test_masked_entries_leave_every_list(api: Api) -> None:
    case = await _file(api)
    await _node(api, case["case_id"], "consumption_restriction", "c1")

    await ActivityEnvironment().run(
        PublicListActivities(api.sessions).mask_case_entries, MaskInput(case_id=case["case_id"], reason="结案")
    )

    for name in ("unfinished-cases", "consumption-restrictions"):
        assert (await _list(api, name))["total"] == 0


async def test_unknown_list_is_404_in_the_error_shape(api: Api) -> None:
    r = await api.http.get("/api/public/dishonest_listing")

    assert r.status_code == 404
    assert r.json()["error"] == "UnknownList"
    assert "dishonest" in r.json()["detail"]


async def test_court_filter_includes_the_lower_courts_only(api: Api) -> None:
    wuhua = await _file(api)
    panlong = await _file(
        api, "registrar2", case_number="（2026）云0103执77号", court_code="YN0103", handler="handler2", clerk="clerk2"
    )

    def numbers(page: dict[str, Any]) -> set[str]:
        return {i["case_number"] for i in page["items"]}

    assert numbers(await _list(api, "unfinished-cases", court="YN0102")) == {wuhua["case_number"]}
    assert numbers(await _list(api, "unfinished-cases", court="YN0103")) == {panlong["case_number"]}
    both = await _list(api, "unfinished-cases", court="YN01")
    assert numbers(both) == {wuhua["case_number"], panlong["case_number"]} and both["total"] == 4
    assert (await _list(api, "unfinished-cases", court="YN"))["total"] == 4

    r = await api.http.get("/api/public/unfinished-cases", params={"court": "XX99"})
    assert (r.status_code, r.json()["error"]) == (404, "UnknownCourt")


async def test_pages_are_at_most_a_hundred_entries(api: Api) -> None:
    for _ in range(3):
        await _file(api)

    first = await _list(api, "unfinished-cases", limit=4)
    rest = await _list(api, "unfinished-cases", limit=4, offset=4)

    assert (first["total"], len(first["items"]), len(rest["items"])) == (6, 4, 2)
    seen = [(i["case_number"], i["name"]) for i in first["items"] + rest["items"]]
    assert len(set(seen)) == 6
    for bad in ({"limit": 101}, {"limit": 0}, {"offset": -1}):
        r = await api.http.get("/api/public/unfinished-cases", params=bad)
        assert (r.status_code, r.json()["error"]) == (422, "InvalidInput"), bad

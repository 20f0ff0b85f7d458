"""Progress feedback by the handler through the HTTP API (seed 002 第五条), against a real worker on the dev server."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from domain.clock import BEIJING
from tests.api.conftest import Api
from tests.api.helpers import case_body, eventually, now_iso

FEEDBACK = {
    "measures": "已冻结被执行人银行存款5万元。",
    "next_steps": "扣划冻结存款并划付给您。",
    "applicant_tasks": "请提供被执行人其他财产线索。",
}


async def file_case(api: Api, **overrides: Any) -> str:
    r = await api.as_("registrar", "POST", "/api/cases", json=case_body(**overrides))
    assert r.status_code == 201, r.text
    return str(r.json()["case_id"])


async def record(api: Api, case_id: str, node: dict[str, Any], key: str) -> str:
    r = await api.as_("handler", "POST", f"/api/cases/{case_id}/nodes", json=node, headers={"Idempotency-Key": key})
    assert r.status_code == 201, r.text
    return str(r.json()["node_id"])


async def submit(api: Api, case_id: str, key: str, body: dict[str, str] | None = None, user: str = "handler") -> Any:
    return await api.as_(
        user, "POST", f"/api/cases/{case_id}/feedback", json=body or FEEDBACK, headers={"Idempotency-Key": key}
    )


async def party_sms(api: Api, case_id: str) -> list[dict[str, Any]]:
    r = await api.as_("handler", "GET", f"/api/sms?case_id={case_id}")
    assert r.status_code == 200, r.text
    return [m for m in r.json() if m["audience"] == "party"]


async def test_feedback_after_the_first_checkpoint_meets_it_tells_the_applicant_and_a_repeat_changes_nothing(
    api: Api,
) -> None:
    filed_on = datetime.now(BEIJING).date() - timedelta(days=35)  # the 1-month checkpoint has come
    case_id = await file_case(api, filed_on=filed_on.isoformat())

    r1 = await submit(api, case_id, "fb-1")
    assert r1.status_code == 201, r1.text
    first = r1.json()
    assert first["n"] == 1
    assert first["obligation_id"] == "feedback:1"
    assert first["late"] is False
    r2 = await submit(api, case_id, "fb-1")
    assert r2.status_code == 200, r2.text
    assert r2.json() == first

    sms = await eventually(
        lambda: party_sms(api, case_id), lambda s: any(m["reason"].startswith("feedback:") for m in s)
    )
    [fb_sms] = [m for m in sms if m["reason"] == f"feedback:{first['feedback_id']}"]
    assert "第1次执行进展已反馈" in fb_sms["body"]
    assert FEEDBACK["measures"] not in fb_sms["body"]  # the full text is only in the portal
    listed = await api.as_("bureau_chief", "GET", f"/api/cases/{case_id}/feedback")
    assert listed.status_code == 200, listed.text
    [row] = listed.json()
    assert row["feedback_id"] == first["feedback_id"]
    assert (row["measures"], row["next_steps"], row["applicant_tasks"]) == tuple(FEEDBACK.values())
    assert row["submitted_by"] == "handler"
    assert row["reply"] is None and row["replied_by"] is None
    case = (await api.as_("handler", "GET", f"/api/cases/{case_id}")).json()
    [ob] = [o for o in case["obligations"] if o["obligation_id"] == "feedback:1"]
    assert ob["status"] == "met" and ob["late"] is False


async def test_feedback_before_any_checkpoint_is_voluntary(api: Api) -> None:
    case_id = await file_case(api)

    r = await submit(api, case_id, "early")

    assert r.status_code == 201, r.text
    assert r.json()["obligation_id"] is None
    assert r.json()["n"] == 1


async def test_draft_lists_the_measures_since_the_last_feedback(api: Api) -> None:
    case_id = await file_case(api)
    await record(
        api, case_id, {"type": "freeze", "occurred_at": now_iso(-timedelta(hours=3)), "summary": "冻结存款5万元"}, "n1"
    )
    await record(
        api, case_id, {"type": "search", "occurred_at": now_iso(-timedelta(hours=2)), "summary": "搜查住所"}, "n2"
    )

    r = await api.as_("clerk", "GET", f"/api/cases/{case_id}/feedback/draft")

    assert r.status_code == 200, r.text
    assert r.json()["since"] is None
    assert r.json()["measures"].startswith("立案以来，本院已采取以下执行措施：\n1. ")
    assert "冻结：冻结存款5万元。" in r.json()["measures"]
    assert "搜查" not in r.json()["measures"]  # not disclosed to parties
    assert (await submit(api, case_id, "after-draft")).status_code == 201
    deduction = {"type": "deduction", "occurred_at": now_iso(-timedelta(minutes=5)), "summary": "扣划存款1万元"}
    await record(api, case_id, deduction, "n3")

    again = (await api.as_("handler", "GET", f"/api/cases/{case_id}/feedback/draft")).json()

    assert again["since"] is not None
    assert "扣划：扣划存款1万元。" in again["measures"]
    assert "冻结" not in again["measures"]


async def test_only_the_handler_submits_and_only_staff_on_the_case_draft(api: Api) -> None:
    case_id = await file_case(api)

    clerk = await submit(api, case_id, "c1", user="clerk")
    assert (clerk.status_code, clerk.json()["error"]) == (403, "NotHandler")
    chief = await api.as_("bureau_chief", "GET", f"/api/cases/{case_id}/feedback/draft")
    assert (chief.status_code, chief.json()["error"]) == (403, "NotOnCase")
    other_court = await submit(api, case_id, "c2", user="handler2")
    assert (other_court.status_code, other_court.json()["error"]) == (404, "CaseNotFound")
    assert (await api.as_("handler2", "GET", f"/api/cases/{case_id}/feedback")).status_code == 404


async def test_feedback_without_measures_or_next_steps_is_refused(api: Api) -> None:
    case_id = await file_case(api)

    r = await submit(api, case_id, "blank", {"measures": " ", "next_steps": "", "applicant_tasks": ""})

    assert r.status_code == 422, r.text
    assert r.json()["error"] == "MissingField"
    assert "已经采取的执行措施及结果" in r.json()["detail"]
    assert (await api.as_("handler", "GET", f"/api/cases/{case_id}/feedback")).json() == []


async def test_feedback_on_a_closed_case_is_refused_but_a_repeat_still_answers(api: Api) -> None:
    case_id = await file_case(api)
    before = await submit(api, case_id, "before-close")
    assert before.status_code == 201, before.text
    closure = {"type": "closure", "occurred_at": now_iso(-timedelta(minutes=1)), "mode": "执行完毕"}
    await record(api, case_id, closure, "close")
    await eventually(
        lambda: api.as_("handler", "GET", f"/api/cases/{case_id}"), lambda r: r.json()["status"] == "closed"
    )

    r = await submit(api, case_id, "after-close")

    assert r.status_code == 409, r.text
    assert r.json()["error"] == "CaseClosed"
    repeat = await submit(api, case_id, "before-close")  # answered from the read model: the workflow has ended
    assert repeat.status_code == 200, repeat.text
    assert repeat.json() == before.json()

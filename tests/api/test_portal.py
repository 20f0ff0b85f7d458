"""The party portal (seed 001 第九条, seed 002 第三/四/五条): login, the party's own case, feedback and replies."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update

from db.models import Case, Party, PortalLoginFailure
from domain.sms import QUERY_CODE_LABEL
from tests.api.conftest import Api
from tests.api.helpers import case_body, eventually, now_iso
from tests.conftest import PhonesOutbox

QUERY_CODE = re.compile(QUERY_CODE_LABEL + r"：(\w+)")
APPLICANT_ID = "530102199001012234"
RESPONDENT_ID = "530103198505053234"


class Filed:
    def __init__(self, case_id: str, body: dict[str, Any], code: str) -> None:
        self.id = case_id
        self.number: str = body["case_number"]
        self.phone: str = body["applicants"][0]["phone"]
        self.code = code

    def login(self, **overrides: str) -> dict[str, str]:
        data = {"case_number": self.number, "id_number": APPLICANT_ID, "phone": self.phone, "query_code": self.code}
        data.update(overrides)
        return data


async def file_case(api: Api, **overrides: Any) -> Filed:
    """File a case and read the applicant's query code where only the SMS has it: the applicant's phone (the
    outbox row keeps the text with the code masked once it is sent)."""
    body = case_body(**overrides)
    r = await api.as_("registrar", "POST", "/api/cases", json=body)
    assert r.status_code == 201, r.text
    case_id = r.json()["case_id"]
    phone = body["applicants"][0]["phone"]
    assert isinstance(api.worker.deps.sms, PhonesOutbox)
    delivered = api.worker.deps.sms.delivered

    async def filing_sms() -> list[str]:
        return [
            text for to, text in delivered if to == phone and body["case_number"] in text and QUERY_CODE_LABEL in text
        ]

    [sms] = await eventually(filing_sms, lambda rows: len(rows) == 1, seconds=30)  # the first case warms the worker
    m = QUERY_CODE.search(sms)
    assert m is not None, sms
    return Filed(case_id, body, m[1])


async def login(api: Api, case: Filed, **overrides: str) -> dict[str, str]:
    r = await api.http.post("/api/portal/token", json=case.login(**overrides))
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def record(api: Api, case: Filed, node: dict[str, Any], key: str) -> None:
    r = await api.as_("handler", "POST", f"/api/cases/{case.id}/nodes", json=node, headers={"Idempotency-Key": key})
    assert r.status_code == 201, r.text


async def test_applicant_sees_the_case_with_disclosed_nodes_and_nobody_s_id_number_or_phone(api: Api) -> None:
    case = await file_case(api)
    await record(
        api, case, {"type": "freeze", "occurred_at": now_iso(-timedelta(hours=2)), "summary": "冻结存款5万元"}, "a"
    )
    await record(api, case, {"type": "search", "occurred_at": now_iso(-timedelta(hours=1)), "summary": "搜查住所"}, "b")
    # typed as people type: half-width brackets, lower-case query code, +86 and spaces in the number
    headers = await login(
        api,
        case,
        case_number=case.number.replace("（", "(").replace("）", ")"),
        query_code=case.code.lower(),
        phone="+86 " + case.phone,
    )

    r = await api.http.get("/api/portal/case", headers=headers)

    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["case_number"], got["court"], got["status"]) == (case.number, "昆明市五华区人民法院", "open")
    assert (got["handler_name"], got["handler_office_phone"]) == ("王承办", "0871-61021002")
    assert got["you"] == {"role": "applicant", "name": "张三"}
    assert {(p["role"], p["name"]) for p in got["parties"]} == {("applicant", "张三"), ("respondent", "李四")}
    assert [(n["type"], n["name"], n["summary"]) for n in got["nodes"]] == [("freeze", "冻结", "冻结存款5万元")]
    for secret in (APPLICANT_ID, RESPONDENT_ID, case.phone, case.code, "昆明市五华区某路1号"):
        assert secret not in r.text


async def test_wrong_login_data_gets_one_generic_answer(api: Api) -> None:
    case = await file_case(api)
    wrong = [
        {"query_code": "ABCDEFGH"},
        {"phone": "13912345678"},
        {"id_number": RESPONDENT_ID},
        {"case_number": "（2026）云0102执99999号"},
        {"case_number": "not a case number"},
    ]
    answers = set()
    for overrides in wrong:
        r = await api.http.post("/api/portal/token", json=case.login(**overrides))
        assert r.status_code == 401, r.text
        answers.add((r.json()["error"], r.json()["detail"]))
    assert len(answers) == 1


async def test_five_failures_lock_the_login_for_fifteen_minutes(api: Api) -> None:
    case = await file_case(api)
    for _ in range(5):
        assert (await api.http.post("/api/portal/token", json=case.login(query_code="WRONG234"))).status_code == 401

    locked = await api.http.post("/api/portal/token", json=case.login())

    assert locked.status_code == 429, locked.text
    assert locked.json()["error"] == "TooManyAttempts"
    async with api.sessions.begin() as s:  # the failures age past the window
        await s.execute(update(PortalLoginFailure).values(at=datetime.now(UTC) - timedelta(minutes=16)))
    assert (await api.http.post("/api/portal/token", json=case.login())).status_code == 200


async def test_party_and_staff_tokens_never_open_each_other_s_endpoints(api: Api) -> None:
    case = await file_case(api)
    party = await login(api, case)

    staff_endpoint = await api.http.get(f"/api/cases/{case.id}", headers=party)
    portal_with_staff = await api.http.get("/api/portal/case", headers=await api.login("handler"))
    anonymous = await api.http.get("/api/portal/feedback")

    assert (staff_endpoint.status_code, staff_endpoint.json()["error"]) == (401, "InvalidToken")
    assert (portal_with_staff.status_code, portal_with_staff.json()["error"]) == (401, "InvalidToken")
    assert anonymous.status_code == 401


async def test_a_changed_query_code_ends_the_old_login(api: Api) -> None:
    case = await file_case(api)
    party = await login(api, case)
    async with api.sessions.begin() as s:  # an agent dismissed: the court changes the code (seed 002 第四条)
        await s.execute(update(Party).where(Party.case_id == case.id).values(query_code_hash="changed"))

    r = await api.http.get("/api/portal/case", headers=party)

    assert r.status_code == 401, r.text


async def test_online_query_ends_one_month_after_closure(api: Api) -> None:
    case = await file_case(api)
    party = await login(api, case)
    closure = {"type": "closure", "occurred_at": now_iso(-timedelta(minutes=1)), "mode": "执行完毕"}
    await record(api, case, closure, "close")

    async def closed() -> Case | None:
        async with api.sessions() as s:
            return await s.get(Case, case.id)

    row = await eventually(closed, lambda c: c is not None and c.query_ends_at is not None)
    assert row is not None and row.closed_at is not None and row.query_ends_at is not None
    assert timedelta(days=28) <= row.query_ends_at - row.closed_at <= timedelta(days=32)
    still = await api.http.get("/api/portal/case", headers=party)
    assert still.status_code == 200, still.text
    assert still.json()["status"] == "closed"

    async with api.sessions.begin() as s:  # a month later
        await s.execute(update(Case).where(Case.id == case.id).values(query_ends_at=datetime.now(UTC) - timedelta(1)))
    ended = await api.http.get("/api/portal/case", headers=party)
    again = await api.http.post("/api/portal/token", json=case.login())

    for r in (ended, again):
        assert r.status_code == 403, r.text
        assert r.json()["error"] == "QueryEnded"
        assert "网上查询" in r.json()["detail"]


async def test_applicant_reads_the_full_feedback_and_replies_once(api: Api) -> None:
    case = await file_case(api)
    feedback = {"measures": "已冻结存款5万元。", "next_steps": "扣划存款。", "applicant_tasks": "请提供财产线索。"}
    r = await api.as_(
        "handler", "POST", f"/api/cases/{case.id}/feedback", json=feedback, headers={"Idempotency-Key": "f1"}
    )
    assert r.status_code == 201, r.text
    feedback_id = r.json()["feedback_id"]
    party = await login(api, case)

    listed = await api.http.get("/api/portal/feedback", headers=party)
    assert listed.status_code == 200, listed.text
    [shown] = listed.json()
    assert (shown["feedback_id"], shown["n"], shown["reply"]) == (feedback_id, 1, None)
    assert (shown["measures"], shown["next_steps"], shown["applicant_tasks"]) == tuple(feedback.values())
    assert "submitted_by" not in shown

    url = f"/api/portal/feedback/{feedback_id}/reply"
    first = await api.http.post(url, json={"text": "希望尽快扣划。"}, headers=party)
    second = await api.http.post(url, json={"text": "再说一次"}, headers=party)
    unknown = await api.http.post("/api/portal/feedback/nope/reply", json={"text": "x"}, headers=party)
    blank = await api.http.post(url, json={"text": "   "}, headers=party)

    assert first.status_code == 201, first.text
    assert first.json()["reply"] == "希望尽快扣划。" and first.json()["replied_at"] is not None
    assert (second.status_code, second.json()["error"]) == (409, "AlreadyReplied")
    assert (unknown.status_code, unknown.json()["error"]) == (404, "FeedbackNotFound")
    assert (blank.status_code, blank.json()["error"]) == (422, "MissingField")
    [staff_view] = (await api.as_("handler", "GET", f"/api/cases/{case.id}/feedback")).json()
    assert (staff_view["reply"], staff_view["replied_by"]) == ("希望尽快扣划。", "张三")


async def test_a_party_sees_only_its_own_case_s_feedback(api: Api) -> None:
    mine, other = await file_case(api), await file_case(api)
    r = await api.as_(
        "handler", "POST", f"/api/cases/{other.id}/feedback",
        json={"measures": "其他案件", "next_steps": "无"}, headers={"Idempotency-Key": "o1"},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    party = await login(api, mine)

    assert (await api.http.get("/api/portal/feedback", headers=party)).json() == []
    reply = await api.http.post(
        f"/api/portal/feedback/{r.json()['feedback_id']}/reply", json={"text": "x"}, headers=party
    )
    assert reply.status_code == 404

"""Party corrections (seed 000: wrong numbers make SMS undeliverable; DOMAIN.md → phone; issue 10 item 4): audited
field by field (who, when, old → new, why), checked as filing checks a phone, and in force for every later SMS; a
corrected applicant's phone gets a new query code, and the old one stops working."""

from __future__ import annotations

import asyncio
import itertools
import logging
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from db.models import Party, PartyChange, SmsMessage
from tests.api.conftest import Api
from tests.api.helpers import eventually, now_iso
from tests.api.test_agents import QUERY_CODE, code_of, texts_to, texts_with_code
from tests.api.test_portal import Filed, file_case, login, record

_numbers = itertools.count(2000)


def new_phone() -> str:
    return f"1590000{next(_numbers):04d}"


async def party_ids(api: Api, case: Filed) -> dict[str, int]:
    r = await api.as_("handler", "GET", f"/api/cases/{case.id}/parties")
    assert r.status_code == 200, r.text
    return {p["role"]: p["party_id"] for p in r.json()["items"]}


async def test_a_phone_correction_is_audited_and_the_next_node_sms_goes_to_the_new_number(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    case = await file_case(api)
    applicant = (await party_ids(api, case))["applicant"]
    old_token = await login(api, case)
    phone = new_phone()
    caplog.set_level(logging.DEBUG)

    r = await api.as_(
        "registrar",
        "POST",
        f"/api/cases/{case.id}/parties/{applicant}/correction",
        json={"phone": f"+86 {phone[:3]} {phone[3:7]} {phone[7:]}", "reason": "立案时号码录入错误，经本人核实更正"},
    )

    assert r.status_code == 201, r.text
    [change] = r.json()["changes"]
    assert (change["field"], change["old"], change["new"]) == (
        "phone",
        case.phone[:3] + "****" + case.phone[-4:],
        phone[:3] + "****" + phone[-4:],
    )
    assert (change["by"], change["reason"], change["codes_sent"]) == (
        "registrar",
        "立案时号码录入错误，经本人核实更正",
        1,
    )
    assert r.json()["party"]["phone_masked"] == phone[:3] + "****" + phone[-4:]
    [code_sms] = await texts_with_code(api, phone, 1)
    assert "手机号码已更正" in code_sms
    # the old phone's login and the old code are gone; the new phone with the new code gets in
    assert (await api.http.get("/api/portal/case", headers=old_token)).status_code == 401
    assert (await api.http.post("/api/portal/token", json=case.login())).status_code == 401
    assert (await api.http.post("/api/portal/token", json=case.login(phone=phone))).status_code == 401
    assert (
        await api.http.post("/api/portal/token", json=case.login(phone=phone, query_code=code_of(code_sms)))
    ).status_code == 200

    await record(
        api, case, {"type": "freeze", "occurred_at": now_iso(-timedelta(hours=1)), "summary": "冻结存款"}, "n1"
    )

    async def node_sms() -> list[str]:
        return [t for t in texts_to(api, phone) if "冻结" in t]

    [sms] = await eventually(node_sms, lambda rows: len(rows) == 1, seconds=20)
    assert case.number in sms
    assert not [t for t in texts_to(api, case.phone) if "冻结" in t]  # nothing to the old number
    audit = (await api.as_("bureau_chief", "GET", f"/api/cases/{case.id}/party-changes")).json()["items"]
    assert [(c["kind"], c["field"], c["by"]) for c in audit] == [("corrected", "phone", "registrar")]
    async with api.sessions() as s:  # the audit keeps the numbers for the court; logs keep none
        row = await s.scalar(select(PartyChange).where(PartyChange.case_id == case.id))
        assert row is not None and (row.old_value, row.new_value) == (case.phone, phone)
    logged = caplog.text
    assert phone not in logged and case.phone not in logged and phone[3:7] + phone[7:] not in logged


async def test_a_bad_phone_is_refused_with_its_reason_and_changes_nothing(api: Api) -> None:
    case = await file_case(api)
    applicant = (await party_ids(api, case))["applicant"]
    url = f"/api/cases/{case.id}/parties/{applicant}/correction"

    landline = await api.as_("handler", "POST", url, json={"phone": "0871-65432101", "reason": "更正"})
    placeholder = await api.as_("handler", "POST", url, json={"phone": "11111111111", "reason": "更正"})
    staff_phone = await api.as_("handler", "POST", url, json={"phone": "14708711002", "reason": "更正"})
    no_reason = await api.as_("handler", "POST", url, json={"phone": new_phone(), "reason": ""})
    not_keeper = await api.as_("president", "POST", url, json={"phone": new_phone(), "reason": "更正"})

    assert (landline.status_code, landline.json()["error"]) == (422, "LandlinePhone")
    assert "固定电话" in landline.json()["detail"]
    assert (placeholder.status_code, placeholder.json()["error"]) == (422, "PlaceholderPhone")
    assert (staff_phone.status_code, staff_phone.json()["error"]) == (422, "StaffPhone")
    assert no_reason.status_code == 422
    assert (not_keeper.status_code, not_keeper.json()["error"]) == (403, "NotPartyKeeper")
    async with api.sessions() as s:
        party = await s.get(Party, applicant)
        assert party is not None and party.phone == case.phone
        assert await s.scalar(select(func.count()).select_from(PartyChange)) == 0
    assert (await api.http.post("/api/portal/token", json=case.login())).status_code == 200


async def test_a_repeated_correction_changes_and_sends_nothing_twice(api: Api) -> None:
    case = await file_case(api)
    applicant = (await party_ids(api, case))["applicant"]
    phone = new_phone()
    body = {"phone": phone, "address": "昆明市盘龙区新路2号", "reason": "当事人来电更正"}
    url = f"/api/cases/{case.id}/parties/{applicant}/correction"

    await api.login("clerk")
    at_once = await asyncio.gather(*(api.as_("clerk", "POST", url, json=body) for _ in range(4)))
    later = await api.as_("clerk", "POST", url, json=body)

    assert sorted(r.status_code for r in at_once) == [200, 200, 200, 201], [r.text for r in at_once]
    [first] = [r for r in at_once if r.status_code == 201]
    assert sorted(c["field"] for c in first.json()["changes"]) == ["address", "phone"]
    assert all(r.json()["changes"] == [] for r in at_once if r.status_code == 200)
    assert (later.status_code, later.json()["changes"]) == (200, [])
    await texts_with_code(api, phone, 1)
    await asyncio.sleep(1)
    assert len([t for t in texts_to(api, phone) if QUERY_CODE.search(t)]) == 1
    async with api.sessions() as s:
        sent = await s.scalar(
            select(func.count()).select_from(SmsMessage).where(SmsMessage.reason.startswith("correction:"))
        )
        assert sent == 1


async def test_a_respondent_s_name_and_address_are_corrected_without_any_sms(api: Api) -> None:
    case = await file_case(api)
    respondent = (await party_ids(api, case))["respondent"]

    r = await api.as_(
        "handler",
        "POST",
        f"/api/cases/{case.id}/parties/{respondent}/correction",
        json={"name": "李四（李肆）", "address": "昆明市五华区某路8号", "reason": "依判决书更正"},
    )

    assert r.status_code == 201, r.text
    assert r.json()["codes_sent"] == 0
    assert {(c["field"], c["old"], c["new"]) for c in r.json()["changes"]} == {
        ("name", "李四", "李四（李肆）"),
        ("address", "昆明市五华区某路1号", "昆明市五华区某路8号"),
    }
    async with api.sessions() as s:
        assert (
            await s.scalar(
                select(func.count()).select_from(SmsMessage).where(SmsMessage.reason.startswith("correction:"))
            )
            == 0
        )

"""Agents over a case's life (seed 002 第三、四条; issue 10 item 4): an agent registered gets its own query code, a
dismissed one cannot log in, and dismissing it gives the applicant a new code by SMS — once — and ends every old
login of the case's parties at once. Online query ends a month after closure, said in plain words."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update
from temporalio.testing import WorkflowEnvironment

from api.parties import announce_pending
from db.models import Case, PartyChange, SmsMessage
from domain.errors import Unavailable
from domain.sms import QUERY_CODE_LABEL
from tests.api.conftest import Api
from tests.api.helpers import eventually, now_iso
from tests.api.outage import TemporalProxy
from tests.api.test_portal import APPLICANT_ID, Filed, file_case, login, record
from tests.conftest import PhonesOutbox

QUERY_CODE = re.compile(QUERY_CODE_LABEL + r"：(\w+)")
_numbers = itertools.count(1000)
AGENT = {"name": "赵律师", "id_number": "530103198007204562", "phone": "13700001111"}


def texts_to(api: Api, phone: str) -> list[str]:
    """What the phone with this number received so far (the outbox masks codes once sent; the phone keeps them)."""
    assert isinstance(api.worker.deps.sms, PhonesOutbox)
    return [text for to, text in api.worker.deps.sms.delivered if to == phone]


async def texts_with_code(api: Api, phone: str, count: int, *, seconds: float = 20) -> list[str]:
    async def probe() -> list[str]:
        return [t for t in texts_to(api, phone) if QUERY_CODE.search(t)]

    return await eventually(probe, lambda rows: len(rows) >= count, seconds=seconds)


def code_of(text: str) -> str:
    m = QUERY_CODE.search(text)
    assert m is not None, text
    return m[1]


async def add_agent(api: Api, case: Filed, who: str = "handler", **overrides: Any) -> dict[str, Any]:
    r = await api.as_(who, "POST", f"/api/cases/{case.id}/agents", json={**AGENT, **overrides})
    assert r.status_code == 201, r.text
    result: dict[str, Any] = r.json()
    return result


def agent_login(case: Filed, code: str, agent: dict[str, str] = AGENT) -> dict[str, str]:
    return case.login(id_number=agent["id_number"], phone=agent["phone"], query_code=code)


async def test_an_added_agent_gets_its_own_code_and_logs_in_with_it(api: Api) -> None:
    case = await file_case(api)

    for who in ("registrar", "handler", "clerk"):
        await api.login(who)

    at_once = await asyncio.gather(
        *(api.as_(who, "POST", f"/api/cases/{case.id}/agents", json=AGENT) for who in ("registrar", "handler", "clerk"))
    )

    assert sorted(r.status_code for r in at_once) == [200, 200, 201], [r.text for r in at_once]
    [added] = [r.json() for r in at_once if r.status_code == 201]
    assert added["party"]["role"] == "agent" and added["party"]["name"] == "赵律师"
    assert added["party"]["phone_masked"] == "137****1111" and added["codes_sent"] == 1
    assert [c["kind"] for c in added["changes"]] == ["agent_added"]
    assert {r.json()["party"]["party_id"] for r in at_once} == {added["party"]["party_id"]}  # one agent
    [sms] = await texts_with_code(api, AGENT["phone"], 1)
    assert "委托代理人" in sms and case.number in sms
    r = await api.http.post("/api/portal/token", json=agent_login(case, code_of(sms)))
    assert r.status_code == 200, r.text
    mine = await api.http.get("/api/portal/case", headers={"Authorization": f"Bearer {r.json()['access_token']}"})
    assert mine.status_code == 200, mine.text
    assert mine.json()["you"] == {"role": "agent", "name": "赵律师"}
    await asyncio.sleep(1)  # the repeat queued nothing: still one message
    assert len(texts_to(api, AGENT["phone"])) == 1
    listed = (await api.as_("handler", "GET", f"/api/cases/{case.id}/parties")).json()["items"]
    assert [(p["role"], p["has_query_code"]) for p in listed if p["role"] == "agent"] == [("agent", True)]


async def test_dismissing_an_agent_sends_the_applicant_a_new_code_once_and_ends_every_old_login(api: Api) -> None:
    case = await file_case(api)
    added = await add_agent(api, case)
    agent_id = added["party"]["party_id"]
    [agent_sms] = await texts_with_code(api, AGENT["phone"], 1)
    applicant_token = await login(api, case)
    agent_token = await api.http.post("/api/portal/token", json=agent_login(case, code_of(agent_sms)))
    assert agent_token.status_code == 200, agent_token.text
    agent_headers = {"Authorization": f"Bearer {agent_token.json()['access_token']}"}
    assert (await api.http.get("/api/portal/case", headers=applicant_token)).status_code == 200

    url = f"/api/cases/{case.id}/agents/{agent_id}/dismissal"
    first = await api.as_("handler", "POST", url)
    # refused at once, before any SMS has gone: the old logins of the applicant and of the agent
    old_applicant = await api.http.get("/api/portal/case", headers=applicant_token)
    old_agent = await api.http.get("/api/portal/case", headers=agent_headers)
    repeats = await asyncio.gather(*(api.as_("handler", "POST", url) for _ in range(3)))

    assert first.status_code == 201, first.text
    assert first.json()["codes_sent"] == 1 and first.json()["party"]["dismissed_at"] is not None
    assert old_applicant.status_code == 401, old_applicant.text  # its code changed
    assert old_agent.status_code == 401, old_agent.text
    assert [r.status_code for r in repeats] == [200, 200, 200]
    codes = await texts_with_code(api, case.phone, 2)  # the filing's, then the new one
    await asyncio.sleep(1.5)  # and no other
    codes = [t for t in texts_to(api, case.phone) if QUERY_CODE.search(t)]
    assert len(codes) == 2, codes
    new_sms = codes[-1]
    assert "委托代理人已解除委托" in new_sms and "原查询码作废" in new_sms
    new_code = code_of(new_sms)
    assert new_code != case.code
    async with api.sessions() as s:
        rows = await s.scalar(
            select(func.count()).select_from(SmsMessage).where(SmsMessage.reason == f"dismissal:{agent_id}")
        )
        assert rows == 1
        stored = await s.scalar(select(SmsMessage.body).where(SmsMessage.reason == f"dismissal:{agent_id}"))
        assert stored is not None and new_code not in stored  # masked once sent

    old_code = await api.http.post("/api/portal/token", json=case.login())
    new_login = await api.http.post("/api/portal/token", json=case.login(query_code=new_code))
    agent_again = await api.http.post("/api/portal/token", json=agent_login(case, code_of(agent_sms)))

    assert old_code.status_code == 401, old_code.text
    assert new_login.status_code == 200, new_login.text
    assert agent_again.status_code == 401, agent_again.text
    fresh = {"Authorization": f"Bearer {new_login.json()['access_token']}"}
    mine = await api.http.get("/api/portal/case", headers=fresh)
    assert mine.status_code == 200, mine.text
    assert {p["role"] for p in mine.json()["parties"]} == {"applicant", "respondent"}  # the agent no longer listed
    audit = (await api.as_("clerk", "GET", f"/api/cases/{case.id}/party-changes")).json()["items"]
    assert [(c["kind"], c["by"], c["codes_sent"]) for c in audit] == [
        ("agent_added", "handler", 1),
        ("agent_dismissed", "handler", 1),
    ]
    # and the dismissed agent hears nothing more of the case
    listed = (await api.as_("handler", "GET", f"/api/cases/{case.id}/parties")).json()["items"]
    await record(api, case, {"type": "freeze", "occurred_at": now_iso(-timedelta(hours=1)), "summary": "冻结存款"}, "n")

    async def freeze_sms() -> list[str]:
        return [t for t in texts_to(api, case.phone) if "冻结" in t]

    await eventually(freeze_sms, lambda rows: len(rows) == 1, seconds=20)
    async with api.sessions() as s:  # every row of the node's SMS was queued before the first went out
        recipients = set(
            await s.scalars(
                select(SmsMessage.recipient).where(SmsMessage.case_id == case.id, SmsMessage.reason.startswith("node:"))
            )
        )
    assert recipients == {f"party:{p['party_id']}" for p in listed if p["role"] == "applicant"}
    assert [t for t in texts_to(api, AGENT["phone"]) if "冻结" in t] == []


async def test_an_agent_for_one_applicant_is_dismissed_with_a_new_code_for_that_applicant_only(api: Api) -> None:
    second = {"name": "王五", "id_number": "53010219920101789X", "phone": f"1391111{next(_numbers):04d}"}
    case = await file_case(
        api,
        applicants=[{"name": "张三", "id_number": APPLICANT_ID, "phone": f"1360000{next(_numbers):04d}"}, second],
    )
    [wang_filing] = await texts_with_code(api, second["phone"], 1)
    listed = (await api.as_("handler", "GET", f"/api/cases/{case.id}/parties")).json()["items"]
    wang = next(p["party_id"] for p in listed if p["name"] == "王五")
    added = await add_agent(api, case, principal_id=wang)
    zhang_token = await login(api, case)  # the applicant the agent does not act for
    wang_token = await login(
        api, case, id_number=second["id_number"], phone=second["phone"], query_code=code_of(wang_filing)
    )

    r = await api.as_("registrar", "POST", f"/api/cases/{case.id}/agents/{added['party']['party_id']}/dismissal")
    zhang_old = await api.http.get("/api/portal/case", headers=zhang_token)
    wang_old = await api.http.get("/api/portal/case", headers=wang_token)

    assert r.status_code == 201, r.text
    assert r.json()["codes_sent"] == 1
    assert (zhang_old.status_code, zhang_old.json()["error"]) == (401, "LoginEnded")  # same code, login ended
    assert wang_old.status_code == 401
    await texts_with_code(api, second["phone"], 2)
    await asyncio.sleep(1)
    assert len([t for t in texts_to(api, case.phone) if QUERY_CODE.search(t)]) == 1  # 张三 keeps its code
    again = await api.http.post("/api/portal/token", json=case.login())
    assert again.status_code == 200, again.text


async def test_only_an_agent_is_dismissed_and_only_by_those_who_keep_the_parties(api: Api) -> None:
    case = await file_case(api)
    listed = (await api.as_("handler", "GET", f"/api/cases/{case.id}/parties")).json()["items"]
    applicant = next(p["party_id"] for p in listed if p["role"] == "applicant")
    agent = (await add_agent(api, case))["party"]["party_id"]

    not_agent = await api.as_("handler", "POST", f"/api/cases/{case.id}/agents/{applicant}/dismissal")
    unknown = await api.as_("handler", "POST", f"/api/cases/{case.id}/agents/999999/dismissal")
    chief = await api.as_("bureau_chief", "POST", f"/api/cases/{case.id}/agents/{agent}/dismissal")
    other_court = await api.as_("registrar2", "POST", f"/api/cases/{case.id}/agents/{agent}/dismissal")
    bad_phone = await api.as_(
        "handler", "POST", f"/api/cases/{case.id}/agents", json={**AGENT, "phone": "0871-65432101"}
    )
    bad_principal = await api.as_(
        "handler", "POST", f"/api/cases/{case.id}/agents", json={**AGENT, "principal_id": agent}
    )
    other_phone = await api.as_(
        "handler", "POST", f"/api/cases/{case.id}/agents", json={**AGENT, "phone": "13700003333"}
    )

    assert (not_agent.status_code, not_agent.json()["error"]) == (422, "NotAnAgent")
    assert (unknown.status_code, unknown.json()["error"]) == (404, "PartyNotFound")
    assert (chief.status_code, chief.json()["error"]) == (403, "NotPartyKeeper")
    assert other_court.status_code == 404
    assert (bad_phone.status_code, bad_phone.json()["error"]) == (422, "LandlinePhone")
    assert (bad_principal.status_code, bad_principal.json()["error"]) == (422, "UnknownPrincipal")
    assert (other_phone.status_code, other_phone.json()["error"]) == (409, "AgentAlreadyRegistered")
    async with api.sessions() as s:
        changes = await s.scalar(select(func.count()).select_from(PartyChange).where(PartyChange.case_id == case.id))
    assert changes == 1  # the one agent registered; nothing refused left a trace
    assert (await api.http.post("/api/portal/token", json=case.login())).status_code == 200  # code unchanged


async def test_on_a_closed_case_no_agent_is_added_and_a_dismissal_ends_logins_without_a_new_code(api: Api) -> None:
    case = await file_case(api)
    agent = (await add_agent(api, case))["party"]["party_id"]
    await texts_with_code(api, AGENT["phone"], 1)
    token = await login(api, case)
    await record(api, case, {"type": "closure", "occurred_at": now_iso(-timedelta(minutes=1)), "mode": "执行完毕"}, "c")

    async def closed() -> Case | None:
        async with api.sessions() as s:
            return await s.get(Case, case.id)

    await eventually(closed, lambda c: c is not None and c.status == "closed")
    added = await api.as_("handler", "POST", f"/api/cases/{case.id}/agents", json={**AGENT, "phone": "13700002222"})
    dismissed = await api.as_("handler", "POST", f"/api/cases/{case.id}/agents/{agent}/dismissal")

    assert (added.status_code, added.json()["error"]) == (409, "CaseClosed")
    assert dismissed.status_code == 201, dismissed.text
    assert dismissed.json()["codes_sent"] == 0
    assert (await api.http.get("/api/portal/case", headers=token)).status_code == 401
    assert (await api.http.post("/api/portal/token", json=case.login())).status_code == 200  # same code, new login


async def test_after_the_online_query_ends_login_says_when_and_whom_to_call(api: Api) -> None:
    case = await file_case(api)
    await record(api, case, {"type": "closure", "occurred_at": now_iso(-timedelta(minutes=1)), "mode": "执行完毕"}, "c")

    async def closed() -> Case | None:
        async with api.sessions() as s:
            return await s.get(Case, case.id)

    await eventually(closed, lambda c: c is not None and c.query_ends_at is not None)
    async with api.sessions.begin() as s:  # a month and a day later
        await s.execute(
            update(Case)
            .where(Case.id == case.id)
            .values(
                closed_at=datetime(2026, 3, 2, 2, 0, tzinfo=UTC), query_ends_at=datetime(2026, 4, 2, 15, 59, tzinfo=UTC)
            )
        )

    r = await api.http.post("/api/portal/token", json=case.login())

    assert (r.status_code, r.json()["error"]) == (403, "QueryEnded")
    assert r.json()["detail"] == (
        "本案已于2026年3月2日结案，网上查询已于2026年4月2日截止（案件办结后一个月不再提供网上查询）。"
        "如需了解情况，请致电承办法官王承办（办公电话0871-61021002）或书记员赵书记（办公电话0871-61031003）。"
    )


async def parties_setup(api: Api, case: Filed) -> tuple[int, int]:
    """For the access matrix (tests/api/test_access_matrix.py): an agent registered and dismissed — dismissing it again
    is a repeat that changes nothing — and the respondent, whose address a correction may change without any SMS.
    The applicant's new code (the dismissal's SMS) replaces ``case.code``. Returns (agent, respondent)."""
    agent = (await add_agent(api, case, name="钱律师", id_number="53010219850315123X", phone="13700004444"))["party"]
    r = await api.as_("handler", "POST", f"/api/cases/{case.id}/agents/{agent['party_id']}/dismissal")
    assert r.status_code == 201, r.text
    codes = await texts_with_code(api, case.phone, 2)
    case.code = code_of(codes[-1])
    listed = (await api.as_("handler", "GET", f"/api/cases/{case.id}/parties")).json()["items"]
    respondent = next(p["party_id"] for p in listed if p["role"] == "respondent")
    return agent["party_id"], respondent


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_dismissal_while_temporal_is_down_ends_logins_at_once_and_its_code_goes_out_once_when_back(
    api: Api, dev_env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("api.updates.UPDATE_DEADLINE", timedelta(seconds=2))
    monkeypatch.setattr("api.parties.ANNOUNCE_GRACE", timedelta(0))
    case = await file_case(api)
    agent = (await add_agent(api, case))["party"]["party_id"]
    token = await login(api, case)
    proxy = TemporalProxy(dev_env)
    await proxy.up()
    api.app.state.temporal = await proxy.client(dev_env)
    await proxy.down()

    down = await api.as_("handler", "POST", f"/api/cases/{case.id}/agents/{agent}/dismissal")

    assert (down.status_code, down.json()["error"]) == (503, "TemporalUnavailable")
    assert (await api.http.get("/api/portal/case", headers=token)).status_code == 401  # ended all the same
    await proxy.up()
    for _ in range(40):  # every API process tells the workflow what no one repeated
        with contextlib.suppress(Unavailable):
            if await announce_pending(api.sessions, api.app.state.temporal):
                break
        await asyncio.sleep(0.5)
    repeat = await api.as_("handler", "POST", f"/api/cases/{case.id}/agents/{agent}/dismissal")
    assert repeat.status_code == 200, repeat.text
    [_, new_sms] = await texts_with_code(api, case.phone, 2)
    await asyncio.sleep(1)
    assert len([t for t in texts_to(api, case.phone) if QUERY_CODE.search(t)]) == 2
    assert (await api.http.post("/api/portal/token", json=case.login(query_code=code_of(new_sms)))).status_code == 200
    async with api.sessions() as s:
        assert await s.scalar(select(func.count()).where(PartyChange.delivered_at.is_(None))) == 0

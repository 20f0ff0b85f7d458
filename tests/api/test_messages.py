"""Messages and complaints (seed 001 第十条; seed 004 “天德”): a party writes, the handler (or, for a complaint, the
discipline inspection head alone) is told at once by inbox and SMS, replies, and the party is told by SMS."""

from __future__ import annotations

import asyncio
import struct
import zlib
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from temporalio.testing import WorkflowEnvironment

from db.models import PartyMessage, SmsMessage, Staff
from domain.messages import MAX_PER_DAY
from tests.api.conftest import Api, running_api
from tests.api.helpers import console_page, eventually
from tests.api.outage import TemporalProxy
from tests.api.test_portal import Filed, file_case, login
from tests.conftest import PhonesOutbox

sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def photo(width: int = 64, height: int = 48) -> bytes:
    """A real PNG picture (the file store sniffs the bytes): an orange field with a darker band."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(
        b"\x00" + b"".join(bytes((200, 120, 40) if y < height // 2 else (120, 60, 20)) for _ in range(width))
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def _count(case: Filed) -> Any:
    return select(func.count()).select_from(PartyMessage).where(PartyMessage.case_id == case.id)


async def _mobile(api: Api, username: str) -> str:
    async with api.sessions() as s:
        mobile = await s.scalar(select(Staff.mobile).where(Staff.username == username))
    assert mobile
    return mobile


def _texts_to(api: Api, number: str) -> list[str]:
    assert isinstance(api.worker.deps.sms, PhonesOutbox)
    return [text for to, text in api.worker.deps.sms.delivered if to == number]


async def _sms_to(api: Api, number: str, needle: str, *, count: int = 1) -> list[str]:
    """The texts the phone at ``number`` received that contain ``needle`` (once the notices lane sent them)."""

    async def probe() -> list[str]:
        return [t for t in _texts_to(api, number) if needle in t]

    return await eventually(probe, lambda got: len(got) >= count, seconds=60)


async def _inbox(api: Api, username: str, **params: Any) -> list[dict[str, Any]]:
    r = await api.as_(username, "GET", "/api/inbox", params=params)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def _obligation(api: Api, case: Filed, obligation_id: str) -> dict[str, Any] | None:
    r = await api.as_("bureau_chief", "GET", f"/api/cases/{case.id}")
    assert r.status_code == 200, r.text
    return next((o for o in r.json()["obligations"] if o["obligation_id"] == obligation_id), None)


async def _write(api: Api, party: dict[str, str], body: dict[str, Any], key: str | None = None) -> Any:
    headers = {**party, **({"Idempotency-Key": key} if key else {})}
    return await api.http.post("/api/portal/messages", json=body, headers=headers)


async def test_a_message_reaches_the_handler_s_inbox_and_phone_and_opens_the_reply_clock(api: Api) -> None:
    case = await file_case(api)
    party = await login(api, case)

    r = await _write(api, party, {"kind": "message", "text": "被执行人名下有一辆小汽车，停放在某小区。"})

    assert r.status_code == 201, r.text
    message_id = r.json()["message_id"]
    [item] = [i for i in await _inbox(api, "handler") if i["kind"] == "message" and i["case_id"] == case.id]
    assert item["message_id"] == message_id and item["text"].startswith("被执行人名下有一辆小汽车")
    assert item["subject"] == "当事人留言" and item["written_by"] == "申请执行人" and item["replied_at"] is None
    [sms] = await _sms_to(api, await _mobile(api, "handler"), "当事人留言")
    assert case.number in sms and "3个工作日" in sms
    assert "小汽车" not in sms  # the text is read in the console, never in an SMS
    ob = await eventually(lambda: _obligation(api, case, f"message:{message_id}"), lambda o: o is not None, seconds=30)
    assert ob is not None and ob["status"] == "open" and ob["rule"] == "message"
    # The message's SMS is the handler's first reminder: no second "督办" SMS about the same message.
    await asyncio.sleep(0.5)
    assert [t for t in _texts_to(api, await _mobile(api, "handler")) if "答复当事人留言" in t] == []
    # Not a complaint: the discipline head's inbox does not show it.
    assert not [i for i in await _inbox(api, "discipline") if i.get("message_id") == message_id]
    listed = await api.as_("clerk", "GET", f"/api/cases/{case.id}/messages")
    assert [m["message_id"] for m in listed.json()["items"]] == [message_id]


async def test_a_reply_tells_the_party_by_sms_and_meets_the_obligation(api: Api) -> None:
    case = await file_case(api)
    party = await login(api, case)
    message_id = (await _write(api, party, {"kind": "message", "text": "请问何时扣划存款？"})).json()["message_id"]
    await eventually(lambda: _obligation(api, case, f"message:{message_id}"), lambda o: o is not None, seconds=30)

    url = f"/api/cases/{case.id}/messages/{message_id}/reply"
    clerk = await api.as_("clerk", "POST", url, json={"text": "本周内扣划。"})
    assert clerk.status_code == 403 and clerk.json()["error"] == "NotAnswerer"
    r = await api.as_("handler", "POST", url, json={"text": "已冻结存款，本周内扣划。"})

    assert r.status_code == 201, r.text
    assert r.json()["reply"] == "已冻结存款，本周内扣划。" and r.json()["replied_by"].startswith("承办法官")
    [sms] = await _sms_to(api, case.phone, "已有答复")
    assert case.number in sms and "扣划" not in sms
    ob = await eventually(
        lambda: _obligation(api, case, f"message:{message_id}"),
        lambda o: o is not None and o["status"] == "met",
        seconds=30,
    )
    assert ob is not None and ob["status"] == "met"
    assert not [i for i in await _inbox(api, "handler") if i.get("message_id") == message_id]
    mine = await api.http.get("/api/portal/messages", headers=party)
    [m] = mine.json()["items"]
    assert m["reply"] == "已冻结存款，本周内扣划。" and m["replied_at"] is not None
    # Answered once: the same reply again is a repeat, another one refused; the party got one SMS.
    again = await api.as_("handler", "POST", url, json={"text": "已冻结存款，本周内扣划。"})
    assert again.status_code == 200, again.text
    other = await api.as_("handler", "POST", url, json={"text": "改为下周。"})
    assert (other.status_code, other.json()["error"]) == (409, "AlreadyReplied")
    await asyncio.sleep(0.5)
    assert len([t for t in _texts_to(api, case.phone) if "已有答复" in t]) == 1


async def test_a_complaint_reaches_only_the_discipline_head(api: Api) -> None:
    case = await file_case(api)
    party = await login(api, case)

    r = await _write(api, party, {"kind": "complaint", "text": "承办人多次不接电话。"})

    assert r.status_code == 201, r.text
    complaint_id = r.json()["message_id"]
    [item] = [i for i in await _inbox(api, "discipline") if i.get("message_id") == complaint_id]
    assert item["kind"] == "complaint" and item["subject"] == "当事人投诉"
    [sms] = await _sms_to(api, await _mobile(api, "discipline"), "当事人投诉")
    assert case.number in sms
    # The handler sees it nowhere: not in the inbox, the case's messages, its SMS or its clocks; cannot answer it.
    assert not [i for i in await _inbox(api, "handler", all="true") if i.get("message_id") == complaint_id]
    assert not [t for t in _texts_to(api, await _mobile(api, "handler")) if "投诉" in t]
    for who in ("handler", "clerk"):
        listed = await api.as_(who, "GET", f"/api/cases/{case.id}/messages")
        assert listed.json()["items"] == []
        outbox = await api.as_(who, "GET", "/api/sms", params={"case_id": case.id})
        assert not [m for m in outbox.json() if "投诉" in m["body"]]
        detail = await api.as_(who, "GET", f"/api/cases/{case.id}")
        assert not [o for o in detail.json()["obligations"] if o["rule"] == "complaint"]
    refused = await api.as_(
        "handler", "POST", f"/api/cases/{case.id}/messages/{complaint_id}/reply", json={"text": "我很忙。"}
    )
    assert refused.status_code == 404
    assert (await _obligation(api, case, f"complaint:{complaint_id}")) is not None  # leaders see the clock
    # The discipline head reads and answers it; the party is told.
    shown = await api.as_("discipline", "GET", f"/api/cases/{case.id}/messages")
    assert [m["kind"] for m in shown.json()["items"]] == ["complaint"]
    answered = await api.as_(
        "discipline", "POST", f"/api/cases/{case.id}/messages/{complaint_id}/reply", json={"text": "已约谈承办人。"}
    )
    assert answered.status_code == 201, answered.text
    [told] = await _sms_to(api, case.phone, "投诉已有答复")
    assert case.number in told


async def test_the_same_idempotency_key_writes_one_message_and_one_sms(api: Api) -> None:
    case = await file_case(api)
    party = await login(api, case)
    body = {"kind": "message", "text": "申请延期提交财产线索。"}

    answers = await asyncio.gather(*[_write(api, party, body, key="same-key") for _ in range(5)])

    assert sorted(a.status_code for a in answers) == [200, 200, 200, 200, 201], [a.text for a in answers]
    assert len({a.json()["message_id"] for a in answers}) == 1
    other = await _write(api, party, {"kind": "message", "text": "另一条。"}, key="same-key")
    assert (other.status_code, other.json()["error"]) == (409, "IdempotencyKeyReused")
    async with api.sessions() as s:
        assert await s.scalar(_count(case)) == 1
        rows = await s.scalars(
            select(SmsMessage).where(SmsMessage.case_id == case.id, SmsMessage.reason.startswith("message:"))
        )
        assert len(rows.all()) == 1
    await _sms_to(api, await _mobile(api, "handler"), case.number)
    await asyncio.sleep(0.5)
    handler_texts = _texts_to(api, await _mobile(api, "handler"))
    assert len([t for t in handler_texts if "当事人留言" in t and case.number in t]) == 1


async def test_bad_messages_are_refused_and_change_nothing(api: Api) -> None:
    case = await file_case(api)
    party = await login(api, case)
    for body, error in (
        ({"kind": "message", "text": ""}, "InvalidInput"),
        ({"kind": "message", "text": " \n "}, "MissingField"),
        ({"kind": "message", "text": "字" * 2001}, "InvalidInput"),
        ({"kind": "praise", "text": "谢谢"}, "InvalidInput"),
        ({"kind": "message", "text": "a\u0000b"}, "InvalidInput"),
    ):
        r = await _write(api, party, body)
        assert (r.status_code, r.json()["error"]) == (422, error), r.text
    assert "内容" in (await _write(api, party, {"kind": "message", "text": "字" * 2001})).json()["detail"]
    as_staff = await api.http.post(
        "/api/portal/messages", json={"kind": "message", "text": "x"}, headers=await api.login("handler")
    )
    assert as_staff.status_code == 401
    async with api.sessions() as s:
        assert await s.scalar(_count(case)) == 0


@sqlite_only
async def test_a_party_cannot_flood_the_handler(api: Api) -> None:
    case = await file_case(api)
    party = await login(api, case)
    for i in range(MAX_PER_DAY):
        r = await _write(api, party, {"kind": "message", "text": f"第{i + 1}条"})
        assert r.status_code == 201, r.text

    r = await _write(api, party, {"kind": "complaint", "text": "再来一条"})

    assert r.status_code == 429, r.text
    assert r.json()["error"] == "TooManyMessages" and "24小时" in r.json()["detail"]
    assert int(r.headers["Retry-After"]) > 0


@pytest.mark.parametrize("db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
async def test_messages_sent_at_once_never_pass_the_daily_limit(api: Api) -> None:
    case = await file_case(api)
    party = await login(api, case)
    for i in range(MAX_PER_DAY - 2):
        assert (await _write(api, party, {"kind": "message", "text": f"第{i + 1}条"})).status_code == 201

    answers = await asyncio.gather(*[_write(api, party, {"kind": "message", "text": f"同时{i}"}) for i in range(6)])

    assert sorted(a.status_code for a in answers) == [201, 201, 429, 429, 429, 429], [a.text for a in answers]
    async with api.sessions() as s:
        assert await s.scalar(_count(case)) == MAX_PER_DAY


async def test_a_message_with_a_photo_reaches_the_handler_and_a_disguised_file_is_refused(api: Api) -> None:
    case = await file_case(api)
    party = await login(api, case)
    png = photo()

    r = await api.http.post(
        "/api/portal/messages",
        data={"kind": "message", "text": "财产线索：被执行人的车辆照片。"},
        files=[("attachments", ("车辆.png", png, "image/png"))],
        headers=party,
    )

    assert r.status_code == 201, r.text
    message_id = r.json()["message_id"]
    listed = await api.as_("handler", "GET", f"/api/cases/{case.id}/messages")
    [m] = listed.json()["items"]
    [a] = m["attachments"]
    assert a["filename"] == "车辆.png" and a["content_type"] == "image/png" and a["size"] == len(png)
    file_url = f"/api/cases/{case.id}/messages/{message_id}/attachments/{a['attachment_id']}"
    got = await api.as_("handler", "GET", file_url)
    assert got.status_code == 200 and got.content == png and got.headers["content-type"] == "image/png"
    other_court = await api.as_("handler2", "GET", file_url)
    assert other_court.status_code == 404

    disguised = await api.http.post(
        "/api/portal/messages",
        data={"kind": "message", "text": "照片"},
        files=[("attachments", ("photo.jpg", b"<html><script>alert(1)</script></html>", "image/jpeg"))],
        headers=party,
    )
    assert disguised.status_code == 415, disguised.text
    async with api.sessions() as s:
        assert await s.scalar(_count(case)) == 1


@sqlite_only
async def test_a_message_written_while_temporal_is_down_is_finished_by_its_retry_once(
    api: Api, dev_env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("api.updates.UPDATE_DEADLINE", timedelta(seconds=2))
    case = await file_case(api)
    party = await login(api, case)
    proxy = TemporalProxy(dev_env)
    await proxy.up()
    api.app.state.temporal = await proxy.client(dev_env)
    await proxy.down()
    body = {"kind": "message", "text": "法院系统是否正常？"}

    loop = asyncio.get_running_loop()
    start = loop.time()
    r = await asyncio.wait_for(_write(api, party, body, key="while-down"), 30)

    assert r.status_code == 503, r.text
    assert r.json()["error"] == "TemporalUnavailable" and loop.time() - start < 30
    await proxy.up()
    for _ in range(40):
        r = await _write(api, party, body, key="while-down")
        if r.status_code != 503:
            break
        await asyncio.sleep(0.5)
    assert r.status_code == 200, r.text
    message_id = r.json()["message_id"]
    ob = await eventually(lambda: _obligation(api, case, f"message:{message_id}"), lambda o: o is not None, seconds=30)
    assert ob is not None
    await _sms_to(api, await _mobile(api, "handler"), case.number)
    async with api.sessions() as s:
        assert await s.scalar(_count(case)) == 1
        delivered = await s.scalar(select(PartyMessage.delivered_at).where(PartyMessage.id == message_id))
    assert delivered is not None
    await asyncio.sleep(0.5)
    assert len([t for t in _texts_to(api, await _mobile(api, "handler")) if case.number in t and "留言" in t]) == 1


@pytest.fixture
async def quick_api(dev_env: WorkflowEnvironment, db_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Api]:
    """The API announcing forgotten messages every 0.3 s, with no grace period, and a 2 s bound on updates."""
    monkeypatch.setattr("api.updates.UPDATE_DEADLINE", timedelta(seconds=2))
    monkeypatch.setattr("api.messages.ANNOUNCE_INTERVAL", timedelta(milliseconds=300))
    monkeypatch.setattr("api.messages.ANNOUNCE_GRACE", timedelta(0))
    async for a in running_api(dev_env, db_url):
        yield a


@sqlite_only
async def test_a_message_whose_writer_never_retries_still_reaches_the_handler(
    quick_api: Api, dev_env: WorkflowEnvironment
) -> None:
    api = quick_api
    case = await file_case(api)
    party = await login(api, case)
    proxy = TemporalProxy(dev_env)
    await proxy.up()
    api.app.state.temporal = await proxy.client(dev_env)
    await proxy.down()

    r = await _write(api, party, {"kind": "complaint", "text": "执行款迟迟未发放。"})
    assert r.status_code == 503, r.text

    await proxy.up()  # Temporal is back; the party never sends it again
    async with api.sessions() as s:
        complaint_id = await s.scalar(select(PartyMessage.id).where(PartyMessage.case_id == case.id))
    assert complaint_id is not None
    ob = await eventually(
        lambda: _obligation(api, case, f"complaint:{complaint_id}"), lambda o: o is not None, seconds=30
    )
    assert ob is not None and ob["status"] == "open"
    [sms] = await _sms_to(api, await _mobile(api, "discipline"), "当事人投诉")
    assert case.number in sms


async def test_the_case_history_names_the_message_and_its_reply_but_never_their_text(api: Api) -> None:
    case = await file_case(api)
    party = await login(api, case)
    message_id = (await _write(api, party, {"kind": "message", "text": "我的银行卡号是6222000011112222"})).json()[
        "message_id"
    ]
    replied = await api.as_(
        "handler", "POST", f"/api/cases/{case.id}/messages/{message_id}/reply", json={"text": "请勿在留言中写卡号。"}
    )
    assert replied.status_code == 201, replied.text

    async def history() -> str:
        r = await api.as_("admin", "GET", f"/api/cases/{case.id}/history")
        return " ".join(e["summary"] for run in r.json()["runs"] for e in run["events"])

    text = await eventually(history, lambda t: "答复短信" in t and "留言、投诉短信" in t, seconds=60)
    assert f"案件事件：当事人留言（message:{message_id}）" in text
    assert f"案件事件：答复留言或投诉（reply:{message_id}）" in text
    assert "6222000011112222" not in text and "卡号" not in text


async def test_the_bureau_chief_answers_a_message_on_a_case_without_a_handler(api: Api) -> None:
    """The message waits in the chief's inbox while nobody handles the case; the chief of the case's court answers
    it (not the chief of an upper court), and the party is told."""
    case = await file_case(api, handler=None, clerk=None)
    party = await login(api, case)
    message_id = (await _write(api, party, {"kind": "message", "text": "还没有承办人吗？"})).json()["message_id"]
    assert [i for i in await _inbox(api, "bureau_chief") if i.get("message_id") == message_id]
    page = await console_page(api, "bureau_chief", f"/cases/{case.id}")
    assert f'action="/cases/{case.id}/messages/{message_id}/reply"' in page.text  # the case page's reply form
    api.http.cookies.clear()

    url = f"/api/cases/{case.id}/messages/{message_id}/reply"
    upper = await api.as_("mid_bureau_chief", "POST", url, json={"text": "由上级法院答复。"})
    assert upper.status_code in (403, 404) and upper.json()["error"] in ("NotAnswerer", "CaseNotFound"), upper.text
    r = await api.as_("bureau_chief", "POST", url, json={"text": "本周内指定承办人。"})

    assert r.status_code == 201, r.text
    [sms] = await _sms_to(api, case.phone, "已有答复")
    assert case.number in sms
    assert not [i for i in await _inbox(api, "bureau_chief") if i.get("message_id") == message_id]

"""Documents and e-service over the API (seed 001 第十一条; issue 10 items 3, 7): staff attach, the consenting parties
are reminded by SMS, a party downloads its own case's documents and the first download is the receipt; files are
taken for what their bytes are, and bounded in size and number."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select
from temporalio.testing import WorkflowEnvironment

from db.models import Document, Party, ServiceReceipt, SmsMessage
from domain.sms import QUERY_CODE_LABEL
from tests.api.conftest import Api, running_api
from tests.api.helpers import console_page, eventually, now_iso
from tests.api.test_portal import Filed, file_case, login, record
from tests.conftest import PhonesOutbox

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


def pdf(text: str = "") -> bytes:
    """A distinct small PDF (documents are kept by their content)."""
    return PDF + f"% {text}\n".encode()


async def attach(
    api: Api,
    case: Filed,
    data: bytes,
    *,
    title: str = "执行通知书",
    name: str = "通知书.pdf",
    by: str = "handler",
    **form: Any,
) -> Any:
    return await api.as_(
        by,
        "POST",
        f"/api/cases/{case.id}/documents",
        data={"title": title, **form},
        files={"file": (name, data, "application/pdf")},
    )


async def node_id_of(api: Api, case: Filed, type_code: str) -> str:
    r = await api.as_("handler", "GET", f"/api/cases/{case.id}")
    return next(n["node_id"] for n in r.json()["nodes"] if n["type"] == type_code)


async def obligation(api: Api, case: Filed, ob_id: str) -> dict[str, Any] | None:
    r = await api.as_("handler", "GET", f"/api/cases/{case.id}")
    return next((o for o in r.json()["obligations"] if o["obligation_id"] == ob_id), None)


async def eservice_sms(api: Api, document_id: str) -> list[SmsMessage]:
    async with api.sessions() as s:
        return list(await s.scalars(select(SmsMessage).where(SmsMessage.reason == f"eservice:{document_id}")))


async def test_a_document_attached_to_a_disclosed_node_is_served_to_the_consenting_applicant(api: Api) -> None:
    case = await file_case(api)
    await record(api, case, {"type": "notice_issued", "occurred_at": now_iso(), "summary": "发出报告财产令"}, "n1")
    node_id = await node_id_of(api, case, "notice_issued")
    data = pdf("order to report property")
    r = await attach(api, case, data, title="报告财产令", node_id=node_id)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    doc_id = body["document_id"]
    # One reminder to the applicant, naming the document; the clerk's 3-day clock opens.
    [sms] = await eventually(lambda: eservice_sms(api, doc_id), lambda rows: len(rows) == 1)
    assert sms.to == case.phone and "《报告财产令》已向您电子送达" in sms.body and "3日内" in sms.body
    clock = await eventually(lambda: obligation(api, case, f"eservice-3d:{doc_id}"), lambda o: o is not None)
    assert clock is not None and clock["status"] == "open" and clock["rule"] == "eservice-3d"
    # The party sees it in its list; the same file again is the same document, nothing sent twice.
    party = await login(api, case)
    listed = (await api.http.get("/api/portal/documents", headers=party)).json()["items"]
    assert [(d["document_id"], d["title"], d["sha256"]) for d in listed] == [(doc_id, "报告财产令", body["sha256"])]
    again = await attach(api, case, data, title="报告财产令", node_id=node_id)
    assert again.status_code == 200 and again.json() == body
    assert len(await eservice_sms(api, doc_id)) == 1


async def test_a_ruling_is_disclosed_but_not_served_electronically(api: Api) -> None:
    """Seed 001 第六条: e-service is for procedural documents other than rulings (裁定书) and decisions (决定书). A
    ruling attached to a disclosed node is in the portal, but no reminder goes out, no clock opens for the clerk,
    a download is no service receipt, and the case page says to serve it otherwise."""
    case = await file_case(api)
    await record(api, case, {"type": "freeze", "occurred_at": now_iso(), "summary": "冻结存款"}, "n1")
    node_id = await node_id_of(api, case, "freeze")
    data = pdf("freeze ruling")
    r = await attach(api, case, data, title="冻结裁定书", node_id=node_id)
    assert r.status_code == 201, r.text
    doc_id = r.json()["document_id"]
    notice = pdf("notice")  # a procedural document after it: served, so the lane has run past the ruling
    served = (await attach(api, case, notice, title="执行通知书")).json()["document_id"]
    await eventually(lambda: eservice_sms(api, served), lambda rows: len(rows) == 1)
    assert await eservice_sms(api, doc_id) == []
    assert await obligation(api, case, f"eservice-3d:{doc_id}") is None
    party = await login(api, case)
    listed = (await api.http.get("/api/portal/documents", headers=party)).json()["items"]
    assert "冻结裁定书" in [d["title"] for d in listed]
    got = await api.http.get(f"/api/portal/documents/{doc_id}", headers=party)
    assert got.status_code == 200 and got.content == data
    receipts = (await api.as_("clerk", "GET", f"/api/cases/{case.id}/receipts")).json()["items"]
    assert [r["document_id"] for r in receipts] == []
    page = await console_page(api, "clerk", f"/cases/{case.id}")
    row = page.text.split(f'id="document-{doc_id}"', 1)[1].split("</tr>", 1)[0]
    assert "执行裁定书、决定书不适用电子送达" in row and "已提醒" not in row
    api.http.cookies.clear()


async def test_the_first_download_is_the_receipt_with_the_hash_once_and_meets_the_clock(api: Api) -> None:
    case = await file_case(api)
    data = pdf("notice")
    doc_id = (await attach(api, case, data)).json()["document_id"]
    await eventually(lambda: obligation(api, case, f"eservice-3d:{doc_id}"), lambda o: o is not None)
    party = await login(api, case)
    first = await api.http.get(f"/api/portal/documents/{doc_id}", headers=party)
    assert first.status_code == 200 and first.content == data
    assert first.headers["content-type"] == "application/pdf"
    assert first.headers["x-content-type-options"] == "nosniff"
    disposition = first.headers["content-disposition"]
    assert disposition.startswith("attachment;") and "filename*=UTF-8''" in disposition and "/" not in disposition
    second = await api.http.get(f"/api/portal/documents/{doc_id}", headers=party)
    assert second.status_code == 200 and second.content == data
    receipts = (await api.as_("clerk", "GET", f"/api/cases/{case.id}/receipts")).json()["items"]
    assert len(receipts) == 1
    [receipt] = receipts
    assert receipt["document_id"] == doc_id and receipt["sha256"] == hashlib.sha256(data).hexdigest()
    assert receipt["party"] == "申请执行人 张三" and receipt["downloaded_at"]
    clock = await eventually(
        lambda: obligation(api, case, f"eservice-3d:{doc_id}"), lambda o: o is not None and o["status"] == "met"
    )
    assert clock is not None and clock["status"] == "met" and not clock["late"]
    listed = (await api.http.get("/api/portal/documents", headers=party)).json()["items"]
    assert listed[0]["downloaded_at"] == receipt["downloaded_at"]


async def test_another_case_s_party_and_undisclosed_documents_stay_hidden(api: Api) -> None:
    mine, other = await file_case(api), await file_case(api)
    shown = (await attach(api, mine, pdf("shown"))).json()["document_id"]
    hidden = (await attach(api, mine, pdf("hidden"), title="内部审批表", disclose="false")).json()["document_id"]
    outsider = await login(api, other)
    assert (await api.http.get("/api/portal/documents", headers=outsider)).json()["items"] == []
    for doc_id in (shown, hidden):
        r = await api.http.get(f"/api/portal/documents/{doc_id}", headers=outsider)
        assert r.status_code == 404 and r.json()["error"] == "DocumentNotFound"
    me = await login(api, mine)
    assert [d["document_id"] for d in (await api.http.get("/api/portal/documents", headers=me)).json()["items"]] == [
        shown
    ]
    assert (await api.http.get(f"/api/portal/documents/{hidden}", headers=me)).status_code == 404
    assert await eservice_sms(api, hidden) == []  # not disclosed: not served
    async with api.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(ServiceReceipt)) == 0
    # Staff of the case read both; staff of another court do not find the case.
    r = await api.as_("clerk", "GET", f"/api/cases/{mine.id}/documents/{hidden}")
    assert r.status_code == 200 and r.headers["content-disposition"].startswith("attachment;")
    assert (await api.as_("clerk2", "GET", f"/api/cases/{mine.id}/documents/{hidden}")).status_code == 404


async def test_a_pdf_that_is_really_html_is_refused_and_nothing_is_written(api: Api) -> None:
    case = await file_case(api)
    r = await attach(api, case, HTML, name="裁定书.pdf")
    assert r.status_code == 415 and r.json()["error"] == "UnsupportedFileType" and "PDF" in r.json()["detail"]
    async with api.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Document).where(Document.case_id == case.id)) == 0
        assert (
            await s.scalar(select(func.count()).select_from(SmsMessage).where(SmsMessage.reason.like("eservice:%")))
            == 0
        )


async def test_only_the_case_s_handler_or_clerk_attaches(api: Api) -> None:
    case = await file_case(api)
    assert (await attach(api, case, pdf("x"), by="registrar")).status_code == 403
    assert (await attach(api, case, pdf("x"), by="handler2")).status_code == 404
    assert (await attach(api, case, pdf("x"), by="clerk")).status_code == 201
    for node_id in ("no-such-node", "a\x00b"):  # a NUL would break PostgreSQL's comparison: no node, not a 500
        r = await attach(api, case, pdf("y"), node_id=node_id)
        assert r.status_code == 404 and r.json()["error"] == "NodeNotFound"


async def test_a_consenting_respondent_is_served_with_a_query_code_of_its_own(api: Api) -> None:
    respondent = {
        "name": "李四",
        "id_number": "530103198505053234",
        "phone": "13912345678",
        "eservice_consent": True,
    }
    silent = {"name": "王五", "id_number": "530103198505053250", "phone": "13912345679"}
    case = await file_case(api, respondents=[respondent, silent])
    doc_id = (await attach(api, case, pdf("respondent"))).json()["document_id"]
    rows = await eventually(lambda: eservice_sms(api, doc_id), lambda rows: len(rows) == 2)
    by_phone = {m.to: m.body for m in rows}
    assert set(by_phone) == {case.phone, "13912345678"}  # not the respondent who did not consent
    assert QUERY_CODE_LABEL not in by_phone[case.phone].replace(f"和{QUERY_CODE_LABEL}", "")  # the applicant has one
    assert isinstance(api.worker.deps.sms, PhonesOutbox)
    delivered = api.worker.deps.sms.delivered

    async def to_respondent() -> list[str]:
        return [text for to, text in delivered if to == "13912345678"]

    [text] = await eventually(to_respondent, lambda texts: len(texts) == 1)
    code = re.search(QUERY_CODE_LABEL + r"：(\w+)", text)
    assert code is not None, text
    async with api.sessions() as s:
        party = await s.scalar(select(Party).where(Party.case_id == case.id, Party.name == "李四"))
        assert party is not None and party.query_code_hash and party.query_code_hash != code[1]
    login_body = {"case_number": case.number, "id_number": respondent["id_number"], "phone": "13912345678"}
    r = await api.http.post("/api/portal/token", json={**login_body, "query_code": code[1]})
    assert r.status_code == 200, r.text
    headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
    download = await api.http.get(f"/api/portal/documents/{doc_id}", headers=headers)
    assert download.status_code == 200
    receipts = (await api.as_("clerk", "GET", f"/api/cases/{case.id}/receipts")).json()["items"]
    assert [r["party"] for r in receipts] == ["被执行人 李四"]


@pytest.fixture
async def small_api(dev_env: WorkflowEnvironment, sqlite_url: str) -> AsyncIterator[Api]:
    """Limits small enough to reach: files of 1 KiB, upload requests of 4 KiB, 2 documents a case a day."""
    async for a in running_api(
        dev_env, sqlite_url, file_max_bytes=1024, max_upload_bytes=4096, max_documents_per_case_per_day=2
    ):
        yield a


async def test_files_and_uploads_past_their_limits_are_413_and_a_case_takes_so_many_a_day(small_api: Api) -> None:
    api = small_api
    case = await file_case(api)
    big_file = await attach(api, case, pdf("x" * 2000))  # past the file limit, within the request limit
    assert big_file.status_code == 413 and big_file.json()["error"] == "PayloadTooLarge"
    huge_body = await attach(api, case, pdf("x" * 8000))  # past the request limit: refused before it is read
    assert huge_body.status_code == 413 and "4096 字节" in huge_body.json()["detail"]
    assert (await attach(api, case, pdf("one"))).status_code == 201
    assert (await attach(api, case, pdf("two"))).status_code == 201
    third = await attach(api, case, pdf("three"))
    assert third.status_code == 429 and third.json()["error"] == "TooManyDocuments"
    async with api.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Document).where(Document.case_id == case.id)) == 2

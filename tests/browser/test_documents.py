"""Documents and e-service in a real browser, on a phone and a desktop (seed 001 第十一条): the clerk attaches a PDF
to a node on the case page, the applicant downloads it in the portal (its receipt), and the receipt shows on the
staff page and prints with the court, case number, document, hash, party and Beijing time."""

from __future__ import annotations

import asyncio
import hashlib
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import select

from db.demo import DEMO_PASSWORD
from db.models import SmsMessage
from domain.sms import QUERY_CODE_LABEL
from tests.api.helpers import eventually
from tests.browser.conftest import Console, login

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots/documents")
SHOTS.mkdir(parents=True, exist_ok=True)
APPLICANT_ID = "530102199001012234"  # tests/api/helpers.py case_body
QUERY_CODE = re.compile(QUERY_CODE_LABEL + r"：(\w+)")
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


async def _applicant_login(console: Console, case_id: str) -> tuple[str, str, str]:
    """The case number, the applicant's phone and query code (from the phone: the outbox masks it once sent)."""

    async def filed() -> SmsMessage | None:
        async with console.sessions() as s:
            found: SmsMessage | None = await s.scalar(
                select(SmsMessage).where(SmsMessage.case_id == case_id, SmsMessage.reason == "filed")
            )
            return found

    sms = await eventually(filed, lambda r: r is not None and r.status == "sent", seconds=30)
    assert sms is not None
    [text] = [body for to, body in console.phones.delivered if to == sms.to and "立案" in body]
    code = QUERY_CODE.search(text)
    number = re.search(r"（\d{4}）云0102执\d+号", text)
    assert code is not None and number is not None, text
    return number[0], sms.to, code[1]


async def _record_notice(console: Console, case_id: str) -> None:
    async with httpx.AsyncClient(base_url=console.base_url, timeout=30) as http:
        r = await http.post("/api/auth/token", data={"username": "handler", "password": DEMO_PASSWORD})
        headers = {"Authorization": f"Bearer {r.json()['access_token']}", "Idempotency-Key": f"notice-{case_id}"}
        occurred = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
        node = {"type": "notice_issued", "occurred_at": occurred, "summary": "向被执行人发出执行通知书、报告财产令"}
        r = await http.post(f"/api/cases/{case_id}/nodes", json=node, headers=headers)
        assert r.status_code == 201, r.text


async def _fits(page: Page, width: int) -> None:
    """Nothing wider than the screen: no sideways scrolling on a phone."""
    assert await page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("width", [1366, 390])
async def test_clerk_attaches_a_pdf_the_applicant_downloads_it_and_the_receipt_shows_and_prints(
    page: Page, browser: Browser, console: Console, width: int, tmp_path: Path
) -> None:
    await page.set_viewport_size({"width": width, "height": 900})
    case_id = await console.file_case()
    await _record_notice(console, case_id)
    data = PDF + f"% {case_id}\n".encode()
    sha256 = hashlib.sha256(data).hexdigest()
    upload = tmp_path / "报告财产令.pdf"
    upload.write_bytes(data)

    # The clerk attaches the order to report property (a procedural document) to its node on the case page.
    await login(page, "clerk")
    await page.goto(f"/cases/{case_id}")
    card = page.locator("#documents")
    await expect(card).to_contain_text("暂无文书")
    form = card.locator("form.document-form")
    await form.locator("[name=title]").fill("报告财产令")
    notice = await form.locator("[name=node_id] option", has_text="执行通知书").get_attribute("value")
    assert notice
    await form.locator("[name=node_id]").select_option(notice)
    await form.locator("[name=file]").set_input_files(upload)
    await _fits(page, width)
    await page.screenshot(path=SHOTS / f"staff-form-{width}.png", full_page=True)
    await card.screenshot(path=SHOTS / f"staff-card-form-{width}.png")
    await form.get_by_role("button", name="上传文书").click()
    await expect(page.locator(".alert-ok")).to_contain_text("文书已上传")
    row = card.locator("tbody tr").first
    await expect(row).to_contain_text("报告财产令")
    await expect(row).to_contain_text("已提醒 1 人")
    await expect(row).to_contain_text("尚未下载")
    await _fits(page, width)
    await page.screenshot(path=SHOTS / f"staff-attached-{width}.png", full_page=True)
    await card.screenshot(path=SHOTS / f"staff-card-attached-{width}.png")

    # The applicant, on its own phone, logs in and downloads it: the file is the one attached.
    number, phone, code = await _applicant_login(console, case_id)
    party = await browser.new_context(base_url=console.base_url, locale="zh-CN", timezone_id="Asia/Shanghai")
    try:
        phone_page = await party.new_page()
        await phone_page.set_viewport_size({"width": width, "height": 900})
        await phone_page.goto("/portal")
        await phone_page.locator("[name=case_number]").fill(number)
        await phone_page.locator("[name=id_number]").fill(APPLICANT_ID)
        await phone_page.locator("[name=phone]").fill(phone)
        await phone_page.locator("[name=query_code]").fill(code)
        await phone_page.get_by_role("button", name="查询").click()
        await expect(phone_page).to_have_url(re.compile(r"/portal/case$"))
        await phone_page.locator("nav.p-nav").get_by_role("link", name="文书").click()
        item = phone_page.locator(".d-item").first
        await expect(item).to_contain_text("报告财产令")
        await expect(item).to_contain_text("未下载")
        await expect(item).to_contain_text(sha256)
        await _fits(phone_page, width)
        await phone_page.screenshot(path=SHOTS / f"portal-documents-{width}.png", full_page=True)
        async with phone_page.expect_download() as downloading:
            await item.get_by_role("link", name="下载").click()
        download = await downloading.value
        assert download.suggested_filename == "报告财产令.pdf"
        assert await asyncio.to_thread(Path(await download.path()).read_bytes) == data
        await phone_page.reload()
        await expect(phone_page.locator(".d-item").first).to_contain_text("签收")
        # The timeline shows the order under its node.
        await phone_page.locator("nav.p-nav").get_by_role("link", name="办理进程").click()
        node = phone_page.locator("#timeline .p-node").filter(has_text="执行通知书").first
        await expect(node.get_by_role("link", name="报告财产令")).to_be_visible()
        await _fits(phone_page, width)
        await phone_page.screenshot(path=SHOTS / f"portal-timeline-{width}.png", full_page=True)
    finally:
        await party.close()

    # The receipt on the staff page, and its print view.
    await page.reload()
    row = page.locator("#documents tbody tr").first
    await expect(row).to_contain_text("张三")
    await expect(row).to_contain_text("已送达")
    await _fits(page, width)
    await page.screenshot(path=SHOTS / f"staff-receipt-{width}.png", full_page=True)
    await page.locator("#documents").screenshot(path=SHOTS / f"staff-card-receipt-{width}.png")
    async with page.context.expect_page() as opening:
        await row.get_by_role("link", name="打印回证").click()
    receipt = await opening.value
    await receipt.set_viewport_size({"width": width, "height": 900})
    sheet = receipt.locator(".receipt-sheet")
    await expect(sheet).to_contain_text("昆明市五华区人民法院")
    await expect(sheet).to_contain_text("电子送达回证")
    await expect(sheet).to_contain_text(number)
    await expect(sheet).to_contain_text("报告财产令")
    await expect(sheet).to_contain_text("申请执行人 张三")
    await expect(sheet).to_contain_text(sha256)
    await expect(sheet).to_contain_text(re.compile(r"下载时间\s*\d{4}年\d+月\d+日\d+时\d+分（北京时间）"))
    await _fits(receipt, width)
    await receipt.screenshot(path=SHOTS / f"receipt-{width}.png", full_page=True)

    # A ruling is disclosed but not served electronically (seed 001 第六条): the row says to serve it otherwise.
    ruling = tmp_path / "执行裁定书.pdf"
    ruling.write_bytes(PDF + f"% ruling {case_id}\n".encode())
    form = page.locator("#documents form.document-form")
    await form.locator("[name=title]").fill("执行裁定书")
    await form.locator("[name=node_id]").select_option(notice)
    await form.locator("[name=file]").set_input_files(ruling)
    await form.get_by_role("button", name="上传文书").click()
    await expect(page.locator(".alert-ok")).to_contain_text("文书已上传")
    ruled = page.locator("#documents tbody tr", has_text="执行裁定书")
    await expect(ruled).to_contain_text("执行裁定书、决定书不适用电子送达")
    await expect(ruled).not_to_contain_text("已提醒")
    await expect(ruled).not_to_contain_text("尚未下载")  # no receipt to wait for
    await _fits(page, width)
    await page.locator("#documents").screenshot(path=SHOTS / f"staff-card-ruling-{width}.png")

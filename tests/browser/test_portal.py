"""The applicant's portal in a real browser, on a phone and a desktop (seed 001 第九条, seed 004): the link of the
filing SMS, a wrong query code, the case at a glance with the handler's and clerk's phones, the timeline after a
node, a reply to a progress feedback, logout; the staff case page's QR code and its print view."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select

from db.demo import DEMO_PASSWORD
from db.models import SmsMessage
from domain.clock import format_beijing
from domain.sms import QUERY_CODE_LABEL
from tests.api.helpers import eventually
from tests.browser.conftest import Console, loaded_width, login

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots/portal")
SHOTS.mkdir(parents=True, exist_ok=True)
APPLICANT_ID = "530102199001012234"  # tests/api/helpers.py case_body
LINK = re.compile(r"https?://[\x21-\x7e]+")
QUERY_CODE = re.compile(QUERY_CODE_LABEL + r"：(\w+)")
WRONG_LOGIN = "案号、证件号码、手机号码或查询码不正确，请核对后重新输入。"


async def _filing_sms(console: Console, case_id: str) -> tuple[str, str, str]:
    """The filing SMS's link (from the outbox row, as staff see it), the phone it went to and the query code (from
    the phone: the row masks the code once sent)."""

    async def row() -> SmsMessage | None:
        async with console.sessions() as s:
            found: SmsMessage | None = await s.scalar(
                select(SmsMessage).where(SmsMessage.case_id == case_id, SmsMessage.reason == "filed")
            )
            return found

    sms = await eventually(row, lambda r: r is not None and r.status == "sent", seconds=30)
    assert sms is not None
    link = LINK.search(sms.body)
    assert link is not None, sms.body
    [text] = [body for to, body in console.phones.delivered if to == sms.to and link[0] in body]
    code = QUERY_CODE.search(text)
    assert code is not None, text
    return link[0], sms.to, code[1]


async def _record_freeze(console: Console, case_id: str, occurred_at: datetime) -> None:
    async with httpx.AsyncClient(base_url=console.base_url, timeout=30) as http:
        r = await http.post("/api/auth/token", data={"username": "handler", "password": DEMO_PASSWORD})
        headers = {"Authorization": f"Bearer {r.json()['access_token']}", "Idempotency-Key": f"freeze-{case_id}"}
        node = {"type": "freeze", "occurred_at": occurred_at.isoformat(), "summary": "冻结被执行人银行存款5万元"}
        r = await http.post(f"/api/cases/{case_id}/nodes", json=node, headers=headers)
        assert r.status_code == 201, r.text


async def _fits(page: Page, width: int) -> None:
    """Nothing wider than the screen: no sideways scrolling on a phone."""
    assert await page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("width", [1366, 390])
async def test_applicant_logs_in_from_the_sms_link_reads_the_case_and_replies_to_feedback(
    page: Page, console: Console, width: int
) -> None:
    await page.set_viewport_size({"width": width, "height": 900})
    case_id = await console.file_case()
    link, phone, code = await _filing_sms(console, case_id)
    frozen_at = (datetime.now(UTC) - timedelta(hours=3)).replace(second=0, microsecond=0)
    await _record_freeze(console, case_id, frozen_at)
    await console.submit_feedback(case_id)

    # the SMS link opens the login with the case number filled in
    await page.goto(link)
    number = page.locator("[name=case_number]")
    await expect(number).to_have_value(re.compile(r"^（\d{4}）云0102执\d+号$"))
    assert link.endswith(quote(await number.input_value(), safe=""))
    await page.locator("[name=id_number]").fill(APPLICANT_ID)
    await page.locator("[name=phone]").fill(phone)
    await page.locator("[name=query_code]").fill("WRONG2")
    await page.get_by_role("button", name="查询").click()
    await expect(page.locator(".p-alert-error")).to_have_text(WRONG_LOGIN)
    await expect(page.locator("[name=query_code]")).to_have_value("")
    await _fits(page, width)
    await page.screenshot(path=SHOTS / f"login-wrong-{width}.png", full_page=True)

    await page.locator("[name=query_code]").fill(code.lower())  # typed as people type
    await page.get_by_role("button", name="查询").click()

    # the case at a glance: court, cause, amount, term; handler and clerk with office phones
    await expect(page).to_have_url(re.compile(r"/portal/case$"))
    await expect(page.locator("nav.p-nav a.active")).to_have_text("案件概况")
    facts = page.locator(".p-facts")
    await expect(facts).to_contain_text("昆明市五华区人民法院")
    await expect(facts).to_contain_text("民间借贷纠纷")
    await expect(facts).to_contain_text("50,000.00 元")
    await expect(facts).to_contain_text(re.compile(r"执行期限\s*至\d{4}年\d+月\d+日"))
    contacts = page.locator("#contacts li")
    await expect(contacts.nth(0)).to_contain_text(re.compile(r"承办人\s*王承办\s*办公电话 0871-\d+"))
    await expect(contacts.nth(1)).to_contain_text(re.compile(r"书记员\s*\S+\s*办公电话 0871-\d+"))
    await expect(page.locator("#todo")).to_contain_text("第1次执行进展反馈等待您提出意见和建议")
    await _fits(page, width)
    await page.screenshot(path=SHOTS / f"case-{width}.png", full_page=True)

    # the timeline after the node, and the reply to the feedback
    await page.locator("#todo").get_by_role("link", name="去回复").click()
    await expect(page).to_have_url(re.compile(r"/portal/progress#feedback-1$"))
    node = page.locator("#timeline .p-node").first
    await expect(node).to_contain_text("冻结")
    await expect(node).to_contain_text(format_beijing(frozen_at))
    await expect(node).to_contain_text("冻结被执行人银行存款5万元")
    feedback = page.locator("#feedback-1")
    await expect(feedback).to_contain_text("已冻结被执行人银行存款5万元")
    await feedback.locator("textarea[name=text]").fill("请尽快评估拍卖被执行人的车辆。")
    await page.screenshot(path=SHOTS / f"progress-{width}.png", full_page=True)
    await feedback.get_by_role("button", name="提交意见").click()
    await expect(page.locator(".p-alert-ok")).to_have_text("您的意见已提交，承办人将会看到。")
    await expect(page.locator("#feedback-1 .p-reply")).to_contain_text("请尽快评估拍卖被执行人的车辆。")
    await expect(page.locator("#feedback-1 textarea")).to_have_count(0)
    await _fits(page, width)
    await page.screenshot(path=SHOTS / f"replied-{width}.png", full_page=True)

    # logout: back to the login, and the case page is closed to this browser
    await page.get_by_role("button", name="退出").click()
    await expect(page.locator(".p-alert-info")).to_have_text("您已安全退出。")
    await page.goto("/portal/case")
    await expect(page).to_have_url(re.compile(r"/portal$"))


@pytest.mark.parametrize("width", [1366, 390])
async def test_staff_print_the_case_qr_code_of_the_portal_link(page: Page, console: Console, width: int) -> None:
    await page.set_viewport_size({"width": width, "height": 900})
    case_id = await console.file_case()
    link, _, _ = await _filing_sms(console, case_id)
    await login(page, "handler")
    await page.goto(f"/cases/{case_id}")
    qr = page.locator("#case-qr img")
    await expect(qr).to_be_visible()
    assert await loaded_width(qr) > 0  # the SVG loaded
    await page.screenshot(path=SHOTS / f"staff-case-{width}.png")

    await page.goto(f"/cases/{case_id}/qr")
    sheet = page.locator(".p-qr-sheet")
    await expect(sheet).to_contain_text("昆明市五华区人民法院")
    await expect(sheet).to_contain_text("执行案件查询二维码")
    await expect(sheet.locator(".p-qr-link")).to_have_text(console.settings.public_base_url + "/portal")
    await expect(sheet.locator("img.p-qr")).to_have_attribute("alt", f"案件查询二维码：{link}")  # the SMS's link
    assert await loaded_width(sheet.locator("img.p-qr")) > 0
    await _fits(page, width)
    await page.screenshot(path=SHOTS / f"qr-print-{width}.png", full_page=True)
    await page.emulate_media(media="print")
    await expect(page.get_by_role("button", name="打印")).to_be_hidden()

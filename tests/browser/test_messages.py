"""Messages and complaints in Chromium, on a phone (390 px) and a desktop (1366 px): the applicant writes with a
photo from the portal, the handler finds it in the inbox and replies on the case page, the applicant reads the reply
(and is told by SMS); a complaint reaches the discipline head and nobody else."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import select

from db.models import Case
from domain.sms import QUERY_CODE_LABEL
from tests.api.helpers import eventually
from tests.api.test_messages import photo
from tests.browser.conftest import Console, loaded_width, login

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/shots/messages")
SHOTS.mkdir(parents=True, exist_ok=True)
QUERY_CODE = re.compile(QUERY_CODE_LABEL + r"：(\w+)")


async def _applicant(console: Console, case_id: str) -> tuple[str, str, str, str]:
    """Case number, ID number, phone and query code, as the applicant has them (the filing SMS)."""
    async with console.sessions() as s:
        case = await s.scalar(select(Case).where(Case.id == case_id))
        assert case is not None
        applicant = next(p for p in case.parties if p.role == "applicant")
        number, id_number, phone = case.case_number, applicant.id_number or "", applicant.phone or ""

    async def code() -> list[str]:
        return [m[1] for to, text in console.phones.delivered if to == phone and (m := QUERY_CODE.search(text))]

    codes = await eventually(code, lambda c: len(c) >= 1, seconds=60)
    return number, id_number, phone, codes[0]


async def _portal(browser: Browser, console: Console, case_id: str, width: int) -> Page:
    context = await browser.new_context(base_url=console.base_url, locale="zh-CN", timezone_id="Asia/Shanghai")
    party = await context.new_page()
    await party.set_viewport_size({"width": width, "height": 900})
    number, id_number, phone, code = await _applicant(console, case_id)
    await party.goto("/portal")
    await party.locator("[name=case_number]").fill(number)
    await party.locator("[name=id_number]").fill(id_number)
    await party.locator("[name=phone]").fill(phone)
    await party.locator("[name=query_code]").fill(code)
    await party.get_by_role("button", name="查询").click()
    await expect(party).to_have_url(re.compile(r"/portal/case$"))
    return party


async def _fits(page: Page, width: int) -> None:
    scroll = await page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"page is {scroll} px wide on a {width} px screen"


@pytest.mark.parametrize("width", [390, 1366])
async def test_a_message_with_a_photo_is_answered_by_the_handler_and_read_by_the_applicant(
    page: Page, browser: Browser, console: Console, width: int, tmp_path: Path
) -> None:
    case_id = await console.file_case()
    party = await _portal(browser, console, case_id, width)
    picture = tmp_path / "车辆照片.png"
    picture.write_bytes(photo(320, 240))

    await party.get_by_role("link", name="留言").click()
    await expect(party).to_have_url(re.compile(r"/portal/messages$"))
    await expect(party.locator("#write")).to_contain_text("驻院纪检监察组")
    await party.locator("[name=text]").fill("被执行人的小汽车停在某小区地下车库，照片附后。")
    await party.locator("[name=attachments]").set_input_files(str(picture))
    await expect(party.locator(".p-file-names")).to_have_text("已选择1个文件：车辆照片.png")
    await party.screenshot(path=SHOTS / f"portal-write-{width}.png", full_page=True)
    await party.get_by_role("button", name="提交").click()

    await expect(party.locator(".p-alert-ok")).to_contain_text("留言已提交")
    mine = party.locator("#conversations .p-message")
    await expect(mine).to_have_count(1)
    await expect(mine).to_contain_text("小汽车停在某小区")
    await expect(mine).to_contain_text("等待答复")
    await expect(mine.locator("img")).to_have_count(1)
    await _fits(party, width)
    await party.screenshot(path=SHOTS / f"portal-sent-{width}.png", full_page=True)

    await page.set_viewport_size({"width": width, "height": 900})
    await login(page, "handler")
    await page.goto("/inbox")
    row = page.locator("#inbox-messages tbody tr", has_text="小汽车停在某小区")
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text("当事人留言")
    await _fits(page, width)
    await page.screenshot(path=SHOTS / f"inbox-{width}.png", full_page=True)
    await row.get_by_role("link", name="去答复").click()
    message = page.locator("#messages .conversation")
    await expect(message).to_contain_text("小汽车停在某小区")
    photo_in_page = message.locator(".attachments img")
    await expect(photo_in_page).to_be_visible()
    assert await loaded_width(photo_in_page) == 320  # the photo itself, served to staff
    await message.locator("[name=text]").fill("已收到线索，将于本周内前往查封该车辆。")
    await page.locator("#messages").screenshot(path=SHOTS / f"case-reply-form-{width}.png")
    await message.get_by_role("button", name="答复并短信通知当事人").click()

    await expect(page.locator(".alert-ok")).to_contain_text("答复已保存")
    await expect(page.locator("#messages .conversation-reply")).to_contain_text("将于本周内前往查封")
    await _fits(page, width)
    await page.locator("#messages").screenshot(path=SHOTS / f"case-replied-{width}.png")
    # The SMS tables name why each message went, in words: the handler's alert, the party's reply notice.
    await expect(page.locator("#obligations .sms-table")).to_contain_text("当事人留言")
    await page.reload()
    await expect(page.locator("#outbox .sms-table")).to_contain_text("留言答复")
    await page.locator("#outbox").screenshot(path=SHOTS / f"case-outbox-{width}.png")
    _, _, phone, _ = await _applicant(console, case_id)

    async def told() -> list[str]:
        return [text for to, text in console.phones.delivered if to == phone and "已有答复" in text]

    assert len(await eventually(told, lambda t: len(t) == 1, seconds=60)) == 1

    await party.reload()
    await expect(mine.locator(".p-reply")).to_contain_text("将于本周内前往查封该车辆")
    await expect(mine).not_to_contain_text("等待答复")
    await party.screenshot(path=SHOTS / f"portal-replied-{width}.png", full_page=True)
    await party.context.close()


@pytest.mark.parametrize("width", [390, 1366])
async def test_a_complaint_is_seen_by_the_discipline_head_alone(
    page: Page, browser: Browser, console: Console, width: int
) -> None:
    case_id = await console.file_case()
    party = await _portal(browser, console, case_id, width)
    await party.goto("/portal/messages")
    await party.get_by_text("投诉", exact=True).click()
    await party.locator("[name=text]").fill("承办人多次不接电话，也不回复留言。")
    await party.get_by_role("button", name="提交").click()
    await expect(party.locator(".p-alert-ok")).to_contain_text("投诉已提交至驻院纪检监察组")
    await party.context.close()

    await page.set_viewport_size({"width": width, "height": 900})
    await login(page, "handler")
    await page.goto("/inbox")
    await expect(page.locator("#inbox-messages")).not_to_contain_text("不接电话")
    await page.goto(f"/cases/{case_id}")
    await expect(page.locator("#messages")).to_contain_text("暂无留言")
    assert "不接电话" not in await page.content()
    assert "答复当事人投诉" not in await page.content()
    await page.locator("#messages").screenshot(path=SHOTS / f"case-handler-no-complaint-{width}.png")
    await page.get_by_role("button", name="退出登录").click()

    await login(page, "discipline")
    await page.goto("/inbox")
    row = page.locator("#inbox-messages tbody tr", has_text="不接电话")
    await expect(row).to_contain_text("当事人投诉")
    await _fits(page, width)
    await page.screenshot(path=SHOTS / f"inbox-discipline-{width}.png", full_page=True)
    await row.get_by_role("link", name="去答复").click()
    complaint = page.locator("#messages .conversation-complaint")
    await expect(complaint).to_contain_text("不接电话")
    await complaint.locator("[name=text]").fill("已约谈承办人，今后将按时回复。")
    await complaint.get_by_role("button", name="答复并短信通知当事人").click()
    await expect(page.locator("#messages .conversation-reply")).to_contain_text("已约谈承办人")
    await _fits(page, width)
    await page.locator("#messages").screenshot(path=SHOTS / f"case-discipline-replied-{width}.png")

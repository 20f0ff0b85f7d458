"""The handler keeps a case's parties on the case page, on a desktop and on a phone (issue 10 item 4): registers an
agent (its query code by SMS), dismisses it (the applicant's new code by SMS), corrects the applicant's phone — a
landline refused in place, a mobile taken — and reads every change in the audit."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from domain.sms import QUERY_CODE_LABEL
from tests.browser.conftest import Console, login

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots/parties")
SHOTS.mkdir(parents=True, exist_ok=True)
QUERY_CODE = re.compile(QUERY_CODE_LABEL + r"：(\w+)")


async def codes_to(console: Console, phone: str, count: int) -> list[str]:
    """The SMS with a query code this phone received, once there are ``count`` of them."""
    for _ in range(400):
        found = [text for to, text in console.phones.delivered if to == phone and QUERY_CODE.search(text)]
        if len(found) >= count:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"{count} query-code SMS expected, got {len(found)}")


async def fits(page: Page, width: int) -> None:
    assert await page.evaluate("document.documentElement.scrollWidth") <= width  # nothing wider than the screen


@pytest.mark.parametrize("width", [1366, 390])
async def test_handler_adds_and_dismisses_an_agent_and_corrects_a_phone(
    page: Page, console: Console, width: int
) -> None:
    await page.set_viewport_size({"width": width, "height": 900})
    case_id = await console.file_case()
    await login(page, "handler")
    await page.goto(f"/cases/{case_id}")
    parties = page.locator("#parties")
    await expect(parties.locator("tbody tr")).to_have_count(2)  # the applicant and the respondent

    # register an agent
    await parties.get_by_text("登记委托代理人").click()
    form = parties.locator("#agent-form form")
    await form.locator("[name=name]").fill("赵律师")
    await form.locator("[name=id_number]").fill("530103198007204562")
    await form.locator("[name=phone]").fill("137 0000 6666")
    await parties.screenshot(path=SHOTS / f"agent-form-{width}.png")
    await form.get_by_role("button", name="登记并发送查询码").click()

    await expect(page).to_have_url(re.compile(rf"/cases/{case_id}\?notice=agent_added"))
    await expect(page.locator(".alert-ok")).to_contain_text("委托代理人已登记")
    agent_row = parties.locator("tr.party-agent")
    await expect(agent_row).to_contain_text("赵律师")
    await expect(agent_row).to_contain_text("代理中")
    await expect(agent_row).to_contain_text("137****6666")
    [agent_sms] = await codes_to(console, "13700006666", 1)
    assert "委托代理人" in agent_sms
    await fits(page, width)

    # dismiss it
    await agent_row.get_by_text("解除委托", exact=True).click()
    await agent_row.locator("[name=reason]").fill("申请执行人解除委托")
    await parties.screenshot(path=SHOTS / f"dismissal-form-{width}.png")
    await agent_row.get_by_role("button", name="确认解除委托").click()

    await expect(page).to_have_url(re.compile(rf"/cases/{case_id}\?notice=agent_dismissed"))
    await expect(page.locator(".alert-ok")).to_contain_text("新的查询码将以短信发送给申请执行人")
    await expect(agent_row).to_contain_text("已解除委托")
    await expect(agent_row.get_by_text("确认解除委托")).to_have_count(0)
    applicant = await parties.locator("tr.party-applicant").get_attribute("data-party")
    assert applicant

    # correct the applicant's phone: a landline is refused in place, a mobile is taken
    await parties.get_by_text("更正当事人信息").click()
    correction = parties.locator("#correction-form form")
    await correction.locator("[name=party_id]").select_option(applicant)
    await correction.locator("[name=phone]").fill("0871-65432101")
    await correction.locator("[name=reason]").fill("立案时号码录入错误")
    await correction.get_by_role("button", name="保存更正").click()
    error = parties.locator("#correction-form .alert-error")
    await expect(error).to_contain_text("固定电话")
    await expect(correction.locator("[name=reason]")).to_have_value("立案时号码录入错误")  # kept for the retry
    await parties.screenshot(path=SHOTS / f"correction-refused-{width}.png")
    await correction.locator("[name=phone]").fill("15900007777")
    await correction.get_by_role("button", name="保存更正").click()

    await expect(page).to_have_url(re.compile(rf"/cases/{case_id}\?notice=corrected_code"))
    await expect(page.locator(".alert-ok")).to_contain_text("新的查询码将以短信发送到更正后的号码")
    await expect(parties.locator("tr.party-applicant")).to_contain_text("159****7777")
    [corrected_sms] = await codes_to(console, "15900007777", 1)
    assert "手机号码已更正" in corrected_sms
    audit = parties.locator("table.party-changes tbody tr")
    await expect(audit).to_have_count(3)
    await expect(audit.nth(0)).to_contain_text("登记委托代理人")
    await expect(audit.nth(1)).to_contain_text("解除委托")
    await expect(audit.nth(1)).to_contain_text("申请执行人解除委托")
    await expect(audit.nth(2)).to_contain_text("更正手机号码")
    await expect(audit.nth(2)).to_contain_text("159****7777")
    await expect(audit.nth(2)).to_contain_text("王承办")
    await fits(page, width)
    await parties.screenshot(path=SHOTS / f"parties-{width}.png")
    await page.screenshot(path=SHOTS / f"page-{width}.png", full_page=True)


async def test_the_bureau_chief_sees_the_parties_but_no_forms_to_change_them(page: Page, console: Console) -> None:
    case_id = await console.file_case()
    await login(page, "bureau_chief")
    await page.goto(f"/cases/{case_id}")
    await expect(page.locator("#parties tbody tr")).to_have_count(2)
    await expect(page.locator("#agent-form")).to_have_count(0)
    await expect(page.locator("#correction-form")).to_have_count(0)

"""The registrar files a case with several parties in Chromium at 1366 and 390 px (issue 11 item 3): rows added on
the form, a wrong field named in Chinese beside itself with nothing filed, the corrected form files every party; the
same number filed again with other data says what was kept and links to the case."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
from playwright.async_api import Locator, Page, expect
from sqlalchemy import func, select

from db.models import Case, Party
from domain.clock import BEIJING
from tests.browser.conftest import Console, login

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/shots/workbench")


async def _fits(page: Page, width: int) -> None:
    assert await page.evaluate("document.documentElement.scrollWidth") <= width


async def _row(form: Locator, kind: str, n: int) -> Locator:
    row = form.locator(f"#{kind}-rows .party-row").nth(n)
    await expect(row).to_be_visible()
    return row


@pytest.mark.parametrize("width", [1366, 390])
async def test_registrar_files_two_applicants_an_agent_and_a_respondent_after_a_field_error(
    page: Page, console: Console, width: int
) -> None:
    await page.set_viewport_size({"width": width, "height": 900})
    year = datetime.now(BEIJING).year
    number = f"（{year}）云0102执{width + 7000}号"
    await login(page, "registrar")
    form = page.locator("form.filing-form")
    await form.locator("[name=case_number]").fill(number)
    await form.locator("[name=cause]").fill("买卖合同纠纷")
    await form.locator("[name=amount]").fill("120000")
    await form.locator("[name=handler]").select_option("handler")

    first = await _row(form, "applicant", 0)
    await first.locator("[name=applicant_name]").fill("张三")
    await first.locator("[name=applicant_id_number]").fill("530102199001012234")
    await first.locator("[name=applicant_phone]").fill("13800138601")
    await form.get_by_role("button", name="添加申请执行人").click()
    second = await _row(form, "applicant", 1)
    await expect(second).to_contain_text("申请执行人2")
    await second.locator("[name=applicant_name]").fill("昆明某某商贸有限公司")
    await second.locator("[name=applicant_phone]").fill("13800138602")
    await second.locator("[name=applicant_eservice_consent]").check()
    await form.get_by_role("button", name="添加委托代理人").click()
    agent = await _row(form, "agent", 0)
    await agent.locator("[name=agent_name]").fill("赵律师")
    await agent.locator("[name=agent_phone]").fill("13800138603")
    respondent = await _row(form, "respondent", 0)
    await respondent.locator("[name=respondent_name]").fill("李四")
    await respondent.locator("[name=respondent_id_number]").fill("530103198505053235")  # wrong check digit
    await respondent.locator("[name=respondent_address]").fill("昆明市五华区某路1号")
    await page.screenshot(path=str(SHOTS / f"filing-rows-{width}.png"), full_page=True)
    await form.get_by_role("button", name="立案并启动流程").click()

    # the wrong field is named in Chinese beside itself, every row kept, nothing filed
    error = page.locator("#respondent-rows .party-row").first.locator(".field-error")
    await expect(error).to_contain_text("第1位被执行人的证件号码")
    await expect(error).to_contain_text("校验")
    await expect(page.locator("#filing .alert-error")).to_contain_text("以下内容填写有误")
    await expect(page.locator("#applicant-rows [name=applicant_name]").nth(1)).to_have_value("昆明某某商贸有限公司")
    await expect(page.locator("#applicant-rows [name=applicant_eservice_consent]").nth(1)).to_be_checked()
    await expect(page.locator("#agent-rows [name=agent_name]")).to_have_value("赵律师")
    async with console.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Case).where(Case.case_number == number)) == 0
    await _fits(page, width)
    await page.locator("#filing").screenshot(path=str(SHOTS / f"filing-error-{width}.png"))

    form = page.locator("form.filing-form")
    await form.locator("[name=respondent_id_number]").fill("530103198505053234")
    await form.get_by_role("button", name="立案并启动流程").click()
    await expect(page).to_have_url(re.compile(r"/cases/[0-9a-f-]{36}\?notice=filed$"))
    case_id = page.url.split("/cases/")[1].split("?")[0]
    parties = page.locator("#parties")
    for name in ("张三", "昆明某某商贸有限公司", "赵律师", "李四"):
        await expect(parties).to_contain_text(name)
    async with console.sessions() as s:
        rows = (
            await s.execute(select(Party.role, Party.name, Party.eservice_consent).where(Party.case_id == case_id))
        ).all()
    assert sorted((r.role, r.name) for r in rows) == [
        ("agent", "赵律师"),
        ("applicant", "张三"),
        ("applicant", "昆明某某商贸有限公司"),
        ("respondent", "李四"),
    ]
    assert {r.name for r in rows if r.eservice_consent} == {"昆明某某商贸有限公司"}

    # the same number again with another amount: what was kept, and a link to it
    await page.goto("/")
    form = page.locator("form.filing-form")
    await form.locator("[name=case_number]").fill(number)
    await form.locator("[name=cause]").fill("买卖合同纠纷")
    await form.locator("[name=amount]").fill("99999")
    await form.locator("[name=applicant_name]").fill("张三")
    await form.locator("[name=applicant_phone]").fill("13800138601")
    await form.get_by_role("button", name="立案并启动流程").click()
    existing = page.locator("#existing-case")
    await expect(existing).to_contain_text("已立案的信息保持不变，本次填写的内容没有保存")
    await expect(existing).to_contain_text(number)
    await _fits(page, width)
    await page.locator("#filing").screenshot(path=str(SHOTS / f"filing-exists-{width}.png"))
    await existing.get_by_role("link", name="打开已立案的案件").click()
    await expect(page).to_have_url(re.compile(rf"/cases/{case_id}$"))
    await expect(page.locator(".facts")).to_contain_text("120,000.00 元")


async def test_rows_are_added_and_removed_without_javascript(browser: object, console: Console) -> None:
    """With scripts off, 添加 and 删除 post the form and it comes back with a row more or less, typed text kept."""
    context = await browser.new_context(  # type: ignore[attr-defined]
        base_url=console.base_url, locale="zh-CN", java_script_enabled=False
    )
    page = await context.new_page()
    try:
        await login(page, "registrar")
        form = page.locator("form.filing-form")
        await form.locator("[name=applicant_name]").fill("张三")
        await form.get_by_role("button", name="添加申请执行人").click()
        await expect(page.locator("#applicant-rows .party-row")).to_have_count(2)
        await expect(page.locator("#applicant-rows [name=applicant_name]").first).to_have_value("张三")
        await page.locator("#applicant-rows .party-row").nth(1).get_by_role("button", name="删除").click()
        await expect(page.locator("#applicant-rows .party-row")).to_have_count(1)
    finally:
        await context.close()

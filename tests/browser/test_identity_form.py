"""The registrar's filing form checks identity numbers (issue 10 item 5), on a desktop and a phone: a wrong check
digit is named and nothing is filed; the corrected number with its document type files the case."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import func, select

from db.models import Case, Party
from domain.clock import BEIJING
from tests.browser.conftest import Console, login

pytestmark = pytest.mark.browser

SHOTS = "/tmp/shots/identity-public"


async def _count(console: Console, model: type[Case] | type[Party]) -> int:
    async with console.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.parametrize("width", [1366, 390])
async def test_a_wrong_check_digit_is_named_and_the_corrected_number_files(
    page: Page, console: Console, width: int
) -> None:
    await page.set_viewport_size({"width": width, "height": 900})
    await login(page, "registrar")
    form = page.locator("form.filing-form")
    number = f"（{datetime.now(BEIJING).year}）云0102执{700 + width}号"
    await form.locator("[name=case_number]").fill(number)
    await form.locator("[name=cause]").fill("买卖合同纠纷")
    await form.locator("[name=amount]").fill("120000")
    await form.locator("[name=applicant_name]").fill("张三")
    await form.locator("[name=applicant_id_number]").fill("11010519491231002x")
    await form.locator("[name=applicant_phone]").fill(f"1380013{width:04d}")
    await form.locator("[name=respondent_name]").fill("云南某某建材有限公司")
    await form.locator("[name=respondent_id_type]").select_option("credit_code")
    await form.locator("[name=respondent_id_number]").fill("91350100M000100Y44")  # check character should be 3
    await form.get_by_role("button", name="立案并启动流程").click()

    error = page.locator("#filing .alert-error")
    await expect(error).to_contain_text("第1位被执行人的证件号码：统一社会信用代码校验位错误")
    assert await _count(console, Case) == 0
    assert await page.evaluate("document.documentElement.scrollWidth") <= width
    await page.screenshot(path=f"{SHOTS}/filing-refused-{width}.png", full_page=True)

    await form.locator("[name=respondent_id_number]").fill("91350100M000100Y43")
    await form.get_by_role("button", name="立案并启动流程").click()

    await expect(page).to_have_url(re.compile(r"/cases/[0-9a-f-]{36}\?notice=filed$"))
    await expect(page.locator("h1")).to_have_text(number)
    async with console.sessions() as s:
        rows = (await s.execute(select(Party.role, Party.id_type, Party.id_number).order_by(Party.id))).all()
    assert [tuple(r) for r in rows] == [
        ("applicant", "resident_id", "11010519491231002X"),
        ("respondent", "credit_code", "91350100M000100Y43"),
    ]

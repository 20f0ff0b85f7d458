"""The leaders not walked elsewhere, in Chromium at 1366 and 390 px (issue 11: each role's main path): the vice
president decides a term extension, the bureau chief a 终本 exception — each sees only the kind their role decides —
and the intermediate court's supervisor reads a basic court's overdue deadlines on the supervision page."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from domain.clock import BEIJING
from tests.browser.conftest import Console, login
from tests.browser.test_approvals import _as, _fits, _number, _switch, _until_overdue

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/shots/leaders")
SHOTS.mkdir(parents=True, exist_ok=True)


@pytest.mark.parametrize("width", [1366, 390])
async def test_the_vice_president_and_the_bureau_chief_each_decide_their_own_kind(
    page: Page, console: Console, width: int
) -> None:
    await page.set_viewport_size({"width": width, "height": 900})
    extended, excepted = await console.file_case(), await console.file_case()
    extended_no, excepted_no = await _number(console, extended), await _number(console, excepted)
    body = {"months": 3, "reason": "拍卖中"}
    r = await _as(console, "handler", "POST", f"/api/cases/{extended}/extensions", json=body)
    assert r.status_code == 201, r.text
    r = await _as(
        console, "handler", "POST", f"/api/cases/{excepted}/zhongben-requests", json={"reason": "被执行人下落不明"}
    )
    assert r.status_code == 201, r.text

    # The vice president: the extension only (法发〔2006〕35号), approved with a note.
    await login(page, "vice_president")
    await page.goto("/approvals")
    card = page.locator(".approval", has_text=extended_no)
    await expect(card).to_contain_text("延长执行期限 3个月")
    await expect(page.locator(".approval", has_text=excepted_no)).to_have_count(0)
    await _fits(page, width)
    await page.screenshot(path=SHOTS / f"vice-president-approvals-{width}.png", full_page=True)
    await card.locator("[name=note]").fill("同意")
    await card.get_by_role("button", name="批准").click()
    await expect(page.locator(".approval", has_text=extended_no)).to_contain_text("已批准")

    # The bureau chief: the 终本 exception only (seed 003), refused with the reason why.
    await _switch(page, "bureau_chief")
    await page.goto("/approvals")
    card = page.locator(".approval", has_text=excepted_no)
    await expect(card).to_contain_text("终本")
    await expect(page.locator(".approval", has_text=extended_no)).to_have_count(0)
    await _fits(page, width)
    await page.screenshot(path=SHOTS / f"bureau-chief-approvals-{width}.png", full_page=True)
    await card.locator("[name=note]").fill("财产调查未完成，不同意终本")
    await card.get_by_role("button", name="驳回").click()
    await expect(page.locator(".approval", has_text=excepted_no)).to_contain_text("驳回")

    # The handler reads both decisions on the case pages.
    await _switch(page, "handler")
    await page.goto(f"/cases/{extended}")
    await expect(page.locator("#requests")).to_contain_text("已批准")
    await page.goto(f"/cases/{excepted}")
    await expect(page.locator("#requests")).to_contain_text("财产调查未完成，不同意终本")


@pytest.mark.parametrize("width", [1366, 390])
async def test_the_intermediate_courts_supervisor_reads_a_basic_courts_overdue_deadlines(
    page: Page, console: Console, width: int
) -> None:
    await page.set_viewport_size({"width": width, "height": 900})
    await console.file_case(filed_on=(datetime.now(BEIJING).date() - timedelta(days=40)).isoformat())
    await login(page, "mid_supervisor")
    await page.get_by_role("link", name="督办与审批").click()
    await expect(page.locator("h1")).to_have_text("督办与审批")
    await _until_overdue(page, "/supervision")
    await expect(page.locator("#per-court")).to_contain_text("昆明市五华区人民法院")
    await _fits(page, width)
    await page.screenshot(path=SHOTS / f"supervisor-{width}.png", full_page=True)

"""The administrator's pages in Chromium at 1366 and 390 px (issue 11 item 4): an admin creates a user who then logs
in, deactivates it, reads the rules, opens the stuck-case list and a case's workflow history in Beijing time; the
high court's administrator enters a future year's holiday schedule; others are refused. Screenshots in
/tmp/shots/admin/."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import httpx
import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import select

from activities import Deps
from db.demo import DEMO_PASSWORD
from db.models import CalendarAlert, SmsMessage
from domain.calendar import PUBLISHED_LAST_YEAR
from domain.clock import BEIJING
from tests.api.conftest import Api
from tests.api.helpers import eventually
from tests.api.stuck import LEAKED_ID, LEAKED_NAME, FailingPublisher, filing_announced
from tests.browser.conftest import Console, login

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/shots/admin")
WIDTHS = [1366, 390]
SHOTS.mkdir(parents=True, exist_ok=True)


async def _shot(page: Page, name: str, width: int) -> None:
    assert await page.evaluate("document.documentElement.scrollWidth") <= width, f"{name} wider than the screen"
    await page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)


async def _new_user_logs_in(browser: Browser, console: Console, username: str, password: str) -> str:
    """Log in as the new user in a browser of its own; the text of the page it lands on."""
    context = await browser.new_context(base_url=console.base_url, locale="zh-CN")
    try:
        other = await context.new_page()
        await login(other, username, password)
        await other.wait_for_load_state()
        return await other.locator("body").inner_text()
    finally:
        await context.close()


@pytest.mark.parametrize("width", WIDTHS)
async def test_an_admin_keeps_users_reads_rules_stuck_cases_and_a_history(
    page: Page, browser: Browser, console: Console, width: int
) -> None:
    await page.set_viewport_size({"width": width, "height": 900})
    case_id = await console.file_case()
    await login(page, "admin")
    number = await _case_number(page, case_id)
    await page.get_by_role("link", name="系统管理").click()
    await expect(page.locator("h1")).to_have_text("系统管理")
    await _shot(page, "overview", width)

    # users: create one, who logs in with the password shown once
    await page.locator(".admin-tabs").get_by_role("link", name="用户与角色").click()
    await page.get_by_text("新建用户", exact=True).first.click()
    form = page.locator("#new-user form")
    await form.locator("[name=username]").fill(f"zhao{width}")
    await form.locator("[name=name]").fill("赵新人")
    await form.locator("[name=role]").select_option("clerk")
    await form.locator("[name=court_code]").select_option("YN0102")
    await form.locator("[name=mobile]").fill("13912345678")
    await _shot(page, "users-form", width)
    await form.get_by_role("button", name="新建用户").click()
    created = page.locator("#created")
    await expect(created).to_contain_text("已新建用户 赵新人")
    await expect(created).to_contain_text("书记员")
    password = (await created.get_by_test_id("password").inner_text()).strip()
    assert len(password) == 12
    await _shot(page, "users-created", width)
    assert "赵新人" in await _new_user_logs_in(browser, console, f"zhao{width}", password)

    # deactivate: the user can no longer log in; the change is in the audit
    row = page.locator("tr", has_text=f"zhao{width}").first
    await row.locator("summary", has_text="管理").click()
    await row.get_by_role("button", name="停用账号").click()
    await expect(page.locator(".alert-ok")).to_contain_text("账号已停用")
    await expect(page.locator("tr", has_text=f"zhao{width}").first).to_contain_text("已停用")
    changes = page.locator("#changes")
    await expect(changes).to_contain_text("停用账号")
    await expect(changes).to_contain_text("新建账号：书记员（昆明市五华区人民法院）")
    await _shot(page, "users-deactivated", width)
    refused = await _new_user_logs_in(browser, console, f"zhao{width}", password)
    assert "赵新人" not in refused and "用户名或密码错误" in refused

    # the court tree with users counts
    await page.locator(".admin-tabs").get_by_role("link", name="法院层级").click()
    tree = page.locator(".court-tree")
    await expect(tree).to_contain_text("五华区人民法院")
    await expect(tree.locator("tr", has_text="五华区人民法院")).to_contain_text("基层人民法院")
    await expect(tree.locator("tr", has_text="五华区人民法院")).to_contain_text("本院")
    await expect(tree.locator("tr", has_text="五华区人民法院")).to_contain_text("9（共10）")
    await expect(tree.locator("tr", has_text="云南省高级人民法院")).to_contain_text("高级人民法院")
    await _shot(page, "courts", width)

    # the rules, read-only, in Chinese with their sources
    await page.locator(".admin-tabs").get_by_role("link", name="规则版本").click()
    term = page.locator("#rule-term-6m")
    await expect(term).to_contain_text("执行期限")
    await expect(term).to_contain_text("6个月（无财产可供执行的3个月）")
    await expect(term).to_contain_text("法发〔2006〕35号")
    await expect(page.locator("#rule-feedback")).to_contain_text("自立案起1个月、6个月，此后每3个月")
    await expect(page.locator(".rule-set").first).to_contain_text("现行版本")
    await expect(page.locator(".rule-set").first).to_contain_text("按此版本立案的案件：1 件")
    await _shot(page, "rules", width)

    # stuck cases: none here
    await page.locator(".admin-tabs").get_by_role("link", name="异常案件").click()
    await expect(page.locator("h1")).to_have_text("异常案件")
    await expect(page.locator(".card").first).to_contain_text("目前没有流程反复失败的案件")
    await _shot(page, "stuck", width)

    # a case's history by its number: Chinese, Beijing time
    await page.locator(".admin-tabs").get_by_role("link", name="流程历史").click()
    await page.locator("[name=case]").fill(number)
    await page.get_by_role("button", name="查看").click()
    await expect(page).to_have_url(re.compile(rf"/admin/cases/{case_id}/history$"))
    timeline = page.locator(".timeline").first
    await expect(timeline).to_contain_text("立案：案件流程启动")
    await expect(timeline).to_contain_text("受理请求")
    today = datetime.now(BEIJING)
    first_time = await timeline.locator(".timeline-time").first.inner_text()
    assert first_time.startswith(f"{today.year}年{today.month}月{today.day}日 "), first_time
    hour = int(first_time.split(" ")[1][:2])
    assert abs(hour - today.hour) in (0, 1, 23), (first_time, today)  # Beijing, not UTC
    body = await page.locator("main").inner_text()
    assert not re.search(r"\b(?:activity_task|workflow_execution|case workflow started)\b", body)
    await _shot(page, "history", width)


async def _alert(console: Console, year: int) -> None:
    """A deadline needed ``year`` without its schedule (as the schedule_periods activity records it)."""
    async with console.sessions() as s:
        s.add(CalendarAlert(year=year, first_seen_at=datetime.now(UTC)))
        await s.commit()


async def _case_number(page: Page, case_id: str) -> str:
    await page.goto(f"/cases/{case_id}")
    number = (await page.locator("h1").first.inner_text()).strip()
    assert number.endswith("号"), number
    return number


@pytest.mark.parametrize("width", WIDTHS)
async def test_the_high_court_admin_enters_a_future_years_schedule(page: Page, console: Console, width: int) -> None:
    await page.set_viewport_size({"width": width, "height": 900})
    year = PUBLISHED_LAST_YEAR + 1
    await _alert(console, year)
    await login(page, "high_admin")
    await page.get_by_role("link", name="系统管理").click()
    await expect(page.locator("main")).to_contain_text(f"有案件期限用到了 {year} 年")
    await _shot(page, "overview-alert", width)
    await page.get_by_role("link", name=f"录入{year}年节假日安排").click()
    await expect(page.locator("#alerts")).to_contain_text(f"{year}年节假日安排尚未录入")
    await expect(page.locator("#year")).to_contain_text("尚未录入")
    form = page.locator("#enter form")
    await expect(form.locator("[name=year]")).to_have_value(str(year))
    await form.locator("[name=holidays]").fill(f"{year}-01-01 元旦\n{year}-10-01~{year}-10-07 国庆节")
    await form.locator("[name=workdays]").fill(f"{year}-09-26 国庆节调休")
    await _shot(page, "calendar-form", width)
    await form.get_by_role("button", name=f"保存{year}年安排").click()

    await expect(page.locator(".alert-ok")).to_contain_text("节假日安排已保存")
    shown = page.locator("#year")
    await expect(shown).to_contain_text("管理员录入")
    await expect(shown).to_contain_text("放假（8天）")
    await expect(shown).to_contain_text(f"{year}年10月7日 国庆节")
    await expect(shown).to_contain_text("调休上班（1天）")
    await expect(page.locator("#audit")).to_contain_text(f"{year}-10-07")
    await expect(page.locator("#audit")).to_contain_text("钱信息")
    await expect(page.locator("#alerts")).to_contain_text(f"{year}年：")
    await expect(page.locator("#alerts")).to_contain_text("由钱信息录入，提醒已解除")
    # the form shows what was entered, ranges folded, to change it
    await expect(page.locator("#enter [name=holidays]")).to_have_value(
        f"{year}-01-01 元旦\n{year}-10-01~{year}-10-07 国庆节"
    )
    await _shot(page, "calendar-saved", width)

    # a published year is read-only: no form
    await page.goto(f"/admin/calendar?year={PUBLISHED_LAST_YEAR}")
    await expect(page.locator("#year")).to_contain_text("国务院已公布（只读）")
    await expect(page.locator("#enter")).to_have_count(0)


async def test_a_bad_line_is_refused_in_chinese_and_changes_nothing(page: Page, console: Console) -> None:
    year = PUBLISHED_LAST_YEAR + 1
    await login(page, "high_admin")
    await page.goto("/admin/calendar")
    form = page.locator("#enter form")
    await form.locator("[name=holidays]").fill(f"{year}-01-01 元旦\n{year}/10/01 国庆节")
    await form.get_by_role("button", name=f"保存{year}年安排").click()
    await expect(page.locator(".alert-error")).to_contain_text("放假日期第2行")
    await expect(page.locator("#enter [name=holidays]")).to_have_value(f"{year}-01-01 元旦\n{year}/10/01 国庆节")
    await expect(page.locator("#year")).to_contain_text("尚未录入")


async def test_a_basic_court_admin_sees_the_schedules_but_no_form_and_no_alerts(page: Page, console: Console) -> None:
    await _alert(console, PUBLISHED_LAST_YEAR + 1)
    await login(page, "admin")
    await page.goto("/admin")
    await expect(page.locator("h1")).to_have_text("系统管理")
    await expect(page.locator("main")).not_to_contain_text("尚未录入")
    await page.goto("/admin/calendar")
    await expect(page.locator("#year")).to_be_visible()
    await expect(page.locator("#enter")).to_have_count(0)
    await expect(page.locator("#alerts")).to_have_count(0)
    await expect(page.locator("main")).to_contain_text("由高级人民法院的信息技术管理员录入")


async def test_staff_other_than_admins_are_refused_and_see_no_admin_link(page: Page, console: Console) -> None:
    await login(page, "handler")
    await expect(page.get_by_role("link", name="系统管理")).to_have_count(0)
    for path in ("/admin", "/admin/users", "/admin/rules", "/admin/stuck", "/admin/calendar"):
        response = await page.goto(path)
        assert response is not None and response.status == 403, path
        await expect(page.locator("h1")).to_have_text("无权访问")


async def _restart(console: Console, publisher: FailingPublisher | None) -> None:
    """The console's worker again on its task queue, publishing through ``publisher`` (None: the local lists)."""
    worker = console.worker
    assert worker is not None
    await worker.stop()
    worker.deps = Deps(console.sessions, worker.deps.sms, publisher)
    await worker.start()


async def _filing_done(console: Console, case_id: str) -> bool:
    async with console.sessions() as s:
        status = await s.scalar(
            select(SmsMessage.status).where(SmsMessage.case_id == case_id, SmsMessage.reason == "filed").limit(1)
        )
    assert console.worker is not None
    return status == "sent" and await filing_announced(console.worker, case_id)


@pytest.mark.parametrize("width", WIDTHS)
async def test_a_stuck_case_is_listed_and_its_history_shows_the_failing_step(
    page: Page, console: Console, width: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    await page.set_viewport_size({"width": width, "height": 900})
    case_id = await console.file_case()
    await eventually(lambda: _filing_done(console, case_id), bool, seconds=20)
    # the dishonest list cannot be published: the workflow retries that step for ever
    publisher = FailingPublisher(cast(Api, console), {"dishonest"})
    await _restart(console, publisher)
    monkeypatch.setattr("api.updates.UPDATE_DEADLINE", timedelta(seconds=2))
    await login(page, "handler")
    await page.goto(f"/cases/{case_id}")
    number = (await page.locator("h1").first.inner_text()).strip()
    async with httpx.AsyncClient(base_url=console.base_url, timeout=30) as http:
        r = await http.post("/api/auth/token", data={"username": "handler", "password": DEMO_PASSWORD})
        node = {"type": "dishonest_listing", "occurred_at": datetime.now(UTC).isoformat(), "summary": "纳入失信名单"}
        headers = {"Authorization": f"Bearer {r.json()['access_token']}", "Idempotency-Key": "stuck"}
        await http.post(f"/api/cases/{case_id}/nodes", json=node, headers=headers)
    await eventually(lambda: _attempts(publisher), lambda n: n >= 2, seconds=30)
    try:
        await page.context.clear_cookies()
        await login(page, "admin")
        for _ in range(20):  # the listing reads Temporal's visibility, a moment behind
            await page.goto("/admin/stuck")
            if number in await page.locator("main").inner_text():
                break
            await asyncio.sleep(1)
        row = page.locator(".stuck-table tr", has_text=number).first
        await expect(row).to_contain_text("按节点更新公开名单")
        await expect(row).to_contain_text("OperationalError")
        body = await page.locator("main").inner_text()
        assert LEAKED_NAME not in body and LEAKED_ID not in body
        await _shot(page, "stuck-listed", width)
        await row.get_by_role("link", name="流程历史").click()
        await expect(page).to_have_url(re.compile(rf"/admin/cases/{case_id}/history$"))
        pending = page.locator(".pending-table")
        await expect(pending).to_contain_text("按节点更新公开名单")
        await expect(pending).to_contain_text("已失败")
        await _shot(page, "history-stuck", width)
    finally:
        await _restart(console, None)


async def _attempts(publisher: FailingPublisher) -> int:
    return publisher.attempts

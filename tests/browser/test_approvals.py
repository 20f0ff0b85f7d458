"""Approvals in Chromium, on a desktop (1366 px) and a phone (390 px) (issue 11 item 2): the handler asks for a longer
term on the case page; the president finds it on the leaders' pages and in an SMS, decides it in place while a new
request arrives without a reload (the note being typed stays); the decision reaches the handler (case page, inbox,
SMS); the other court's president sees nothing."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, Route, expect
from sqlalchemy import select

from db.demo import DEMO_PASSWORD
from db.models import Case, Staff
from domain.clock import BEIJING
from tests.api.helpers import case_body, eventually
from tests.browser.conftest import Console, login

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/shots/approvals")
SHOTS.mkdir(parents=True, exist_ok=True)
REASON = "被执行人名下房产正在网络拍卖，需延长执行期限"


async def _mobile(console: Console, username: str) -> str:
    async with console.sessions() as s:
        staff = await s.scalar(select(Staff).where(Staff.username == username))
        assert staff is not None and staff.mobile
        return staff.mobile


async def _number(console: Console, case_id: str) -> str:
    async with console.sessions() as s:
        case = await s.get(Case, case_id)
        assert case is not None
        return case.case_number


async def _sms(console: Console, phone: str) -> list[str]:
    return [text for to, text in console.phones.delivered if to == phone and "审批" in text]


async def _as(console: Console, username: str, method: str, url: str, **kw: object) -> httpx.Response:
    async with httpx.AsyncClient(base_url=console.base_url, timeout=30) as http:
        r = await http.post("/api/auth/token", data={"username": username, "password": DEMO_PASSWORD})
        headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
        return await http.request(method, url, headers=headers, **kw)  # type: ignore[arg-type]


async def _fits(page: Page, width: int) -> None:
    """Nothing wider than the screen."""
    assert await page.evaluate("document.documentElement.scrollWidth") <= width


async def _switch(page: Page, username: str) -> None:
    await page.context.clear_cookies()
    await login(page, username)


@pytest.mark.parametrize("width", [1366, 390])
async def test_a_request_reaches_the_president_who_decides_and_the_handler_is_told(
    page: Page, console: Console, width: int
) -> None:
    await page.set_viewport_size({"width": width, "height": 900})
    errors: list[str] = []  # the pages log no error: every script, style and the icon is there, htmx has its targets
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    case_id = await console.file_case()
    number = await _number(console, case_id)

    # The handler asks on the case page; the form shows it is submitting.
    await login(page, "handler")
    await page.goto(f"/cases/{case_id}")
    forms = page.locator("#request-forms")
    await forms.get_by_text("申请延长执行期限").click()
    form = forms.locator("form[action$='/requests/extension']")
    await form.locator("[name=months]").select_option("3")
    await form.locator("[name=reason]").fill(REASON)
    await page.screenshot(path=SHOTS / f"handler-request-form-{width}.png", full_page=True)
    await forms.screenshot(path=SHOTS / f"handler-request-card-{width}.png")
    await form.get_by_role("button", name="提交延长申请").click()
    await expect(page.locator(".alert-ok")).to_contain_text("延长执行期限申请已提交")
    await expect(page.locator("#requests")).to_contain_text("待审批")
    await expect(forms).to_contain_text("已有待审批的延长申请")
    await _fits(page, width)

    # The president and vice president each get one SMS with the case number and what is asked, in words.
    president_phone = await _mobile(console, "president")
    [text] = await eventually(lambda: _sms(console, president_phone), lambda t: len(t) == 1, seconds=30)
    assert number in text and "王承办" in text and "延长执行期限3个月" in text, text

    # The president: the leaders' entry, the supervision page, then 待我审批.
    await _switch(page, "president")
    await page.get_by_role("link", name="督办与审批").click()
    await expect(page.locator("h1")).to_have_text("督办与审批")
    await expect(page.locator("#approvals")).to_contain_text(number)
    await expect(page.locator("#count-approvals")).to_have_text("1")
    await _fits(page, width)
    await page.screenshot(path=SHOTS / f"president-supervision-{width}.png", full_page=True)
    await page.locator("#approvals").get_by_role("link", name="进入审批").click()
    card = page.locator(".approval", has_text=number)
    await expect(card).to_contain_text("延长执行期限 3个月")
    await expect(card).to_contain_text("王承办")
    await expect(card).to_contain_text(REASON)
    await expect(page.locator("#approvals-count")).to_have_text("1")

    # While the president types a note, a second request arrives and joins the list without a reload.
    await card.locator("[name=note]").fill("同意延长三个月，请抓紧处置")
    second_id = await console.file_case()
    second_number = await _number(console, second_id)
    r = await _as(
        console, "handler", "POST", f"/api/cases/{second_id}/extensions", json={"months": 2, "reason": "评估中"}
    )
    assert r.status_code == 201, r.text
    second_request = r.json()["id"]
    await page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")  # the page's poll, now
    second = page.locator(".approval", has_text=second_number)
    await expect(second).to_be_visible()
    await expect(page.locator("#approvals-count")).to_have_text("2")
    await expect(card.locator("[name=note]")).to_have_value("同意延长三个月，请抓紧处置")
    await second.locator("[name=note]").fill("材料不全")
    await _fits(page, width)
    await page.screenshot(path=SHOTS / f"president-approvals-{width}.png", full_page=True)

    # Approve: the buttons show it is submitting; the card turns into the decision; the other note stays.
    async def slow(route: Route) -> None:
        await asyncio.sleep(2.0)
        await route.continue_()

    decisions = re.compile(r"/approvals/[^/]+/decision$")
    await page.route(decisions, slow)
    await card.get_by_role("button", name="批准").click()
    await expect(card.locator("button[value=approve]")).to_be_disabled()
    await expect(card.locator("button[value=refuse]")).to_be_disabled()
    await expect(card.locator(".approval-busy")).to_be_visible()
    await expect(card.locator(".approval-busy")).to_contain_text("正在提交")
    done = page.locator(f".approval-done:has-text('{number}')")
    await expect(done).to_contain_text("已批准")
    await expect(done).to_contain_text("张院长")
    await expect(done).to_contain_text("同意延长三个月，请抓紧处置")
    await expect(done).to_contain_text("执行期限延长至")
    await expect(second.locator("[name=note]")).to_have_value("材料不全")
    await expect(page.locator("#approvals-count")).to_have_text("1")
    await page.unroute(decisions)
    await _fits(page, width)
    await page.screenshot(path=SHOTS / f"president-decided-{width}.png", full_page=True)

    # The connection drops as she refuses the second: the card says so and can be sent again, the note kept.
    await page.route(decisions, lambda route: route.abort())
    await second.get_by_role("button", name="驳回").click()
    await expect(second.locator(".approval-failed")).to_have_text("网络异常或服务暂不可用，未能提交，请重试。")
    await expect(second.locator("button[value=refuse]")).to_be_enabled()
    await expect(second.locator("[name=note]")).to_have_value("材料不全")
    await page.unroute(decisions)
    assert errors and all("ERR_FAILED" in e or e.startswith("htmx:") for e in errors), errors  # the drop we made
    errors.clear()
    # The vice president decides it meanwhile: on the next poll its form gives way to why, and nothing waits.
    r = await _as(
        console, "vice_president", "POST", f"/api/approvals/{second_request}/decision", json={"approve": False}
    )
    assert r.status_code == 200, r.text
    await page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    await expect(second.locator(".approval-gone")).to_contain_text("该申请已不再等待您审批")
    await expect(second).to_contain_text(second_number)
    await expect(page.locator("#approvals-count")).to_have_text("0")
    await expect(page.locator(".approval-empty")).to_be_visible()
    await _fits(page, width)
    await page.screenshot(path=SHOTS / f"president-gone-{width}.png", full_page=True)

    # The handler: an SMS, the inbox item, the case page.
    handler_phone = await _mobile(console, "handler")
    texts = await eventually(lambda: _sms(console, handler_phone), lambda t: len(t) == 2, seconds=30)
    [told] = [t for t in texts if number in t]  # and the vice president's refusal of the second
    assert number in told and "延长执行期限申请已批准" in told and "张院长" in told, told
    inbox = await _as(console, "handler", "GET", "/api/inbox")
    [decision] = [i for i in inbox.json()["items"] if i["kind"] == "decision" and i["case_number"] == number]
    assert (decision["case_number"], decision["status_name"], decision["note"]) == (
        number,
        "已批准",
        "同意延长三个月，请抓紧处置",
    )
    await _switch(page, "handler")
    await page.get_by_role("link", name="待办").click()
    told_here = page.locator("#inbox-approvals li", has_text=number)
    await expect(told_here).to_contain_text("审批结果：延长执行期限已批准")
    await expect(told_here).to_contain_text("同意延长三个月，请抓紧处置")
    await _fits(page, width)
    await page.screenshot(path=SHOTS / f"handler-inbox-{width}.png", full_page=True)
    await page.goto(f"/cases/{case_id}#requests")
    await expect(page.locator("#requests")).to_contain_text("已批准")
    await expect(page.locator("#requests")).to_contain_text("张院长")
    await expect(page.locator("#nodes")).to_contain_text("执行期限延长3个月")
    # The staff SMS of the case say what they were for, in words.
    await expect(page.locator("body")).to_contain_text("审批申请（通知审批人）")
    await expect(page.locator("body")).to_contain_text("审批结果（通知承办人）")
    await expect(page.locator("body")).not_to_contain_text("decision:")
    await page.locator("#requests").screenshot(path=SHOTS / f"handler-decided-{width}.png")

    # The other court's president sees nothing of it.
    await _switch(page, "president2")
    await page.goto("/approvals")
    await expect(page.locator(".approval-empty")).to_be_visible()
    await expect(page.locator(".approval")).to_have_count(0)
    await page.goto("/supervision")
    await expect(page.locator("body")).not_to_contain_text(number)
    await page.screenshot(path=SHOTS / f"other-president-{width}.png", full_page=True)
    assert errors == []


async def test_a_handler_is_refused_the_supervision_page_and_sees_no_leaders_entry(
    page: Page, console: Console
) -> None:
    await login(page, "handler")
    await expect(page.get_by_role("link", name="督办与审批")).to_have_count(0)
    r = await page.goto("/supervision")
    assert r is not None and r.status == 403
    await expect(page.locator("h1")).to_have_text("无权查看")


async def _until_overdue(page: Page, url: str) -> None:
    """The supervision page once visibility lists the overdue cases (search attributes arrive a moment later)."""
    for _ in range(60):
        await page.goto(url)
        if await page.locator("#count-overdue").inner_text() != "0":
            return
        await asyncio.sleep(0.5)
    raise AssertionError("no overdue deadline reached the supervision page")


@pytest.mark.parametrize("width", [1366, 390])
async def test_supervision_counts_overdue_deadlines_per_handler_and_per_court(
    page: Page, console: Console, width: int
) -> None:
    await page.set_viewport_size({"width": width, "height": 900})
    filed_on = (datetime.now(BEIJING).date() - timedelta(days=40)).isoformat()
    first = await _number(console, await console.file_case(filed_on=filed_on))
    body = case_body(court_code="YN0103", handler="handler2", clerk="clerk2", filed_on=filed_on)
    body["case_number"] = body["case_number"].replace("云0102", "云0103")
    r = await _as(console, "registrar2", "POST", "/api/cases", json=body)
    assert r.status_code == 201, r.text

    # The basic court's president: its own court only, the overdue property investigation escalated to them.
    await login(page, "president")
    await _until_overdue(page, "/supervision")
    await expect(page.locator("#per-handler")).to_contain_text("王承办")
    await expect(page.locator("#deadlines")).to_contain_text(first)
    await expect(page.locator("#deadlines")).to_contain_text("已超期")
    await expect(page.locator("#deadlines")).not_to_contain_text(body["case_number"])
    await expect(page.locator("#escalations")).to_contain_text(first)
    await expect(page.locator("#per-court")).to_have_count(0)
    await _fits(page, width)
    await page.screenshot(path=SHOTS / f"supervision-basic-{width}.png", full_page=True)

    # The intermediate court's president: both basic courts below it, counted per court; nothing to approve.
    await _switch(page, "mid_president")
    await _until_overdue(page, "/supervision")
    per_court = page.locator("#per-court")
    await expect(per_court).to_contain_text("昆明市五华区人民法院")
    await expect(per_court).to_contain_text("昆明市盘龙区人民法院")
    await expect(page.locator("#deadlines")).to_contain_text(body["case_number"])
    await expect(page.locator("#count-approvals")).to_have_text("0")
    await _fits(page, width)
    await page.screenshot(path=SHOTS / f"supervision-intermediate-{width}.png", full_page=True)

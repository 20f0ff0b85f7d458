"""The staff console in a real browser: filing, recording a node, the outbox, login and court boundaries."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import Page, expect

from db import queries
from db.models import Case
from domain.clock import BEIJING
from tests.browser.conftest import Console, login

pytestmark = pytest.mark.browser

SCREENSHOT = "/tmp/yg-case.png"


def _this_year() -> int:
    return datetime.now(BEIJING).year


async def _fill_filing_form(page: Page, *, case_number: str, phone: str) -> None:
    form = page.locator("form.filing-form")
    await form.locator("[name=case_number]").fill(case_number)
    await form.locator("[name=cause]").fill("民间借贷纠纷")
    await form.locator("[name=amount]").fill("86000.00")
    await form.locator("[name=handler]").select_option("handler")
    await form.locator("[name=clerk]").select_option("clerk")
    await form.locator("[name=applicant_name]").fill("张三")
    await form.locator("[name=applicant_id_number]").fill("530102199001012234")
    await form.locator("[name=applicant_phone]").fill(phone)
    await form.locator("[name=respondent_name]").fill("李四")
    await form.locator("[name=respondent_id_number]").fill("530103198505053234")
    await form.locator("[name=respondent_address]").fill("昆明市五华区某路1号")


async def test_registrar_files_a_case_and_sees_the_filing_sms(page: Page, console: Console) -> None:
    await login(page, "registrar")
    await expect(page).to_have_url(f"{console.base_url}/")
    await expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    await expect(page.locator(".welcome")).to_contain_text("李立案")
    await expect(page.locator(".welcome")).to_contain_text("立案人员")
    await expect(page.locator(".welcome")).to_contain_text("昆明市五华区人民法院")

    number = f"（{_this_year()}）云0102执501号"
    await _fill_filing_form(page, case_number=number, phone="13800138501")
    await page.get_by_role("button", name="立案并启动流程").click()

    await expect(page).to_have_url(re.compile(r"/cases/[0-9a-f-]{36}\?notice=filed$"))
    await expect(page.locator("h1")).to_have_text(number)
    await expect(page.locator("#parties")).to_contain_text("138****8501")
    await expect(page.locator("#parties")).not_to_contain_text("13800138501")
    outbox = page.locator("#outbox tbody tr")
    await expect(outbox).to_have_count(1)
    await expect(outbox.first).to_contain_text("立案通知")
    await expect(outbox.first).to_contain_text("查询码：******")
    await expect(outbox.first).to_contain_text("已发送")
    await expect(page.locator(".case-head")).to_contain_text("执行中")
    await expect(page.locator("form.node-form")).to_have_count(0)  # registrars do not record nodes

    await page.get_by_role("link", name="案件", exact=True).click()
    row = page.locator("#cases tbody tr", has_text=number)
    await expect(row).to_contain_text("执行中")
    await expect(row).to_contain_text("王承办")
    await page.get_by_role("link", name="短信发件箱").click()
    filing_sms = page.locator("tbody tr", has_text=number).filter(has_text="立案通知")
    await expect(filing_sms).to_contain_text("申请执行人")
    reminders = page.locator("tbody tr", has_text=number).filter(has_text="督办提醒")
    await expect(reminders.first).to_contain_text("法院工作人员")  # the ladder's first rung reached the handler


async def test_handler_records_a_freeze_once_even_when_the_form_is_sent_twice(page: Page, console: Console) -> None:
    case_id = await console.file_case()
    await login(page, "handler")
    await page.locator(f"a[href='/cases/{case_id}']").click()
    await expect(page.locator("#outbox tbody tr")).to_have_count(1)

    form = page.locator("form.node-form")
    occurred = (datetime.now(BEIJING) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    await form.locator("[name=type]").select_option(label="冻结")
    await form.locator("[name=occurred_at]").fill(occurred)
    await form.locator("[name=summary]").fill("冻结被执行人银行存款5万元")
    key = await form.locator("[name=idempotency_key]").input_value()
    assert key
    await form.get_by_role("button", name="录入节点").click()

    await expect(page).to_have_url(re.compile(r"\?notice=recorded$"))
    nodes = page.locator("#nodes tbody tr")
    await expect(nodes).to_have_count(1)
    await expect(nodes.first).to_contain_text("冻结")
    await expect(nodes.first).to_contain_text("冻结被执行人银行存款5万元")
    await expect(nodes.first).not_to_contain_text("逾期录入")
    outbox = page.locator("#outbox tbody tr")
    await expect(outbox).to_have_count(2)
    await expect(outbox.nth(1)).to_contain_text("节点通知：冻结")
    await expect(outbox.nth(1)).to_contain_text("已冻结被执行人财产")
    await expect(outbox.nth(1)).to_contain_text("已发送")
    await expect(page.locator(".alert-info")).to_have_count(0)  # nothing in flight: the page stopped reloading
    await page.screenshot(path=SCREENSHOT, full_page=True)

    # Back to the form as it was drawn, and send it again: its key is the one already used.
    await page.go_back()
    form = page.locator("form.node-form")
    await form.locator("[name=idempotency_key]").evaluate("(el, key) => { el.value = key; }", key)
    await form.locator("[name=type]").select_option(label="冻结")
    await form.locator("[name=occurred_at]").fill(occurred)
    await form.locator("[name=summary]").fill("冻结被执行人银行存款5万元")
    await form.get_by_role("button", name="录入节点").click()

    await expect(page).to_have_url(re.compile(r"\?notice=duplicate$"))
    await expect(page.locator(".alert-ok")).to_have_text("该表单已经提交过，节点未重复录入。")
    await expect(page.locator("#nodes tbody tr")).to_have_count(1)
    assert await console.count_nodes(case_id) == 1
    assert await console.count_sms(case_id) == 2


async def test_clerk_closes_the_case_and_the_node_form_goes_away(page: Page, console: Console) -> None:
    case_id = await console.file_case()
    await login(page, "clerk")
    await page.goto(f"/cases/{case_id}")
    form = page.locator("form.node-form")
    await form.locator("[name=type]").select_option(label="结案")
    await expect(form.locator("[name=mode]")).to_be_visible()
    await expect(form.locator("[name=scheduled_at]")).to_be_hidden()
    await form.locator("[name=occurred_at]").fill(
        (datetime.now(BEIJING) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    )
    await form.locator("[name=mode]").select_option("执行完毕")
    await form.locator("[name=recovered_amount]").fill("50000")
    await form.get_by_role("button", name="录入节点").click()

    await expect(page.locator(".case-head")).to_contain_text("已结案")
    await expect(page.locator("#nodes tbody tr").first).to_contain_text("结案方式：执行完毕")
    await expect(page.locator("#nodes tbody tr").first).to_contain_text("赵书记")
    await expect(page.locator("form.node-form")).to_have_count(0)
    await expect(page.locator("#outbox tbody tr", has_text="节点通知：结案")).to_contain_text("以“执行完毕”方式结案")


async def test_handler_sees_the_feedback_and_the_applicants_reply(page: Page, console: Console) -> None:
    case_id = await console.file_case()
    feedback_id = await console.submit_feedback(case_id)
    await login(page, "handler")
    await page.goto(f"/cases/{case_id}")
    row = page.locator("#feedback tbody tr")
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text("第1次")
    await expect(row).to_contain_text("拟于下月评估拍卖其车辆")
    await expect(row).to_contain_text("尚未回复")
    async with console.sessions() as s:  # the applicant's reply, as the party portal records it
        case = await s.get(Case, case_id)
        assert case is not None
        applicant, now = next(p for p in case.parties if p.role == "applicant"), datetime.now(UTC)
        assert await queries.record_feedback_reply(
            s, case_id=case_id, feedback_id=feedback_id, text="希望尽快拍卖车辆", party_id=applicant.id, at=now
        )
        await s.commit()
    await page.reload()
    await expect(row).to_contain_text("希望尽快拍卖车辆")
    await expect(row).to_contain_text("申请执行人 张三")
    await expect(row).not_to_contain_text("尚未回复")


async def test_wrong_password_shows_the_chinese_error(page: Page, console: Console) -> None:
    await page.goto("/")
    await expect(page).to_have_url(re.compile(r"/login\?next=/$"))
    await page.locator("[name=username]").fill("registrar")
    await page.locator("[name=password]").fill("not-the-password")
    async with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/login")) as info:
        await page.get_by_role("button", name="登录").click()
    assert (await info.value).status == 401
    await expect(page.get_by_role("alert")).to_have_text("用户名或密码错误，请重新输入。")
    await expect(page.locator("[name=username]")).to_have_value("registrar")
    assert not [c for c in await page.context.cookies() if c["name"] == "yg_token"]


async def test_placeholder_phone_is_refused_and_the_form_keeps_the_input(page: Page, console: Console) -> None:
    await login(page, "registrar")
    number = f"（{_this_year()}）云0102执502号"
    await _fill_filing_form(page, case_number=number, phone="11111111111")
    async with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/cases")) as info:
        await page.get_by_role("button", name="立案并启动流程").click()
    assert (await info.value).status == 422

    alert = page.get_by_role("alert")
    await expect(alert).to_contain_text("申请执行人1（张三）")
    await expect(alert).to_contain_text("由同一数字重复组成，是占位号码")
    await expect(alert).to_have_attribute("data-kind", "PlaceholderPhone")
    form = page.locator("form.filing-form")
    for name, value in (
        ("case_number", number),
        ("cause", "民间借贷纠纷"),
        ("amount", "86000.00"),
        ("handler", "handler"),
        ("applicant_name", "张三"),
        ("applicant_phone", "11111111111"),
        ("respondent_name", "李四"),
        ("respondent_address", "昆明市五华区某路1号"),
    ):
        await expect(form.locator(f"[name={name}]")).to_have_value(value)
    await expect(page.locator("#cases")).to_contain_text("暂无案件")


async def test_handler_of_another_court_cannot_open_the_case(page: Page, console: Console) -> None:
    case_id = await console.file_case()
    await login(page, "handler2")
    await expect(page.locator(".welcome")).to_contain_text("昆明市盘龙区人民法院")
    await expect(page.locator("#cases")).to_contain_text("暂无案件")

    response = await page.goto(f"/cases/{case_id}")
    assert response is not None and response.status == 404
    await expect(page.locator("h1")).to_have_text("未找到该案件")
    await expect(page.locator(".notfound")).to_contain_text("案件不存在或不在本院管辖范围内")
    await page.goto("/outbox")
    await expect(page.locator(".card")).to_contain_text("暂无短信")

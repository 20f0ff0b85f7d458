"""The handler's workbench in Chromium at 1366 and 390 px (issue 11 item 1): 我的待办 with days-overdue badges,
search and filters; on the case page a progress feedback drafted, kept in the browser, previewed, edited and sent;
the applicant's reply on the case page, on the home page and in the JSON inbox."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select

from db.demo import DEMO_PASSWORD
from db.models import Party, SmsMessage
from domain.clock import BEIJING
from tests.browser.conftest import Console, login
from tests.browser.test_portal import _filing_sms

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/shots/workbench")


async def _fits(page: Page, width: int) -> None:
    """Nothing wider than the screen: no sideways scrolling on a phone."""
    assert await page.evaluate("document.documentElement.scrollWidth") <= width


async def _shot(page: Page, name: str) -> None:
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


async def _card(page: Page, selector: str, name: str) -> None:
    """One card of a long page, at the size it is drawn."""
    await page.locator(selector).screenshot(path=str(SHOTS / f"{name}.png"))


async def _compose(page: Page) -> None:
    """Open the feedback form (it opens by itself when a feedback falls due within days), once the page's scripts
    run: a page reached by a click is in the DOM before its deferred scripts, and text typed before console.js
    listens is kept by no draft (a hand cannot type that fast; the suite on a busy machine did)."""
    await page.wait_for_load_state("load")
    details = page.locator("details.feedback-compose")
    if await details.get_attribute("open") is None:
        await details.locator("summary").click()
    await expect(details.locator("form.feedback-form")).to_be_visible()


async def _reply_as_applicant(console: Console, case_id: str, text: str) -> None:
    """The applicant logs in to the portal's API with the filing SMS's code and replies to the first feedback."""
    _, phone, code = await _filing_sms(console, case_id)
    async with httpx.AsyncClient(base_url=console.base_url, timeout=30) as http:
        case = (await http.post("/api/auth/token", data={"username": "handler", "password": DEMO_PASSWORD})).json()
        staff = {"Authorization": f"Bearer {case['access_token']}"}
        number = (await http.get(f"/api/cases/{case_id}", headers=staff)).json()["case_number"]
        login_body = {"case_number": number, "id_number": "530102199001012234", "phone": phone, "query_code": code}
        r = await http.post("/api/portal/token", json=login_body)
        assert r.status_code == 200, r.text
        party = {"Authorization": f"Bearer {r.json()['access_token']}"}
        [feedback] = (await http.get("/api/portal/feedback", headers=party)).json()
        r = await http.post(f"/api/portal/feedback/{feedback['feedback_id']}/reply", json={"text": text}, headers=party)
        assert r.status_code == 201, r.text


@pytest.mark.parametrize("width", [1366, 390])
async def test_handler_finds_the_overdue_case_and_sends_a_feedback_draft_then_reads_the_reply(
    page: Page, console: Console, width: int
) -> None:
    await page.set_viewport_size({"width": width, "height": 900})
    today = datetime.now(BEIJING).date()
    filed_on = today - timedelta(days=45)  # the 1-month property investigation is two weeks overdue
    late_id = await console.file_case(filed_on=filed_on.isoformat())
    fresh_id = await console.file_case(applicants=[{"name": "周五", "phone": "13912345670"}])

    await login(page, "handler")
    await expect(page.locator("#cases h2")).to_have_text("我的待办")
    late_row = page.locator("#cases tbody tr", has=page.locator(f"a[href='/cases/{late_id}']"))
    await expect(late_row).to_have_class(re.compile("overdue"))
    await expect(late_row.locator(".due-late").first).to_have_text(re.compile(r"^已超期\d+天$"))
    fresh_row = page.locator("#cases tbody tr", has=page.locator(f"a[href='/cases/{fresh_id}']"))
    await expect(fresh_row.locator(".badge[class*=due-]")).to_have_text(re.compile(r"^剩\d+天$"))
    await expect(page.locator(".stat-late dd")).not_to_have_text("0")
    await _fits(page, width)
    await _shot(page, f"home-{width}")

    # search by a party's name, then only the overdue ones
    await page.locator("[name=q]").fill("周五")
    await page.get_by_role("button", name="查询").click()
    await expect(page.locator("#cases tbody tr")).to_have_count(1)
    await expect(page.locator("#cases tbody tr")).to_contain_text("周五")
    await page.locator("[name=q]").fill("")
    await page.locator("[name=overdue]").check()
    await page.locator("[name=rule]").select_option(label="财产调查")
    await page.get_by_role("button", name="查询").click()
    await expect(page.locator(f"#cases a[href='/cases/{late_id}']")).to_be_visible()
    await expect(page.locator(f"#cases a[href='/cases/{fresh_id}']")).to_have_count(0)
    await _shot(page, f"home-filtered-{width}")

    # the case page: the overdue deadline is marked, the feedback is drafted from the nodes
    await page.locator(f"#cases a[href='/cases/{late_id}']").click()
    overdue = page.locator("#obligations tr.overdue", has_text="财产调查")
    await expect(overdue.locator(".due-late")).to_have_text(re.compile(r"^已超期\d+天$"))
    await _compose(page)
    form = page.locator("form.feedback-form")
    await form.locator("[name=measures]").fill("已冻结被执行人银行存款5万元")
    await form.locator("[name=next_steps]").fill("拟于下月评估")
    await expect(form.locator("[data-draft-note]")).to_contain_text("草稿已保存在本机")

    # come back later: the draft is still there
    await page.goto(f"/cases/{late_id}")
    form = page.locator("form.feedback-form")
    await expect(form.locator("[name=next_steps]")).to_have_value("拟于下月评估")
    await expect(form.locator("[data-draft-note]")).to_contain_text("已恢复")

    # preview, edit, send
    await form.get_by_role("button", name="预览").click()
    await expect(page.locator(".feedback-preview")).to_contain_text("拟于下月评估")
    await _shot(page, f"feedback-preview-{width}")
    await _card(page, "#feedback", f"feedback-preview-card-{width}")
    form = page.locator("form.feedback-form")
    await form.locator("[name=next_steps]").fill("拟于下月委托评估被执行人车辆")
    send = form.get_by_role("button", name="发送给申请执行人")
    await send.click()
    await expect(page).to_have_url(re.compile(rf"/cases/{late_id}\?notice=feedback_sent"))
    await expect(page.locator(".alert-ok")).to_contain_text("执行进展反馈已发送")
    row = page.locator("#feedback tbody tr")
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text("拟于下月委托评估被执行人车辆")
    await expect(row).to_contain_text("尚未回复")
    # the sent draft is forgotten: the form starts again from the server's draft
    await page.goto(f"/cases/{late_id}")
    await _compose(page)
    await expect(page.locator("form.feedback-form [name=next_steps]")).to_have_value("")

    # the applicant replies in the portal: on the case page, on the home page, in the inbox
    await _reply_as_applicant(console, late_id, "请尽快评估拍卖被执行人的车辆。")
    await page.goto(f"/cases/{late_id}")
    await expect(page.locator("#feedback .feedback-reply")).to_contain_text("请尽快评估拍卖被执行人的车辆。")
    await _fits(page, width)
    await _shot(page, f"case-{width}")
    await _card(page, "#feedback", f"feedback-reply-card-{width}")
    await _card(page, "#obligations", f"obligations-card-{width}")
    await page.goto("/")
    await expect(page.locator("#replies")).to_contain_text("请尽快评估拍卖被执行人的车辆。")
    await page.get_by_role("link", name="待办").click()
    await expect(page.locator("#inbox-replies")).to_contain_text("请尽快评估拍卖被执行人的车辆。")
    await _fits(page, width)
    await _card(page, "#inbox-replies", f"inbox-replies-{width}")
    async with httpx.AsyncClient(base_url=console.base_url, timeout=30) as http:
        token = (await http.post("/api/auth/token", data={"username": "handler", "password": DEMO_PASSWORD})).json()
        inbox = await http.get("/api/inbox", headers={"Authorization": f"Bearer {token['access_token']}"})
    [reply] = [i for i in inbox.json()["items"] if i["kind"] == "feedback_reply"]
    assert reply["case_id"] == late_id and reply["reply"] == "请尽快评估拍卖被执行人的车辆。"


async def test_a_form_being_sent_says_so_and_is_sent_once(page: Page, console: Console) -> None:
    """The send button turns into 正在提交… and a double click sends one feedback."""
    case_id = await console.file_case()
    await login(page, "handler")
    await page.goto(f"/cases/{case_id}")
    await _compose(page)
    form = page.locator("form.feedback-form")
    await form.locator("[name=measures]").fill("已查询被执行人名下银行账户")
    await form.locator("[name=next_steps]").fill("拟冻结其存款")
    # what the button says just after the click is kept across the navigation (sessionStorage); posts are counted
    await page.evaluate(
        """() => document.addEventListener("submit", () => setTimeout(() => {
            const b = document.querySelector("form.feedback-form button[value=send]");
            sessionStorage.setItem("busy", b.textContent + "|" + b.disabled);
        }, 20))"""
    )
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    send = form.locator("button[value=send]")
    await expect(send).to_have_text("发送给申请执行人")
    await send.dblclick()
    await expect(page.locator(".alert-ok")).to_contain_text("执行进展反馈已发送")
    assert await page.evaluate("sessionStorage.getItem('busy')") == "正在提交…|true"
    assert len(posts) == 1  # the second click sent nothing
    await expect(page.locator("#feedback tbody tr")).to_have_count(1)


async def test_paging_and_a_case_of_another_court_is_a_chinese_404(page: Page, console: Console) -> None:
    """The home pages instead of capping; a console path that does not exist and a case of another court are the
    staff 404 page in Chinese."""
    ids = [await console.file_case() for _ in range(22)]
    await login(page, "handler")
    await expect(page.locator(".result-count")).to_contain_text("共 22 件，第 1/2 页")
    await expect(page.locator("#cases tbody tr")).to_have_count(20)
    await page.get_by_role("link", name="下一页").click()
    await expect(page.locator("#cases tbody tr")).to_have_count(2)
    await expect(page.locator(".pager")).to_contain_text("第 2 页 / 共 2 页")

    await page.get_by_role("button", name="退出登录").click()
    await login(page, "handler2")
    response = await page.goto(f"/cases/{ids[0]}")
    assert response is not None and response.status == 404
    await expect(page.locator("h1")).to_have_text("未找到该案件")
    response = await page.goto("/no-such-page")
    assert response is not None and response.status == 404
    await expect(page.locator("h1")).to_have_text("未找到该页面")
    await expect(page.locator("html")).to_have_attribute("lang", "zh-CN")


async def _close_by_zhongben(console: Console, case_id: str) -> None:
    """终本 through the JSON API: the handler asks, the bureau chief approves the exception, the handler closes."""
    async with httpx.AsyncClient(base_url=console.base_url, timeout=30) as http:

        async def as_(username: str) -> dict[str, str]:
            r = await http.post("/api/auth/token", data={"username": username, "password": DEMO_PASSWORD})
            return {"Authorization": f"Bearer {r.json()['access_token']}"}

        handler, chief = await as_("handler"), await as_("bureau_chief")
        reason = {"reason": "被执行人下落不明，确无财产"}
        asked = await http.post(f"/api/cases/{case_id}/zhongben-requests", json=reason, headers=handler)
        assert asked.status_code == 201, asked.text
        decision = f"/api/cases/{case_id}/zhongben-requests/{asked.json()['id']}/decision"
        assert (await http.post(decision, json={"approve": True}, headers=chief)).status_code == 200
        occurred = (datetime.now(BEIJING) - timedelta(minutes=5)).isoformat()
        node = {"type": "closure", "occurred_at": occurred, "mode": "终本"}
        r = await http.post(f"/api/cases/{case_id}/nodes", json=node, headers={**handler, "Idempotency-Key": "zb"})
        assert r.status_code == 201, r.text


@pytest.mark.parametrize("width", [1366, 390])
async def test_registrar_restores_a_zhongben_case_from_its_page(page: Page, console: Console, width: int) -> None:
    await page.set_viewport_size({"width": width, "height": 900})
    case_id = await console.file_case()
    await _close_by_zhongben(console, case_id)
    await login(page, "handler")
    await page.goto(f"/cases/{case_id}")
    await expect(page.locator("#restore")).to_contain_text("由立案庭以“执恢”字号立案恢复执行")
    # the closed case still takes the 6-monthly inquiry, and nothing else
    form = page.locator("form.node-form")
    await expect(form.locator("[name=type] option[value]:not([value=''])")).to_have_count(1)
    await form.locator("[name=type]").select_option(label="网络查控")
    await form.locator("[name=summary]").fill("总对总查询：未发现可供执行的财产")
    await form.get_by_role("button", name="录入节点").click()
    await expect(page.locator("#nodes tbody tr").last).to_contain_text("总对总查询：未发现可供执行的财产")
    await page.get_by_role("button", name="退出登录").click()

    await login(page, "registrar")
    await page.goto(f"/cases/{case_id}")
    form = page.locator("form.restore-form")
    await expect(form).to_contain_text("申请执行人 张三")
    await form.locator("[name=case_number]").fill(f"（{datetime.now(BEIJING).year}）云0102执{width}号")
    await form.get_by_role("button", name="立案恢复执行").click()
    await expect(page.locator("#restore .alert-error")).to_contain_text("执恢")  # a 执 number is refused, in words
    number = f"（{datetime.now(BEIJING).year}）云0102执恢{width}号"
    await page.locator("form.restore-form [name=case_number]").fill(number)
    await _card(page, "#restore", f"restore-form-{width}")
    await page.locator("form.restore-form").get_by_role("button", name="立案恢复执行").click()
    await expect(page).to_have_url(re.compile(r"/cases/[0-9a-f-]{36}\?notice=restored$"))
    await expect(page.locator("h1")).to_have_text(number)
    await expect(page.locator("#parties")).to_contain_text("张三")
    await page.goto(f"/cases/{case_id}")
    await expect(page.locator("#restore")).to_contain_text(f"本案已恢复执行，立为 {number}")
    await _fits(page, width)


async def test_a_page_waiting_for_an_sms_refreshes_its_parts_never_the_form_being_typed(
    page: Page, console: Console
) -> None:
    """While an SMS of the case is on its way the page follows it (every 2 s), without reloading: the node form
    keeps what the handler is typing; once the SMS is sent the outbox shows it and the page stops asking."""
    case_id = await console.file_case()
    await login(page, "handler")
    await page.goto(f"/cases/{case_id}")
    await expect(page.locator("#outbox tbody tr", has_text="立案通知")).to_contain_text("已发送")
    async with console.sessions() as s:  # an SMS on its way: a row the provider has not taken yet
        party = await s.scalar(select(Party.id).where(Party.case_id == case_id, Party.role == "applicant"))
        row = SmsMessage(
            case_id=case_id,
            reason="node:on-its-way",
            recipient=f"party:{party}",
            to="13800000000",
            body="【测试】短信在途",
            status="pending",
            provider="outbox",
            created_at=datetime.now(UTC),
        )
        s.add(row)
        await s.commit()
        row_id = row.id
    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(r.url) if r.headers.get("hx-request") == "true" else None)
    await page.reload()
    await expect(page.locator("#live-note")).to_be_visible()
    summary = page.locator("form.node-form [name=summary]")
    await summary.fill("正在输入的摘要，不能被刷新掉")
    await page.wait_for_timeout(4500)  # two refreshes
    assert len(fetched) >= 2  # the live parts were fetched …
    await expect(summary).to_have_value("正在输入的摘要，不能被刷新掉")  # … and the form left alone

    async with console.sessions() as s:
        sent = await s.get(SmsMessage, row_id)
        assert sent is not None
        sent.status, sent.sent_at = "sent", datetime.now(UTC)
        await s.commit()
    await expect(page.locator("#live-note")).to_be_hidden()
    await expect(page.locator("#outbox tbody tr", has_text="短信在途")).to_contain_text("已发送")
    await expect(summary).to_have_value("正在输入的摘要，不能被刷新掉")
    count = len(fetched)
    await page.wait_for_timeout(2500)
    assert len(fetched) == count  # nothing in flight: it stopped


async def test_logging_out_forgets_the_drafts_kept_in_the_browser(page: Page, console: Console) -> None:
    """A court computer is shared: a feedback draft kept in the browser does not outlive the handler's session."""
    case_id = await console.file_case()
    await login(page, "handler")
    await page.goto(f"/cases/{case_id}")
    await _compose(page)
    form = page.locator("form.feedback-form")
    await form.locator("[name=next_steps]").fill("草稿：拟查封被执行人房产")
    await expect(form.locator("[data-draft-note]")).to_contain_text("草稿已保存在本机")
    await page.get_by_role("button", name="退出登录").click()
    assert await page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('feedback:')).length") == 0
    await login(page, "handler")
    await page.goto(f"/cases/{case_id}")
    await _compose(page)
    await expect(page.locator("form.feedback-form [name=next_steps]")).to_have_value("")

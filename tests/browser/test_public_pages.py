"""The public pages (issue 10 item 6; seed 002 第一条) on a desktop and a phone: the public searches a list by name and
by case number and pages through it, opens a court's information page; the court's administrator edits that page in
the console and the public page shows it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import func, select

from db.models import Case, PublicListEntry
from domain.identity import mod11_check
from tests.api.helpers import eventually
from tests.browser.conftest import Console, login

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots/identity-public")


def _respondent(i: int) -> dict[str, str]:
    first17 = f"53010219850505{i:03d}"
    return {
        "name": f"被执行人{i:02d}",
        "id_number": first17 + mod11_check(first17),
        "address": f"云南省昆明市五华区某路{i}号",
    }


@pytest.fixture(autouse=True)
def _shots() -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)


async def _listed(console: Console) -> int:
    async with console.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(PublicListEntry)) or 0)


async def _fits(page: Page, width: int) -> None:
    assert await page.evaluate("document.documentElement.scrollWidth") <= width  # nothing wider than the screen


@pytest.mark.parametrize("width", [1366, 390])
async def test_the_public_searches_a_list_pages_through_it_and_reads_the_court_information(
    page: Page, console: Console, width: int
) -> None:
    await page.set_viewport_size({"width": width, "height": 900})
    await console.file_case(respondents=[_respondent(i) for i in range(12)])
    await console.file_case(respondents=[{"name": "云南某某建材有限公司", "id_number": "91350100M000100Y43"}])
    assert await eventually(lambda: _listed(console), lambda n: n == 13, seconds=20) == 13

    await page.goto("/public")
    await expect(page.locator(".pub-list").first).to_contain_text("未结执行实施案件")
    await expect(page.locator(".pub-list").first).to_contain_text("13")
    await _fits(page, width)
    await page.screenshot(path=SHOTS / f"index-{width}.png", full_page=True)

    # by name, from the index's search form
    await page.locator("#quick-search [name=q]").fill("建材")
    await page.locator("#quick-search").get_by_role("button", name="查找").click()
    await expect(page).to_have_url(re.compile(r"/public/lists/unfinished-cases\?q="))
    rows = page.locator("#results tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("云南某某建材有限公司")
    await expect(rows.first).to_contain_text("9135************43")  # masked as the JSON is
    await expect(page.locator("#results")).not_to_contain_text("91350100M000100Y43")

    # by case number (typed with half-width brackets), then page through
    number = (await page.locator("#results tbody td[data-label=案号]").first.inner_text()).strip()
    other_case = (await _case_numbers(console)) - {number}
    assert len(other_case) == 1
    search = page.locator("form[role=search] [name=q]")
    await search.fill(other_case.pop().replace("（", "(").replace("）", ")"))
    await page.locator("form[role=search]").get_by_role("button", name="查找").click()
    await expect(page.locator(".pub-summary")).to_contain_text("共 12 条，第 1–10 条")
    await expect(rows).to_have_count(10)
    await expect(page.locator(".pager")).to_contain_text("第 1 / 2 页")
    await expect(page.locator("#results")).not_to_contain_text("19850505")  # the birth date is masked away
    await _fits(page, width)
    await page.screenshot(path=SHOTS / f"list-page1-{width}.png", full_page=True)
    await page.get_by_role("link", name="下一页").click()
    await expect(page.locator(".pager")).to_contain_text("第 2 / 2 页")
    await expect(rows).to_have_count(2)
    await expect(page.locator(".pub-summary")).to_contain_text("第 11–12 条")
    await page.screenshot(path=SHOTS / f"list-page2-{width}.png", full_page=True)
    await page.get_by_role("link", name="上一页").click()
    await expect(page.locator(".pager")).to_contain_text("第 1 / 2 页")

    # the court information page
    await page.goto("/public")
    await page.get_by_role("link", name="昆明市五华区人民法院").click()
    await expect(page.locator("h1")).to_have_text("昆明市五华区人民法院")
    for title in ("申请执行指南", "收费标准", "执行风险提示", "监督电话", "执行局长信箱"):
        await expect(page.locator(".pub-section h2", has_text=title)).to_be_visible()
    await expect(page.locator("#s4")).to_contain_text("12368")
    await _fits(page, width)
    await page.screenshot(path=SHOTS / f"court-{width}.png", full_page=True)


async def _case_numbers(console: Console) -> set[str]:
    async with console.sessions() as s:
        return set((await s.scalars(select(Case.case_number))).all())


@pytest.mark.parametrize("width", [1366, 390])
async def test_the_court_admin_edits_the_information_and_the_public_page_shows_it(
    page: Page, console: Console, width: int
) -> None:
    await page.set_viewport_size({"width": width, "height": 900})
    await login(page, "admin")
    await page.get_by_role("link", name="本院公开信息").click()
    await expect(page).to_have_url(re.compile(r"/admin/court-information$"))
    form = page.locator("#court-information")
    await expect(form.locator("[name=hotline]")).to_have_value(re.compile("12368"))
    await form.locator("[name=hotline]").fill("执行监督电话：0871-63000000\n举报邮箱：jiandu@example.cn")
    await form.locator("[name=risk]").fill("第一段风险提示。\n\n第二段 <b>不是粗体</b>")
    await _fits(page, width)
    await page.screenshot(path=SHOTS / f"admin-form-{width}.png", full_page=True)
    await form.get_by_role("button", name="保存").click()

    await expect(page.locator(".alert-ok")).to_contain_text("已保存")
    changes = page.locator("#changes tbody tr")
    await expect(changes).to_have_count(2)
    await expect(page.locator("#changes")).to_contain_text("孙信息")
    await expect(page.locator("#changes")).to_contain_text("监督电话")
    await page.screenshot(path=SHOTS / f"admin-saved-{width}.png", full_page=True)

    public = await page.context.new_page()  # the public: no login needed
    await public.goto("/public/courts/YN0102")
    await expect(public.locator("#s4")).to_contain_text("执行监督电话：0871-63000000")
    await expect(public.locator("#s4")).to_contain_text("举报邮箱：jiandu@example.cn")
    await expect(public.locator("#s3 p")).to_have_count(3)  # two paragraphs and the date of the change
    await expect(public.locator("#s3")).to_contain_text("第二段 <b>不是粗体</b>")  # shown as text
    await expect(public.locator("#s3 b")).to_have_count(0)
    await public.set_viewport_size({"width": width, "height": 900})
    await public.screenshot(path=SHOTS / f"court-edited-{width}.png", full_page=True)

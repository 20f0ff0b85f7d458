"""The bureau chief assigns a case's handler and clerk on the case page (seed 004), on a desktop and a phone."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import Console, login

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [1366, 390])
async def test_bureau_chief_assigns_the_handler_of_an_unassigned_case(page: Page, console: Console, width: int) -> None:
    await page.set_viewport_size({"width": width, "height": 900})
    case_id = await console.file_case(handler=None, clerk=None)
    await login(page, "bureau_chief")
    await page.goto(f"/cases/{case_id}")
    facts = page.locator(".facts")
    await expect(facts).to_contain_text("未指定")
    await page.get_by_text("指定承办人、书记员").click()
    form = page.locator("details.assign form")
    await form.locator("[name=handler]").select_option("handler")
    await form.locator("[name=clerk]").select_option("clerk")
    await page.screenshot(path=f"/tmp/yg-assign-form-{width}.png", full_page=True)
    await form.get_by_role("button", name="确定").click()

    await expect(page).to_have_url(re.compile(rf"/cases/{case_id}\?notice=assigned$"))
    await expect(page.locator(".alert-ok")).to_contain_text("承办人已指定")
    await expect(facts).to_contain_text("王承办")
    await expect(page.locator("#nodes")).to_contain_text("确定承办人")
    width_of_page = await page.evaluate("document.documentElement.scrollWidth")
    assert width_of_page <= width  # nothing wider than the screen
    await page.screenshot(path=f"/tmp/yg-assigned-{width}.png", full_page=True)


async def test_the_handler_sees_no_assignment_form(page: Page, console: Console) -> None:
    case_id = await console.file_case()
    await login(page, "handler")
    await page.goto(f"/cases/{case_id}")
    await expect(page.locator("h1")).to_be_visible()
    await expect(page.locator("details.assign")).to_have_count(0)

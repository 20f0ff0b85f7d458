"""The case page's 期限 table in Chromium on a phone: the ladder times beside the due instant, an open deadline
that has passed marked 已超期, and the table within a 390 px wide screen (no sideways scrolling)."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta

import pytest
from playwright.async_api import Page, ViewportSize, expect
from sqlalchemy import select

from db.models import ObligationRow
from domain.clock import BEIJING
from tests.browser.conftest import Console, login

pytestmark = pytest.mark.browser

PHONE: ViewportSize = {"width": 390, "height": 844}
FILED_40_DAYS_AGO = (datetime.now(BEIJING).date() - timedelta(days=40)).isoformat()


async def _obligation_rules(console: Console, case_id: str, *rules: str) -> dict[str, ObligationRow]:
    """The case's obligations once the workflow saved one of each of ``rules``."""
    for _ in range(400):
        async with console.sessions() as s:
            rows = {r.rule: r for r in await s.scalars(select(ObligationRow).where(ObligationRow.case_id == case_id))}
        if set(rules) <= set(rows):
            return rows
        await asyncio.sleep(0.05)
    raise AssertionError(f"obligations {rules} never saved")


async def test_the_deadline_table_shows_the_ladder_and_fits_a_phone(page: Page, console: Console) -> None:
    case_id = await console.file_case(filed_on=FILED_40_DAYS_AGO)
    rows = await _obligation_rules(console, case_id, "investigate-1m", "term-6m", "feedback")
    await page.set_viewport_size(PHONE)
    await login(page, "handler")
    await page.goto(f"/cases/{case_id}")

    table = page.locator("#obligations table.ladder-table")
    overdue = table.locator("tbody tr.overdue")
    await expect(overdue).to_have_count(1)
    await expect(overdue).to_contain_text(rows["investigate-1m"].subject)
    await expect(overdue.locator(".due-late")).to_have_text(re.compile(r"^已超期\d+天$"))  # days overdue, Beijing days
    term = table.locator("tbody tr", has_text=rows["term-6m"].subject)
    await expect(term).not_to_contain_text("已超期")
    remind = rows["term-6m"].remind_at
    assert remind is not None
    day = remind.astimezone(BEIJING).date()
    await expect(term.locator("td[data-label=提醒承办人]")).to_have_text(f"{day.year}年{day.month}月{day.day}日")
    await expect(term.locator("td[data-label=提醒承办人]")).to_be_visible()

    fits = await page.evaluate(
        """() => {
            const table = document.querySelector('#obligations table.ladder-table');
            const wrap = table.closest('.table-wrap');
            return {right: table.getBoundingClientRect().right, scroll: wrap.scrollWidth, client: wrap.clientWidth};
        }"""
    )
    assert fits["right"] <= PHONE["width"] and fits["scroll"] <= fits["client"], fits

    await page.set_viewport_size({"width": 1280, "height": 800})  # a desk screen keeps the columns
    await expect(table.locator("thead th")).to_have_text(["事项", "提醒承办人", "预警局长", "届满", "状态", "已督办"])

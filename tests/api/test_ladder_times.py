"""Obligations show their ladder (API.md → Obligations show their ladder; seed 004): every obligation of
GET /api/cases/{id} carries the handler's reminder and the bureau chief's warning beside its due instant, 00:00
Beijing of the day N working days before the due day, on the same working-day calendar as GET /api/periods; the
case page's 期限 table shows them and marks an open deadline that has passed 已超期."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any

from domain.clock import BEIJING
from domain.rules import CURRENT_VERSION, rule_set
from tests.api.conftest import Api
from tests.api.helpers import case_body, eventually

RULES = rule_set(CURRENT_VERSION)
TODAY = datetime.now(BEIJING).date()
FILED_40_DAYS_AGO = (TODAY - timedelta(days=40)).isoformat()  # investigate-1m overdue, feedback:1 not yet


async def _file(api: Api, **overrides: Any) -> str:
    r = await api.as_("registrar", "POST", "/api/cases", json=case_body(**overrides))
    assert r.status_code == 201, r.text
    case_id: str = r.json()["case_id"]
    return case_id


async def _case(api: Api, case_id: str, *rules: str) -> dict[str, Any]:
    """The case once the workflow saved an obligation of each of ``rules``."""
    r = await eventually(
        lambda: api.as_("handler", "GET", f"/api/cases/{case_id}"),
        lambda r: set(rules) <= {o["rule"] for o in r.json()["obligations"]},
        seconds=20,
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    assert set(rules) <= {o["rule"] for o in body["obligations"]}, body["obligations"]
    return body


def _beijing(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(BEIJING)


async def _period(api: Api, start: date, length: int, unit: str) -> dict[str, Any]:
    r = await api.as_(
        "handler", "GET", "/api/periods", params={"start": start.isoformat(), "length": length, "unit": unit}
    )
    assert r.status_code == 200, r.text
    period: dict[str, Any] = r.json()
    return period


async def test_every_obligation_carries_its_reminder_and_warning_on_the_working_day_calendar(api: Api) -> None:
    case = await _case(api, await _file(api), "investigate-1m", "term-6m")
    assert case["rule_version"] == CURRENT_VERSION
    ladder = RULES.ladder
    for ob in case["obligations"]:
        remind, warn, due = _beijing(ob["remind_at"]), _beijing(ob["warn_at"]), _beijing(ob["due_at"])
        assert remind.time() == warn.time() == time(0, 0), ob  # 00:00 Beijing of their day
        assert remind < due and warn < due, ob
        if ladder.remind_before_working_days == ladder.warn_before_working_days:
            assert remind == warn, ob  # the default: one working day before, both
        for moment, n in ((remind, ladder.remind_before_working_days), (warn, ladder.warn_before_working_days)):
            day = moment.date()
            # A working day (the first working day after the day before it is itself) …
            assert (await _period(api, day - timedelta(days=1), 1, "working_days"))["last_day"] == day.isoformat()
            # … and N working days after it is the due day.
            assert (await _period(api, day, n, "working_days"))["last_day"] == due.date().isoformat(), ob

    # The due instants themselves are GET /api/periods' ends_at from the filing day.
    for rule_id in ("investigate-1m", "term-6m"):
        ob = next(o for o in case["obligations"] if o["rule"] == rule_id)
        rule = RULES.rule(rule_id)
        period = await _period(api, _beijing(ob["opened_at"]).date(), rule.length, rule.unit)
        assert _beijing(ob["due_at"]) == _beijing(period["ends_at"]), (ob, period)
        assert ob["confirmed"] == period["confirmed"], (ob, period)


def _obligation_rows(html: str) -> list[str]:
    section = html[html.index('id="obligations"') :]
    table = section[: section.index("</table>")]
    return re.findall(r"<tr[ >].*?</tr>", table[table.index("<tbody>") :], flags=re.S)


async def test_the_case_page_shows_the_ladder_and_marks_an_overdue_deadline(api: Api) -> None:
    case_id = await _file(api, filed_on=FILED_40_DAYS_AGO)
    case = await _case(api, case_id, "investigate-1m", "term-6m", "feedback")
    obligations = {o["rule"]: o for o in case["obligations"]}
    assert obligations["investigate-1m"]["status"] == "open"

    token = (await api.login("handler"))["Authorization"].removeprefix("Bearer ")
    api.http.cookies.set("yg_token", token)
    try:
        page = await api.http.get(f"/cases/{case_id}")
    finally:
        api.http.cookies.clear()
    assert page.status_code == 200, page.text
    head = page.text[page.text.index('id="obligations"') :]
    head = head[: head.index("</thead>")]
    assert re.findall(r"<th>(.*?)</th>", head) == ["事项", "提醒承办人", "预警局长", "届满", "状态", "已督办"]
    assert "提醒承办人：期限届满前1个工作日" in page.text

    rows = {
        ob["rule"]: row for ob in case["obligations"] for row in _obligation_rows(page.text) if ob["subject"] in row
    }
    for rule_id in ("investigate-1m", "term-6m", "feedback"):
        ob, row = obligations[rule_id], rows[rule_id]
        for moment in (ob["remind_at"], ob["warn_at"]):
            day = _beijing(moment).date()
            assert f"{day.year}年{day.month}月{day.day}日" in row, (rule_id, row)
    assert "已超期" in rows["investigate-1m"] and 'class="overdue"' in rows["investigate-1m"]
    for rule_id in ("term-6m", "feedback"):  # still running
        assert "已超期" not in rows[rule_id], rows[rule_id]

"""Every message a court user reads is Chinese (issue 11 item 5): the JSON API's 422 names fields in Chinese from
the one table the console's forms use too; unknown console paths are the staff 404 page, the API's stay JSON; the
outbox names every SMS reason in words; the home page's query runs on both databases, filtered and paged."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, func, select

from api.errors import FIELD_LABELS, field_label
from db.models import Case
from domain.clock import BEIJING
from tests.api.conftest import Api
from tests.api.helpers import case_body, eventually


def test_one_label_table_names_every_field_of_the_forms_in_chinese() -> None:
    assert field_label(("body", "applicants", 1, "phone")) == "第2位申请执行人的手机号码"
    assert field_label(("body", "respondents", 0, "id_number")) == "第1位被执行人的证件号码"
    assert field_label(("body", "measures")) == "已采取的执行措施"
    assert field_label(("body", "no_such_field")) == ""
    for label in FIELD_LABELS.values():
        assert re.search(r"[\u4e00-\u9fff]", label), label


async def test_a_422_from_the_api_names_the_field_in_chinese_and_files_nothing(api: Api) -> None:
    body = case_body()
    body["applicants"].append({"name": "", "phone": "13800138999"})
    body["amount"] = "一万元"

    r = await api.as_("registrar", "POST", "/api/cases", json=body)

    assert r.status_code == 422, r.text
    assert r.json()["error"] == "InvalidInput"
    detail = r.json()["detail"]
    assert "第2位申请执行人的姓名或名称（applicants.1.name）至少 1 个字符" in detail, detail
    assert "金额（amount）应为数字" in detail, detail
    async with api.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Case)) == 0


async def test_unknown_console_paths_are_the_chinese_404_page_and_api_paths_stay_json(api: Api) -> None:
    staff = await api.login("handler")
    api.http.cookies.set("yg_token", staff["Authorization"].removeprefix("Bearer "), domain="yg.test", path="/")

    page = await api.http.get("/no-such-page")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "未找到该页面" in page.text and "王承办" in page.text  # the console's bar: the user is signed in

    api.http.cookies.clear()
    anonymous = await api.http.get("/cases/x/y/z")
    assert anonymous.status_code == 404 and "未找到该页面" in anonymous.text

    json_404 = await api.http.get("/api/no-such-endpoint")
    assert json_404.status_code == 404
    assert set(json_404.json()) == {"error", "detail"} and json_404.json()["error"] == "NotFound"


async def test_the_outbox_names_every_reason_in_words(api: Api) -> None:
    """Filing, a node, a feedback and an extension request: none of their outbox reasons shows as a key."""
    r = await api.as_("registrar", "POST", "/api/cases", json=case_body())
    case_id = r.json()["case_id"]
    measures = {"measures": "已冻结被执行人银行存款", "next_steps": "拟评估拍卖其车辆"}
    assert (await api.as_("handler", "POST", f"/api/cases/{case_id}/feedback", json=measures)).status_code == 201
    ext = {"months": 3, "reason": "被执行人财产正在拍卖"}
    assert (await api.as_("handler", "POST", f"/api/cases/{case_id}/extensions", json=ext)).status_code == 201

    async def reasons() -> list[str]:
        listed = await api.as_("handler", "GET", f"/api/sms?case_id={case_id}")
        return [m["reason"] for m in listed.json()]

    sent = ("filed", "feedback:", "request:")
    raw = await eventually(reasons, lambda rs: all(any(x.startswith(k) for x in rs) for k in sent), seconds=30)
    assert all(any(x.startswith(k) for x in raw) for k in sent), raw
    staff = await api.login("vice_president")
    api.http.cookies.set("yg_token", staff["Authorization"].removeprefix("Bearer "), domain="yg.test", path="/")
    page = (await api.http.get("/outbox")).text
    for key in ("filed", "feedback:", "request:", "node:", "rungs:"):
        assert f">{key}" not in page, key
    assert "执行进展反馈" in page and "立案通知" in page


async def _home(api: Api, username: str, query: str = "") -> str:
    staff = await api.login(username)
    api.http.cookies.set("yg_token", staff["Authorization"].removeprefix("Bearer "), domain="yg.test", path="/")
    r = await api.http.get("/" + query)
    assert r.status_code == 200, r.text
    return r.text


async def test_my_cases_are_searched_filtered_and_paged_on_both_databases(api: Api) -> None:
    today = datetime.now(BEIJING).date()
    bodies: list[dict[str, Any]] = [case_body() for _ in range(21)]
    bodies.append(
        case_body(
            filed_on=(today - timedelta(days=45)).isoformat(), applicants=[{"name": "欧阳某某", "phone": "13912345671"}]
        )
    )
    bodies.append(case_body(handler="handler", clerk=None, applicants=[{"name": "钱七", "phone": "13912345672"}]))
    for body in bodies:
        assert (await api.as_("registrar", "POST", "/api/cases", json=body)).status_code == 201

    page = await _home(api, "handler")
    assert "共 23 件，第 1/2 页" in page
    assert page.count('data-label="案号"') == 20
    assert "下一页" in page
    second = await _home(api, "handler", "?page=2")
    assert second.count('data-label="案号"') == 3

    # the cost of a page does not grow with its rows: 20 rows take no more statements than 1 (no N+1); the margin
    # is for the app's background loops, which share its engine
    engine = api.app.state.sessions.kw["bind"].sync_engine
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        await _home(api, "handler")
        full = len(statements)
        statements.clear()
        await _home(api, "handler", "?q=欧阳")
        one = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert one > 0 and full <= one + 3, (full, one)

    found = await _home(api, "handler", "?q=欧阳")
    assert found.count('data-label="案号"') == 1 and "欧阳某某" in found and "已超期" in found
    overdue = await _home(api, "handler", "?overdue=1&rule=investigate-1m")
    assert overdue.count('data-label="案号"') == 1 and "欧阳某某" in overdue
    assert "没有符合条件的案件" in await _home(api, "handler", "?q=%25")  # a % is searched for, not a wildcard
    clerk = await _home(api, "clerk")
    assert "共 22 件" in clerk  # the clerk's own cases: not the one filed without a clerk
    assert "共 0 件" not in await _home(api, "handler2") and "暂无案件" in await _home(api, "handler2")


def test_every_outbox_reason_is_said_in_words() -> None:
    from api.routes.pages import _reason

    said = {
        reason: _reason(reason, {"n1": "冻结"})
        for reason in (
            "filed",
            "node:n1",
            "rungs:3",
            "feedback:f1",
            "eservice:d1",
            "agent:7",
            "dismissal:7",
            "correction:7",
            "message:m1",
            "reply:m1",
            "request:ext-1",
            "decision:ext-1",
            "something-new:0b7e",
        )
    }
    assert said["node:n1"] == "节点通知：冻结" and said["feedback:f1"] == "执行进展反馈"
    for reason, words in said.items():
        assert re.fullmatch(r"[\u4e00-\u9fff：，、（）]+", words), (reason, words)
